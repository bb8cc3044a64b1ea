/**
 * The one-pass reader (packages/ews-client/src/reply) against ews-javascript-api's object model:
 * both read paths of the same session type (`readPath`), over real HTTP, must give the same
 * pages, items and errors
 * - on every answer of the hot read operations in the Microsoft reference set
 *   (tests/fixtures/ews-reference, served as Exchange would send them),
 * - on generated appointments and contacts written into the EWS simulator (fast-check),
 * - and with the simulator's answers rewritten with random namespace prefixes and whitespace for
 *   the one-pass reader (the library reads the originals).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Contact, ItemKind } from '@exsync/canonical';
import { openMailbox, type EwsMailbox, type OpenMailboxOptions } from '../../packages/ews-client/src/mailboxSession';
import { soapOperation } from '../../packages/ews-client/src/transport';
import { appointmentArb, contactArb } from '../mappers/generators';
import { ALICE, collectPages, startSimHarness, type SimHarness } from '../support/sims';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'ews-reference');

/** Results as plain data (undefined fields dropped), errors as their kind and code. */
function comparable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (v && typeof v === 'object' && 'kind' in v && v instanceof Error) return { error: (v as { kind: string }).kind, code: (v as { code?: string }).code };
      return v;
    }),
  );
}

async function outcome<T>(run: () => Promise<T>): Promise<unknown> {
  try {
    return comparable(await run());
  } catch (e) {
    return comparable({ thrown: e });
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

const USER_CONFIGURATION_NOT_FOUND =
  '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
  '<m:GetUserConfigurationResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages>' +
  '<m:GetUserConfigurationResponseMessage ResponseClass="Error"><m:MessageText>not found</m:MessageText><m:ResponseCode>ErrorItemNotFound</m:ResponseCode>' +
  '</m:GetUserConfigurationResponseMessage></m:ResponseMessages></m:GetUserConfigurationResponse></s:Body></s:Envelope>';

describe('the reference set, read both ways', () => {
  let server: Server;
  let url: string;
  let answer = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const op = soapOperation(body);
        const text = op === 'GetUserConfiguration' ? USER_CONFIGURATION_NOT_FOUND : answer;
        res.writeHead(/<(\w+:)?Fault[\s>]/.test(text) ? 500 : 200, { 'content-type': 'text/xml; charset=utf-8' });
        res.end(text);
      });
    });
    url = await listen(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const open = (readPath: OpenMailboxOptions['readPath']) =>
    openMailbox({
      ewsUrl: `${url}/EWS/Exchange.asmx`,
      smtpAddress: 'ref@contoso.example',
      mode: 'app-only',
      getAccessToken: async () => 'reference-token',
      timeoutMs: 10_000,
      readPath,
    });

  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml'));
  it('covers every hot-operation answer copied from the reference set', () => {
    expect(files.filter((f) => f.startsWith('getitem-')).length).toBeGreaterThanOrEqual(6);
    expect(files.filter((f) => /syncfolderitems/.test(f)).length).toBeGreaterThanOrEqual(5);
  });

  for (const file of files) {
    it(file, async () => {
      // a documentation artifact: Learn's pipeline rewrote the SOAP namespace to https (fixtures README)
      answer = readFileSync(path.join(FIXTURES, file), 'utf8').replaceAll('https://schemas.xmlsoap.org/', 'http://schemas.xmlsoap.org/');
      const messages = Math.max(1, answer.match(/<(?:[\w.-]+:)?\w+ResponseMessage[\s>]/g)?.length ?? 1);
      const ids = Array.from({ length: messages }, (_, i) => `reference-id-${i}`);
      const reads: Record<string, (mb: EwsMailbox) => Promise<unknown>> = /syncfolderitems/.test(file)
        ? { calendar: (mb) => collectPages(mb, 'calendar'), contacts: (mb) => collectPages(mb, 'contacts') }
        : { appointment: (mb) => mb.getItems('appointment', ids), contact: (mb) => mb.getItems('contact', ids) };
      for (const read of Object.values(reads)) {
        const library = await outcome(() => read(open('ews-javascript-api')));
        const onePass = await outcome(() => read(open('one-pass')));
        expect(onePass).toEqual(library);
      }
    });
  }
});

