import type { IncomingMessage, ServerResponse } from 'node:http';
import { ImapFlow } from 'imapflow';
import { startDovecot, type DovecotServer } from './dovecotServer';
import { startSmtpSim, type AcceptedMessage, type SmtpSim } from './smtpServer';

/** Exchange Online's IMAP/SMTP AUTH resource (the `aud` both servers require). */
const MAIL_AUDIENCE = 'https://outlook.office.com';

export interface MailSimOptions {
  /** the Entra simulator's signing key */
  signingKey: { kid: string; publicKeyPem: string };
  /** mints a delegated IMAP token for a mailbox (the simulator's own plumbing: delivery, folder reads) */
  mintToken: (email: string) => Promise<string>;
  /** a server without IDLE (polling only) */
  withoutIdle?: boolean;
}

export interface FolderEntry {
  uid: number;
  messageId: string | null;
  subject: string | null;
  flags: string[];
}

export interface MailSim {
  imap: { host: string; port: number };
  smtp: { host: string; port: number };
  dovecot: DovecotServer;
  smtpServer: SmtpSim;
  /** Delivers a raw RFC 822 message to the mailbox's INBOX (IMAP APPEND); answers its UID. */
  deliver(email: string, raw: Buffer | string, folder?: string): Promise<number>;
  /** The messages of a folder (empty when the folder does not exist). */
  readFolder(email: string, folder: string): Promise<FolderEntry[]>;
  /** What the SMTP server accepted, oldest first. */
  smtpMessages(): AcceptedMessage[];
  /** Gives a folder a new UIDVALIDITY (the simulator's own sessions reconnect). */
  setUidValidity(email: string, folder: string, uidValidity: number): Promise<void>;
  /** Handles the mail routes of the `/_sim/` control API; false when the path is not one of them. */
  handleControl(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The IMAP (private Dovecot) and SMTP (smtp-server) test servers of the mailbox monitor, both
 * validating the Entra simulator's delegated tokens, with the control routes of the contract:
 * `POST /_sim/mailboxes/:email/messages` (message/rfc822 -> 201 {uid}),
 * `GET /_sim/mailboxes/:email/imap?folder=`, `GET /_sim/smtp/messages`, and for fault tests
 * `POST /_sim/mailboxes/:email/imap/kick` and `POST /_sim/mailboxes/:email/imap/uidvalidity {folder, uidValidity}`.
 */
export async function startMailSim(opts: MailSimOptions): Promise<MailSim> {
  const dovecot = await startDovecot({
    publicKeyPem: opts.signingKey.publicKeyPem,
    kid: opts.signingKey.kid,
    audience: MAIL_AUDIENCE,
    withoutIdle: opts.withoutIdle,
  });
  let smtpServer: SmtpSim;
  try {
    smtpServer = await startSmtpSim({ publicKeyPem: opts.signingKey.publicKeyPem, audience: MAIL_AUDIENCE, scope: 'SMTP.Send' });
  } catch (e) {
    await dovecot.close();
    throw e;
  }

  // One connection per mailbox for the simulator's own reads and deliveries, made again when it drops.
  const clients = new Map<string, Promise<ImapFlow>>();
  async function connectAs(email: string): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user: email, accessToken: await opts.mintToken(email) },
      logger: false,
      disableAutoIdle: true,
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  }
  let queue: Promise<unknown> = Promise.resolve();
  async function withImap<T>(email: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
    // One operation at a time: a mailbox lock or APPEND must not interleave on a shared connection.
    const run = queue.then(async () => {
      for (let attempt = 0; ; attempt++) {
        let pending = clients.get(email);
        let client = pending ? await pending.catch(() => undefined) : undefined;
        if (!client || !client.usable) {
          pending = connectAs(email);
          clients.set(email, pending);
          client = await pending;
        }
        try {
          return await fn(client);
        } catch (e) {
          // The server may have dropped the session (a test kicked the user): the command was not
          // sent, so it is retried once on a new connection.
          clients.delete(email);
          client.close();
          if ((e as { code?: string }).code === 'NoConnection' && attempt === 0) continue;
          throw e;
        }
      }
    });
    queue = run.catch(() => {});
    return run;
  }

