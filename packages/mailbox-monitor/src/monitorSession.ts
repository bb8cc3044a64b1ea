import type { ImapFlow } from 'imapflow';
import type pg from 'pg';
import {
  findInboundByUid,
  getMonitoredMailbox,
  getMonitorSettings,
  listPendingFailures,
  markInboundProcessed,
  resetMonitoredFolder,
  setInboundState,
  setMonitoredMailboxState,
  storeInboundMessage,
  withTransaction,
  type MonitorCredentials,
  type MonitoredMailbox,
  type PendingFailure,
  type SecretBox,
} from '@exsync/db';
import type { EndpointPolicy } from '@exsync/config';
import { checkMailHost, checkMailHostForConnect, type MailHost } from './hostPolicy';
import { createImapClient, forwardAsAttachment } from './mailConnections';
import { MailboxTokens } from './mailboxTokens';
import { monitorAppFrom, MonitorTokenError } from './oauthClient';
import { parseInbound } from './parseInbound';

export interface MonitorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MonitorSessionDeps {
  pool: pg.Pool;
  secretBox: SecretBox;
  log: MonitorLogger;
  /** seconds between polls (no IDLE) and between checks for CRM fail requests */
  pollSeconds: number;
  /** the service's endpoint policy (Microsoft's hosts, EXSYNC_ALLOWED_HOSTS, insecure flag) */
  endpointPolicy: EndpointPolicy;
  /** the organisation's Exchange authority host, the default when the monitor settings name none */
  exchangeAuthorityHost: (orgId: string) => Promise<string | undefined>;
  /** test seam: called at named points of a message's handling (fault tests kill the process there) */
  checkpoint?: (point: MonitorCheckpoint) => void;
}

export type MonitorCheckpoint = 'fetched' | 'stored' | 'flagged' | 'moved' | 'forwarded';

/** Stopped before the next step (the supervisor is shutting down or the mailbox changed). */
class Stopped extends Error {}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/**
 * Runs one mailbox's monitor until `signal` aborts or the mailbox needs a person: connects over
 * IMAP with XOAUTH2, reads new messages of the monitored folder by UID, stores each (the CRM feed)
 * and only then flags it \Seen and moves it to the processed folder, so a crash at any point
 * re-reads at most what was not moved and the store de-duplicates it. Waits with IDLE when the
 * server has it, else polls every `pollSeconds`. A dropped session reconnects with a fresh token;
 * a refused refresh token sets 'needs-sign-in' and ends the session.
 */
export async function runMonitorSession(deps: MonitorSessionDeps, mailboxRef: { orgId: string; id: string }, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    const mailbox = await getMonitoredMailbox(deps.pool, mailboxRef.orgId, mailboxRef.id);
    const settings = await getMonitorSettings(deps.pool, deps.secretBox, mailboxRef.orgId);
    if (!mailbox || !mailbox.enabled || mailbox.state === 'needs-sign-in' || !settings) return;
    const app = monitorAppFrom(settings, settings.authorityHost ? undefined : await deps.exchangeAuthorityHost(mailbox.orgId));
    const tokens = new MailboxTokens(deps.pool, deps.secretBox, mailbox, app);
    try {
      await runConnected(deps, mailbox, settings, tokens, signal);
      failures = 0;
    } catch (err) {
      if (err instanceof Stopped || signal.aborted) return;
      if (err instanceof MonitorTokenError && err.problem !== 'unavailable') {
        const message =
          err.problem === 'mfa-required'
            ? `The account requires multi-factor authentication for this app (AADSTS${err.code}); sign in again once the policy allows it.`
            : err.problem === 'consent-missing'
              ? `Consent for the IMAP/SMTP scopes is missing (${err.message}): an administrator must grant IMAP.AccessAsUser.All, SMTP.Send and User.Read, then the mailbox's person signs in again.`
              : `Microsoft refused the stored sign-in (${err.message}): it was revoked or has expired; the mailbox's person must sign in again with a new authorization link.`;
        await setMonitoredMailboxState(deps.pool, mailbox.id, 'needs-sign-in', message, tokens.grantAt);
        deps.log.warn({ mailboxId: mailbox.id, problem: err.problem, code: err.code }, 'mailbox monitor: needs sign-in');
        return;
      }
      failures += 1;
      const waitMs = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 6));
      await setMonitoredMailboxState(deps.pool, mailbox.id, 'retrying', describe(err)).catch(() => {});
      deps.log.warn(
        { mailboxId: mailbox.id, err: describe(err), detail: (err as Error)?.message?.slice(0, 300), waitMs },
        'mailbox monitor: session ended; reconnecting',
      );
      await sleep(waitMs, signal);
    }
  }
}

