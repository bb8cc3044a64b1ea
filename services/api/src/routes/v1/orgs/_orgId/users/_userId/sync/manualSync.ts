/**
 * "Sync now" for one user's mailbox (CONTRACT.md `POST .../users/:userId/sync`): marks it due and
 * queues it; refuses a mailbox that is not enabled or not signed in (409 saying what to do).
 */
import type { FastifyBaseLogger } from 'fastify';
import { markDueNow, requestManualSync } from '@exsync/db';
import type { ResolvedDeps } from '../../../../../../../app';
import { HttpError, notFound } from '../../../../../../../httpError';

const NOT_READY: Record<'not-enabled' | 'awaiting-user-login', string> = {
  'not-enabled': 'sync is not enabled for this user: turn on mobileAccess, useOAuthForExchange and syncCalendar or syncContacts',
  'awaiting-user-login': 'the user has not signed in with Microsoft yet: send the sign-in link (POST .../microsoft-login)',
};

/**
 * Answers the mailbox and whether it was queued (false: no queue in this process, the scheduler
 * runs it). An unreachable queue is a 503, the mailbox left due for the scheduler.
 */
export async function syncNow(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, userId: string): Promise<{ mailboxId: string; queued: boolean }> {
  const outcome = await requestManualSync(deps.pool, orgId, userId, deps.config.syncIntervalSeconds);
  if (!outcome.ok) {
    if (outcome.reason === 'not-found') throw notFound('user not found');
    throw new HttpError(409, NOT_READY[outcome.reason]);
  }
  const { mailboxId } = outcome;
  if (!deps.enqueueSync) {
    await markDueNow(deps.pool, mailboxId);
    return { mailboxId, queued: false };
  }
  try {
    await deps.enqueueSync(mailboxId, 'manual');
  } catch (err) {
    await markDueNow(deps.pool, mailboxId);
    log.warn({ mailboxId, err: (err as Error).message }, 'enqueue for sync now failed');
    throw new HttpError(503, 'the sync queue is unreachable; the mailbox is marked due and the scheduler will sync it once the queue is back');
  }
  return { mailboxId, queued: true };
}