/** The same document with every namespace prefix renamed at random and random whitespace between tags and attributes. */
function rewrite(xml: string, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  const prefixes = new Set([...xml.matchAll(/xmlns:([\w.-]+)=/g)].map((m) => m[1]));
  const names = new Map([...prefixes].map((p, i) => [p, `${'abcdefghijklmnopqrstuvwxyz'[pick(26)]}${i}${['', '_x', '.y', '-z'][pick(4)]}`]));
  const ws = () => [' ', '\n', '\t', '\r\n  ', '    '][pick(5)].repeat(1 + pick(3));
  return xml
    .replace(/(<\/?|xmlns:)([\w.-]+):?/g, (m, lead: string, name: string) => {
      if (lead === 'xmlns:') return `xmlns:${names.get(name) ?? name}`;
      return m.endsWith(':') && names.has(name) ? `${lead}${names.get(name)}:` : m;
    })
    .replace(/>\s*</g, () => `>${ws()}<`)
    .replace(/"(\s*)(\/?>)/g, (_m, _s, close: string) => `"${ws()}${close}`);
}

describe('generated items in the simulator, read both ways', () => {
  let h: SimHarness;
  let proxy: Server;
  let proxyUrl: string;
  let seed = 1;
  beforeAll(async () => {
    h = await startSimHarness();
    // a real HTTP hop that hands the one-pass reader the simulator's answers with other prefixes and whitespace
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', async () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === 'string' && !['host', 'content-length', 'accept-encoding', 'connection'].includes(k)) headers[k] = v;
        const upstream = await fetch(h.sim.ewsUrl, { method: 'POST', headers, body: Buffer.concat(chunks) });
        let state = seed++;
        const rnd = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
        const text = rewrite(await upstream.text(), rnd);
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/xml' });
        res.end(text);
      });
    });
    proxyUrl = await listen(proxy);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await h?.close();
  });

  async function compare(kind: ItemKind, items: (Appointment | Contact)[], viaProxy: boolean): Promise<void> {
    const folder = kind === 'appointment' ? 'calendar' : 'contacts';
    const writer = h.appOnly(ALICE.email);
    const created = await writer.createItems(kind, items.map((item, i) => ({ tag: `gen-${seed}-${i}`, item })) as never);
    const ids = created.flatMap((r) => (r.ok ? [r.value.itemId] : []));
    const library = h.appOnly(ALICE.email, { readPath: 'ews-javascript-api' });
    const onePass = viaProxy
      ? h.appOnly(ALICE.email, { readPath: 'one-pass', ewsUrl: `${proxyUrl}/EWS/Exchange.asmx` })
      : h.appOnly(ALICE.email, { readPath: 'one-pass' });
    expect(comparable(await collectPages(onePass, folder))).toEqual(comparable(await collectPages(library, folder)));
    const a = comparable(await library.getItems(kind, ids)) as unknown[];
    const b = comparable(await onePass.getItems(kind, ids)) as unknown[];
    expect(b).toHaveLength(ids.length);
    b.forEach((r, i) => expect(r, `item ${i}`).toEqual(a[i]));
    await writer.deleteItems(ids);
  }

  for (const viaProxy of [false, true]) {
    const how = viaProxy ? 'answers with random prefixes and whitespace' : 'answers as the simulator writes them';
    it(`appointments (series with moved and deleted occurrences included), ${how}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(appointmentArb, { minLength: 1, maxLength: 6 }), (items) => compare('appointment', items, viaProxy)),
        { numRuns: 12 },
      );
    }, 120_000);
    it(`contacts, ${how}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(contactArb, { minLength: 1, maxLength: 6 }), (items) => compare('contact', items, viaProxy)),
        { numRuns: 12 },
      );
    }, 120_000);
  }

  it('the rewriting really changes prefixes and whitespace', () => {
    const original = '<s:Envelope xmlns:s="x"><s:Body><t:A xmlns:t="y" Id="1"/></s:Body></s:Envelope>';
    let state = 7;
    const out = rewrite(original, () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    expect(out).not.toContain('<s:');
    expect(out).not.toContain('<t:');
    expect(out).toMatch(/>\s+</);
  });
});
