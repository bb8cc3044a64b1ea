/**
 * Per-item answers that stop the whole run: raised as a SyncError (the transport-neutral
 * contract, canonical syncError.ts) so the worker classifies them like any other failure.
 */
import type { MailboxError } from '@exsync/canonical';
import { SyncError, defaultScope } from '@exsync/canonical';

/** A per-item Throttled answer without a back-off waits this long (ms). */
const PER_ITEM_THROTTLE_BACKOFF_MS = 30_000;

/** A per-item failure that should fail the whole run (and be retried), e.g. one GetItem answer throttled. */
export function mailboxItemError(e: MailboxError): SyncError {
  if (e instanceof SyncError) return e;
  const backoffMs = e.kind === 'Throttled' ? (e.backoffMs ?? PER_ITEM_THROTTLE_BACKOFF_MS) : e.backoffMs;
  return new SyncError(e.kind, e.message, { code: e.code, backoffMs, reason: e.reason, scope: e.scope });
}

/** A per-item answer that says the whole mailbox (or organisation) cannot go on: the run fails. */
export function failsWholeRun(e: MailboxError): boolean {
  if (e.kind === 'Throttled' || e.kind === 'Transient') return true;
  const scope = e.scope ?? defaultScope(e.kind, e.reason);
  return scope === 'organisation' || scope === 'mailbox';
}