function describe(err: unknown): string {
  // The server's own words (responseText) are remote text: only exsync's description and codes are kept.
  const e = err as { message?: string; code?: string; authenticationFailed?: boolean; serverResponseCode?: string };
  if (e.authenticationFailed) return 'The mail server refused the access token (authentication failed); exsync reconnects with a fresh one.';
  const code = [e.code, e.serverResponseCode].find((c) => typeof c === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(c));
  return `The connection to the mail server failed${code ? ` (${code})` : ''}; exsync reconnects by itself.`;
}

async function connect(deps: MonitorSessionDeps, mailbox: MonitoredMailbox, imapHost: MailHost, tokens: MailboxTokens): Promise<ImapFlow> {
  for (let attempt = 0; ; attempt++) {
    const client = createImapClient(imapHost, mailbox.email, await tokens.accessToken(attempt > 0), { allowInsecure: deps.endpointPolicy.allowInsecure });
    client.on('error', () => {}); // surfaced by the failing command or the 'close' event
    try {
      await client.connect();
      return client;
    } catch (err) {
      client.close();
      // A token the server refuses is retried once with a fresh one (it may have expired early).
      if ((err as { authenticationFailed?: boolean }).authenticationFailed && attempt === 0) {
        tokens.invalidate();
        continue;
      }
      throw err;
    }
  }
}

async function runConnected(
  deps: MonitorSessionDeps,
  mailbox: MonitoredMailbox,
  settings: MonitorCredentials,
  tokens: MailboxTokens,
  signal: AbortSignal,
): Promise<void> {
  const imapHost = checkMailHost(settings.imapHost, 'imapHost', deps.endpointPolicy);
  const smtpHost = checkMailHost(settings.smtpHost, 'smtpHost', deps.endpointPolicy);
  // Checked when connecting too: settings saved before a policy change cannot reach a refused host.
  await checkMailHostForConnect(imapHost, 'imapHost', deps.endpointPolicy);
  await checkMailHostForConnect(smtpHost, 'smtpHost', deps.endpointPolicy);
  await setMonitoredMailboxState(deps.pool, mailbox.id, 'connecting', null);
  const client = await connect(deps, mailbox, imapHost, tokens);
  let closed = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    wake?.();
  };
  client.on('close', onClose);
  client.on('exists', () => wake?.());
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    await ensureFolder(client, settings.processedFolder);
    await ensureFolder(client, settings.failedFolder);
    const hasIdle = client.capabilities.has('IDLE');
    let position = { uidValidity: mailbox.uidValidity === null ? null : BigInt(mailbox.uidValidity), lastUid: Number(mailbox.lastUid) };
    await client.mailboxOpen(mailbox.folder);
    await setMonitoredMailboxState(deps.pool, mailbox.id, hasIdle ? 'idle' : 'polling', hasIdle ? null : 'the server has no IDLE; polling');
    deps.log.info({ mailboxId: mailbox.id, idle: hasIdle }, 'mailbox monitor: connected');
    for (;;) {
      if (signal.aborted) throw new Stopped();
      if (closed) throw new Error('the IMAP server closed the session');
      const current = await getMonitoredMailbox(deps.pool, mailbox.orgId, mailbox.id);
      if (!current || !current.enabled || current.state === 'needs-sign-in') throw new Stopped();
      if (await handleFailures(deps, client, mailbox, settings, smtpHost, tokens)) await client.mailboxOpen(mailbox.folder);
      position = await readNewMessages(deps, client, mailbox, settings, position, signal);
      // Wait for news: IDLE pushes EXISTS; without it (or to see CRM fail requests) a timer polls.
      const waited = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, deps.pollSeconds * 1000).unref?.();
      });
      if (hasIdle && !closed) void client.idle().catch(() => {});
      await waited;
      wake = undefined;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    client.off('close', onClose);
    if (!closed) await client.logout().catch(() => client.close());
  }
}

async function ensureFolder(client: ImapFlow, path: string): Promise<void> {
  const folders = await client.list();
  if (folders.some((f) => f.path === path)) return;
  await client.mailboxCreate(path);
}

