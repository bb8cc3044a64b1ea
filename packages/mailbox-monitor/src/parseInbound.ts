import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';

export interface ParsedAddress {
  name: string;
  address: string;
}

export interface ParsedInbound {
  /** Message-ID without angle brackets, or null */
  messageId: string | null;
  /** `mid:<Message-ID>`, else `sha256:<hex of the raw bytes>` */
  dedupKey: string;
  from: ParsedAddress[];
  to: ParsedAddress[];
  cc: ParsedAddress[];
  subject: string | null;
  /** ISO 8601 of the Date header, or null when absent or unparseable */
  date: string | null;
  text: string | null;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

function addresses(v: AddressObject | AddressObject[] | undefined): ParsedAddress[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  const out: ParsedAddress[] = [];
  const walk = (entries: AddressObject['value']) => {
    for (const e of entries) {
      if (e.group) walk(e.group);
      else if (e.address) out.push({ name: e.name ?? '', address: e.address });
    }
  };
  for (const a of list) walk(a.value);
  return out;
}

/**
 * Parses a raw RFC 822 message with mailparser (RFC 2047 headers, MIME parts, charsets): headers,
 * text and HTML bodies, and each attachment's name, type and size in bytes (decoded).
 */
export async function parseInbound(raw: Buffer): Promise<ParsedInbound> {
  const mail: ParsedMail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const messageId = mail.messageId ? mail.messageId.trim().replace(/^<|>$/g, '') : null;
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null;
  return {
    messageId: messageId || null,
    dedupKey: messageId ? `mid:${messageId}` : `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    from: addresses(mail.from),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    subject: mail.subject ?? null,
    date,
    text: mail.text ?? null,
    html: typeof mail.html === 'string' ? mail.html : null,
    attachments: mail.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
  };
}

/** One attachment's bytes, by its index in `attachments`; null when there is no such attachment. */
export async function extractAttachment(raw: Buffer, index: number): Promise<{ filename: string | null; contentType: string; content: Buffer } | null> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const a = mail.attachments[index];
  return a ? { filename: a.filename ?? null, contentType: a.contentType, content: a.content } : null;
}
