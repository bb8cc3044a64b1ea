import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryPages, validateXML } from 'xmllint-wasm';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  t: 'http://schemas.microsoft.com/exchange/services/2006/types',
  m: 'http://schemas.microsoft.com/exchange/services/2006/messages',
};

/** A request envelope as ews-javascript-api writes one (Exchange2016, UTC, optional impersonation). */
export function envelope(body: string, opts: { impersonate?: string; header?: string } = {}): string {
  const imp = opts.impersonate
    ? `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${opts.impersonate}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
    : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.t}" xmlns:m="${NS.m}">` +
    `<soap:Header><t:RequestServerVersion Version="Exchange2016"/>${imp}${opts.header ?? ''}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export async function post(url: string, xml: string, token?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: xml,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function startTagEnd(xml: string, from: number): number {
  return xml.indexOf('>', from) + 1;
}

/** xmlns declarations on a start tag. */
function declarations(tag: string): string[] {
  return [...tag.matchAll(/\sxmlns(?::[\w.-]+)?="[^"]*"/g)].map((m) => m[0]);
}

/**
 * The first child of soap:Body (or soap:Header) as a standalone document: namespace declarations
 * made on Envelope/Body are copied onto it so that it parses alone.
 */
export function extractPart(xml: string, part: 'Body' | 'Header'): string {
  const envStart = xml.search(/<[\w]+:Envelope[\s>]/);
  const envTag = xml.slice(envStart, startTagEnd(xml, envStart));
  const open = new RegExp(`<([\\w]+):${part}[\\s>/]`).exec(xml);
  if (!open) throw new Error(`no ${part} in response`);
  const partTagEnd = startTagEnd(xml, open.index);
  const partTag = xml.slice(open.index, partTagEnd);
  const close = xml.indexOf(`</${open[1]}:${part}>`, partTagEnd);
  let inner = xml.slice(partTagEnd, close).trim();
  const childTagEnd = startTagEnd(inner, 0);
  const childTag = inner.slice(0, childTagEnd);
  const have = new Set(declarations(childTag).map((d) => d.split('=')[0].trim()));
  const extra = [...declarations(envTag), ...declarations(partTag)].filter((d) => {
    const k = d.split('=')[0].trim();
    if (have.has(k)) return false;
    have.add(k);
    return true;
  });
  const selfClosing = childTag.endsWith('/>');
  const insertAt = selfClosing ? childTagEnd - 2 : childTagEnd - 1;
  inner = inner.slice(0, insertAt) + extra.join('') + inner.slice(insertAt);
  return inner;
}

const FIXTURES = join(__dirname, '..', 'ews-sim', 'fixtures');
const SCHEMA_FILES = ['xml.xsd', 'messages.xsd', 'types.xsd', 'soap-envelope.xsd'];

/**
 * Validates documents against the EXO 2018 schemas with libxml2's schema validator (xmllint-wasm:
 * the same libxml2 as the system `xmllint --schema`, compiled to WebAssembly, so no system package
 * is needed). Returns the failures (document label and libxml2's complaint), empty when every
 * document validates.
 */
export async function validateAll(docs: { label: string; xml: string }[]): Promise<string[]> {
  const [entry, ...preload] = await Promise.all(
    ['ews.xsd', ...SCHEMA_FILES].map(async (fileName) => ({ fileName, contents: await readFile(join(FIXTURES, fileName), 'utf8') })),
  );
  const result = await validateXML({
    xml: docs.map((d, i) => ({ fileName: `${String(i).padStart(3, '0')}-${d.label.replace(/[^\w.-]+/g, '_')}.xml`, contents: d.xml })),
    schema: [entry],
    preload,
    maxMemoryPages: memoryPages.GiB,
  });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}
