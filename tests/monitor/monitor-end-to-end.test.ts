/**
 * The mailbox monitor end to end with real servers (Dovecot over IMAP with XOAUTH2, smtp-server
 * over SMTP with XOAUTH2, the Entra simulator's delegated tokens): 200 varied messages (plain,
 * HTML, multipart with attachments, non-ASCII headers, one of 10 MB) reach the CRM feed once each
 * and in order, are \Seen and moved; an attachment downloads byte for byte; a message the CRM
 * marks failed is forwarded over SMTP as an attachment and sits in the failed folder.
 */
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeMessage, FORWARD_TO, startMonitorStack, waitFor, type MonitorStack } from '../support/monitor';

const ALICE = 'alice@contoso.example';
const COUNT = 200;

interface Sent {
  subject: string;
  messageId: string;
  raw: Buffer;
  attachments: { filename: string; content: Buffer; contentType: string }[];
}

async function variedMessage(i: number): Promise<Sent> {
  const messageId = `<m${i}.${randomBytes(4).toString('hex')}@sender.example>`;
  const kind = i === 100 ? 'large' : ['plain', 'html', 'multipart', 'unicode'][i % 4];
  const subject = kind === 'unicode' ? `Bewerbung Nr. ${i} – Müller, Zoë 日本語 ✓` : `${kind} message ${i}`;
  const attachments: Sent['attachments'] = [];
  if (kind === 'multipart') {
    attachments.push({ filename: `cv-${i}.pdf`, content: randomBytes(2000 + i * 13), contentType: 'application/pdf' });
    attachments.push({ filename: `photo ${i}.png`, content: randomBytes(700), contentType: 'image/png' });
  }
  if (kind === 'large') attachments.push({ filename: 'archive.zip', content: randomBytes(10 * 1024 * 1024), contentType: 'application/zip' });
  const raw = await composeMessage({
    from: kind === 'unicode' ? { name: 'Zoë Müller-Łukasz', address: 'zoe@sender.example' } : 'Sender <sender@sender.example>',
    to: ALICE,
    cc: i % 5 === 0 ? 'hr@contoso.example' : undefined,
    subject,
    messageId,
    date: new Date(Date.UTC(2026, 10, 1, 8, 0, i % 60)),
    text: kind === 'html' ? undefined : `Body of message ${i}\nÄÖÜ äöü ß`,
    html: kind === 'html' || kind === 'multipart' ? `<p>Message <b>${i}</b></p>` : undefined,
    attachments: attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
  });
  return { subject, messageId: messageId.slice(1, -1), raw, attachments };
}

