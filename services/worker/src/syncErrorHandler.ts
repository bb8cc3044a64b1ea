/**
 * The one place that turns a failed run into a mailbox (or organisation) status and tells the
 * processor what BullMQ should do with the job. It knows no transport: every failure arrives as
 * the transport-neutral SyncError (@exsync/canonical), whose scope, retryability and back-off are
 * data, and every message comes from the one catalogue (adminMessage): what happened and what to
 * change, never a remote body, a secret or a token.
 */
import { adminMessage, toSyncError } from '@exsync/canonical';
import { stopOrganisation } from '@exsync/db';
import type pg from 'pg';
import { failRun, stopMailbox, throttleRun } from '@exsync/db';

export type ErrorOutcome =
  /** move the job to delayed until `untilMs`; not a failure */
  | { action: 'delay'; untilMs: number }
  /** rethrow: BullMQ retries with the job's back-off */
  | { action: 'retry' }
  /** fail the job without retries (UnrecoverableError) */
  | { action: 'stop'; message: string };

export interface Classified {
  /** what the run's failure does to the mailbox */
  kind: 'throttled' | 'transient' | 'mailbox' | 'organisation' | 'permanent';
  code: string;
  message: string;
  backoffMs?: number;
}

/** How a failure is handled, from the error's data alone. */
export function classifyRunError(err: unknown, ctx: { mailbox?: string } = {}): Classified {
  const e = toSyncError(err);
  const m = adminMessage(e, ctx);
  if (e.kind === 'Throttled') return { kind: 'throttled', code: m.code, message: m.message, backoffMs: e.backoffMs ?? 0 };
  if (e.scope === 'organisation' || e.scope === 'mailbox') return { kind: e.scope, code: m.code, message: m.message };
  // Transient, a sync state to start over, an item that changed or vanished meanwhile: the next attempt can work.
  if (e.kind !== 'Permanent') return { kind: 'transient', code: m.code, message: m.message };
  return { kind: 'permanent', code: m.code, message: m.message };
}

export interface RunFailure {
  pool: pg.Pool;
  mailboxId: string;
  orgId: string | null;
  /** the mailbox address, named in messages when known */
  smtpAddress?: string | null;
  error: unknown;
  /** attempts made before this one (BullMQ job.attemptsMade) */
  attemptsMade: number;
  maxAttempts: number;
  intervalSeconds: number;
}

/** Small random extra so mailboxes throttled together do not return at the same instant. */
const THROTTLE_JITTER_MS = 1_000;

export async function handleSyncError(f: RunFailure): Promise<ErrorOutcome> {
  const c = classifyRunError(f.error, { mailbox: f.smtpAddress ?? undefined });
  const cause = { code: c.code, message: c.message };
  switch (c.kind) {
    case 'throttled': {
      const untilMs = Date.now() + (c.backoffMs ?? 0);
      await throttleRun(f.pool, f.mailboxId, new Date(untilMs));
      return { action: 'delay', untilMs: untilMs + Math.round(Math.random() * THROTTLE_JITTER_MS) };
    }
    case 'transient': {
      const final = f.attemptsMade + 1 >= f.maxAttempts;
      await failRun(f.pool, f.mailboxId, { ...cause, final, intervalSeconds: f.intervalSeconds });
      return final ? { action: 'stop', message: `${c.code}: ${c.message}` } : { action: 'retry' };
    }
    case 'permanent':
      // Not something a retry fixes at once, nor a setting an admin can change: show it and try again at the next interval.
      await failRun(f.pool, f.mailboxId, { ...cause, final: true, intervalSeconds: f.intervalSeconds });
      return { action: 'stop', message: `${c.code}: ${c.message}` };
    case 'mailbox':
      await stopMailbox(f.pool, f.mailboxId, cause);
      return { action: 'stop', message: `${c.code}: ${c.message}` };
    case 'organisation':
      if (f.orgId) await stopOrganisation(f.pool, f.orgId, cause);
      else await stopMailbox(f.pool, f.mailboxId, cause);
      return { action: 'stop', message: `${c.code}: ${c.message}` };
  }
}