async function readNewMessages(
  deps: MonitorSessionDeps,
  client: ImapFlow,
  mailbox: MonitoredMailbox,
  settings: MonitorCredentials,
  position: { uidValidity: bigint | null; lastUid: number },
  signal: AbortSignal,
): Promise<{ uidValidity: bigint | null; lastUid: number }> {
  const opened = client.mailbox;
  if (!opened || typeof opened === 'boolean') throw new Error('no mailbox selected');
  const uidValidity = BigInt(opened.uidValidity);
  if (position.uidValidity !== uidValidity) {
    // A new UIDVALIDITY voids every UID read before: re-read the folder; the store de-duplicates.
    if (position.uidValidity !== null) deps.log.warn({ mailboxId: mailbox.id }, 'mailbox monitor: UIDVALIDITY changed; re-reading the folder');
    await resetMonitoredFolder(deps.pool, mailbox.id, uidValidity);
    position = { uidValidity, lastUid: 0 };
  }
  const found = await client.search({ all: true }, { uid: true });
  const uids = (Array.isArray(found) ? found : []).sort((a, b) => a - b);
  for (const uid of uids) {
    if (signal.aborted) throw new Stopped();
    let stored = await findInboundByUid(deps.pool, mailbox.id, uidValidity, uid);
    if (!stored) {
      const fetched = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (!fetched || !fetched.source) continue; // expunged meanwhile
      deps.checkpoint?.('fetched');
      const raw = fetched.source;
      const parsed = await parseInbound(raw);
      const result = await withTransaction(deps.pool, (tx) =>
        storeInboundMessage(tx, {
          orgId: mailbox.orgId,
          mailboxId: mailbox.id,
          dedupKey: parsed.dedupKey,
          messageId: parsed.messageId,
          uidValidity,
          uid,
          envelope: { from: parsed.from, to: parsed.to, cc: parsed.cc, subject: parsed.subject, date: parsed.date },
          text: parsed.text,
          html: parsed.html,
          attachments: parsed.attachments,
          raw,
        }),
      );
      stored = { id: result.id, state: 'stored' };
      deps.checkpoint?.('stored');
    }
    position.lastUid = Math.max(position.lastUid, uid);
    await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    deps.checkpoint?.('flagged');
    const moved = await client.messageMove(String(uid), settings.processedFolder, { uid: true });
    const processedUid = moved && typeof moved === 'object' && moved.uidMap ? (moved.uidMap.get(uid) ?? null) : null;
    await markInboundProcessed(deps.pool, stored.id, processedUid);
    deps.checkpoint?.('moved');
  }
  return position;
}

/**
 * Forwards the messages the CRM marked failed (SMTP, XOAUTH2, as an attachment) and moves them
 * from the processed to the failed folder. Each step is recorded before the next, so a crash
 * repeats at most the forward of one message (its Message-ID is stable, `<failed-<id>@exsync>`).
 * Answers whether another folder was selected (the caller re-opens the monitored one).
 */
async function handleFailures(
  deps: MonitorSessionDeps,
  client: ImapFlow,
  mailbox: MonitoredMailbox,
  settings: MonitorCredentials,
  smtpHost: MailHost,
  tokens: MailboxTokens,
): Promise<boolean> {
  const pending = await listPendingFailures(deps.pool, mailbox.id);
  if (pending.length === 0) return false;
  for (const p of pending) {
    if (p.state === 'fail-requested') {
      if (!settings.forwardFailedTo) {
        deps.log.warn({ mailboxId: mailbox.id, messageId: p.id }, 'mailbox monitor: no forwardFailedTo; moving without forwarding');
      } else {
        await forwardAsAttachment(
          smtpHost,
          mailbox.email,
          await tokens.accessToken(),
          {
            from: mailbox.email,
            to: settings.forwardFailedTo,
            subject: `Not processed: ${p.subject ?? '(no subject)'}`,
            reason: p.failReason ?? 'marked failed by the CRM',
            raw: p.raw,
            messageId: `<failed-${p.id}@exsync>`,
          },
          { allowInsecure: deps.endpointPolicy.allowInsecure },
        );
        deps.checkpoint?.('forwarded');
      }
      await setInboundState(deps.pool, p.id, 'forwarded');
    }
    await moveToFailed(client, settings, p);
    await setInboundState(deps.pool, p.id, 'failed');
  }
  return true;
}

async function moveToFailed(client: ImapFlow, settings: MonitorCredentials, p: PendingFailure): Promise<void> {
  await client.mailboxOpen(settings.processedFolder);
  let uids: number[] = [];
  if (p.messageId) {
    const r = await client.search({ header: { 'message-id': p.messageId } }, { uid: true });
    uids = Array.isArray(r) ? r : [];
  }
  if (uids.length === 0 && p.processedUid !== null) {
    const r = await client.search({ uid: String(p.processedUid) }, { uid: true });
    uids = Array.isArray(r) ? r : [];
  }
  if (uids.length > 0) await client.messageMove(uids.join(','), settings.failedFolder, { uid: true });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