describe('mailbox monitor end to end (Dovecot + smtp-server + Entra simulator)', () => {
  let stack: MonitorStack;
  let mailboxId: string;
  const sent: Sent[] = [];

  beforeAll(async () => {
    stack = await startMonitorStack();
    mailboxId = await stack.addMailbox(ALICE);
    stack.startMonitor();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`reads ${COUNT} messages once each, in order, then flags them \\Seen and moves them to "processed"`, async () => {
    for (let i = 0; i < COUNT; i++) {
      const m = await variedMessage(i);
      sent.push(m);
      await stack.mail.deliver(ALICE, m.raw);
    }
    const feed = await waitFor(
      'all messages in the feed',
      async () => {
        const f = await stack.feed();
        return f.length >= COUNT ? f : undefined;
      },
      120_000,
      500,
    );
    expect(feed.map((m) => m.messageId)).toEqual(sent.map((m) => m.messageId));
    expect(feed.map((m) => m.subject)).toEqual(sent.map((m) => m.subject));
    expect(feed.every((m) => m.mailboxId === mailboxId)).toBe(true);
    const unicode = feed[3];
    expect(unicode.from).toEqual([{ name: 'Zoë Müller-Łukasz', address: 'zoe@sender.example' }]);
    expect(feed[1].html).toContain('<b>1</b>');
    expect(feed[0].text).toContain('ÄÖÜ äöü ß');
    expect(feed[2].attachments.map((a) => [a.filename, a.contentType, a.size])).toEqual(
      sent[2].attachments.map((a) => [a.filename, a.contentType, a.content.length]),
    );
    expect(feed[100].attachments[0].size).toBe(10 * 1024 * 1024);

    const processed = await waitFor(
      'every message moved',
      async () => {
        const inbox = await stack.mail.readFolder(ALICE, 'INBOX');
        const p = await stack.mail.readFolder(ALICE, 'processed');
        return inbox.length === 0 && p.length === COUNT ? p : undefined;
      },
      30_000,
      300,
    );
    expect(processed.every((m) => m.flags.includes('\\Seen'))).toBe(true);
    expect(new Set(processed.map((m) => m.messageId)).size).toBe(COUNT);
    expect((await stack.mailbox(mailboxId)).state).toBe('idle');
  });

  it("pages the feed with opaque cursors of this organisation's feed only", async () => {
    const page = async (after?: string) =>
      stack.app.inject({
        method: 'GET',
        url: `/v1/orgs/${stack.orgId}/inbound-messages?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`,
        headers: stack.auth,
      });
    const feed = await stack.feed();
    const first = (await page()).json();
    expect(first.messages.map((m: { id: string }) => m.id)).toEqual(feed.slice(0, 2).map((m) => m.id));
    // opaque: no plain position that would count every organisation's messages
    for (const c of [first.next, ...first.messages.map((m: { cursor: string }) => m.cursor)]) expect(c).toMatch(/^c_[A-Za-z0-9_-]{22}$/);
    const second = (await page(first.next)).json();
    expect(second.messages.map((m: { id: string }) => m.id)).toEqual(feed.slice(2, 4).map((m) => m.id));
    // another organisation's cursor, or a change-feed cursor of this one, is no cursor here
    const other = await stack.app.inject({ method: 'POST', url: '/v1/orgs', headers: stack.auth, payload: { name: 'cursor other' } });
    const otherFeed = await stack.app.inject({
      method: 'GET',
      url: `/v1/orgs/${other.json().id}/inbound-messages?after=${encodeURIComponent(first.next)}`,
      headers: stack.auth,
    });
    expect(otherFeed.statusCode).toBe(400);
    expect(otherFeed.json().field).toBe('after');
    const changes = await stack.app.inject({ method: 'GET', url: `/v1/orgs/${stack.orgId}/changes?limit=1`, headers: stack.auth });
    const changeCursor = changes.json().next as string | null;
    if (changeCursor) expect((await page(changeCursor)).statusCode).toBe(400);
  });

  it('downloads an attachment on request with the original bytes', async () => {
    const feed = await stack.feed();
    for (const i of [2, 100]) {
      const att = sent[i].attachments[0];
      const r = await stack.app.inject({ method: 'GET', url: `/v1/orgs/${stack.orgId}/inbound-messages/${feed[i].id}/attachments/0`, headers: stack.auth });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe(att.contentType);
      expect(Buffer.compare(r.rawPayload, att.content)).toBe(0);
    }
    const missing = await stack.app.inject({ method: 'GET', url: `/v1/orgs/${stack.orgId}/inbound-messages/${feed[0].id}/attachments/3`, headers: stack.auth });
    expect(missing.statusCode).toBe(404);
  });

  it('forwards a message the CRM marks failed over SMTP, as an attachment, and moves it to "failed"', async () => {
    const feed = await stack.feed();
    const target = feed[7];
    const r = await stack.app.inject({
      method: 'POST',
      url: `/v1/orgs/${stack.orgId}/inbound-messages/${target.id}/fail`,
      headers: stack.auth,
      payload: { reason: 'no candidate matches this address' },
    });
    expect(r.statusCode).toBe(202);
    const forwarded = await waitFor('the forward at the SMTP server', () => stack.mail.smtpMessages().find((m) => m.to.includes(FORWARD_TO)), 30_000, 200);
    expect(forwarded.user).toBe(ALICE);
    expect(forwarded.from).toBe(ALICE);
    const parsed = await simpleParser(forwarded.raw);
    expect(parsed.text).toContain('no candidate matches this address');
    const attached = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
    // Line breaks may be re-encoded on the way (CRLF in transit, the final one added): compare the lines.
    const lines = (b: Buffer) => b.toString('utf8').replace(/\r\n/g, '\n').trimEnd();
    expect(attached).toBeDefined();
    expect(lines(attached!.content)).toBe(lines(sent[7].raw));
    const failed = await waitFor(
      'the message in "failed"',
      async () => {
        const f = await stack.mail.readFolder(ALICE, 'failed');
        return f.length === 1 ? f : undefined;
      },
      30_000,
      200,
    );
    expect(failed[0].messageId).toBe(`<${sent[7].messageId}>`);
    expect((await stack.mail.readFolder(ALICE, 'processed')).length).toBe(COUNT - 1);
    await waitFor('state failed', async () => (await stack.feed())[7].state === 'failed');
    // Asking again changes nothing and forwards nothing more.
    const again = await stack.app.inject({
      method: 'POST',
      url: `/v1/orgs/${stack.orgId}/inbound-messages/${target.id}/fail`,
      headers: stack.auth,
      payload: { reason: 'again' },
    });
    expect(again.json().state).toBe('failed');
    await new Promise((r) => setTimeout(r, 1500));
    expect(stack.mail.smtpMessages().filter((m) => m.to.includes(FORWARD_TO))).toHaveLength(1);
  });
});