  async function withFreshImap<T>(email: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
    const client = await connectAs(email);
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  const sim: MailSim = {
    imap: { host: dovecot.host, port: dovecot.port },
    smtp: { host: smtpServer.host, port: smtpServer.port },
    dovecot,
    smtpServer,
    deliver: (email, raw, folder = 'INBOX') =>
      withImap(email, async (c) => {
        const r = await c.append(folder, typeof raw === 'string' ? Buffer.from(raw) : raw);
        if (!r || typeof r !== 'object' || r.uid === undefined) throw new Error('the IMAP server did not report the UID (UIDPLUS)');
        return r.uid;
      }),
    // A fresh session per read: a long-lived one may keep a stale view of a folder the test changed.
    readFolder: (email, folder) =>
      withFreshImap(email, async (c) => {
        const folders = await c.list();
        if (!folders.some((f) => f.path === folder)) return [];
        const lock = await c.getMailboxLock(folder);
        try {
          const out: FolderEntry[] = [];
          for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true }, { uid: false })) {
            out.push({ uid: m.uid, messageId: m.envelope?.messageId ?? null, subject: m.envelope?.subject ?? null, flags: [...(m.flags ?? [])] });
          }
          return out.sort((a, b) => a.uid - b.uid);
        } catch (e) {
          // An empty folder answers "1:*" with nothing or a BAD on some servers.
          if ((e as { responseStatus?: string }).responseStatus) return [];
          throw e;
        } finally {
          lock.release();
        }
      }),
    smtpMessages: () => smtpServer.messages,
    setUidValidity: async (email, folder, uidValidity) => {
      const cached = clients.get(email);
      clients.delete(email);
      await cached?.then((c) => c.logout()).catch(() => {});
      await dovecot.setUidValidity(email, folder, uidValidity);
    },
    handleControl: (req, res) => handleMailControl(sim, req, res),
    close: async () => {
      for (const c of clients.values()) await c.then((x) => x.logout()).catch(() => {});
      await smtpServer.close();
      await dovecot.close();
    },
  };
  return sim;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function handleMailControl(sim: MailSim, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const p = url.pathname;
  const method = req.method ?? 'GET';
  let m: RegExpExecArray | null;
  try {
    if (method === 'GET' && p === '/_sim/smtp/messages') {
      send(
        res,
        200,
        sim.smtpMessages().map(({ raw: _raw, ...rest }) => rest),
      );
      return true;
    }
    if ((m = /^\/_sim\/mailboxes\/([^/]+)\/messages$/.exec(p)) && method === 'POST') {
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('message/rfc822')) {
        send(res, 415, { error: 'content-type must be message/rfc822' });
        return true;
      }
      const raw = await readRaw(req, 50 * 1024 * 1024);
      if (raw.length === 0) {
        send(res, 400, { error: 'empty message' });
        return true;
      }
      send(res, 201, { uid: await sim.deliver(decodeURIComponent(m[1]), raw) });
      return true;
    }
    if ((m = /^\/_sim\/mailboxes\/([^/]+)\/imap$/.exec(p)) && method === 'GET') {
      send(res, 200, await sim.readFolder(decodeURIComponent(m[1]), url.searchParams.get('folder') ?? 'INBOX'));
      return true;
    }
    if ((m = /^\/_sim\/mailboxes\/([^/]+)\/imap\/kick$/.exec(p)) && method === 'POST') {
      await sim.dovecot.kick(decodeURIComponent(m[1]));
      send(res, 200, { ok: true });
      return true;
    }
    if ((m = /^\/_sim\/mailboxes\/([^/]+)\/imap\/uidvalidity$/.exec(p)) && method === 'POST') {
      const body = JSON.parse((await readRaw(req, 10_000)).toString('utf8') || '{}') as { folder?: unknown; uidValidity?: unknown };
      if (typeof body.uidValidity !== 'number' || !Number.isInteger(body.uidValidity) || body.uidValidity < 1) {
        send(res, 400, { error: 'uidValidity must be a positive integer' });
        return true;
      }
      await sim.setUidValidity(decodeURIComponent(m[1]), typeof body.folder === 'string' ? body.folder : 'INBOX', body.uidValidity);
      send(res, 200, { ok: true });
      return true;
    }
  } catch (e) {
    const status = (e as { status?: number }).status ?? 502;
    send(res, status, { error: (e as Error).message });
    return true;
  }
  return false;
}
