import type { EnqueueSync, SyncReason } from '@exsync/canonical';
import type { FastifyBaseLogger } from 'fastify';

/**
 * Asks for a sync of the mailbox soon and never fails the caller: the scheduler finds due mailboxes
 * in Postgres anyway, so a failed (or impossible: no queue wired) enqueue only delays the sync until
 * its next tick. A failure is logged as a warning naming the mailbox and the reason.
 */
export async function requestSyncSoon(enqueueSync: EnqueueSync | undefined, log: FastifyBaseLogger, mailboxId: string, reason: SyncReason): Promise<void> {
  if (!enqueueSync) return;
  await enqueueSync(mailboxId, reason).catch((err: Error) =>
    log.warn({ mailboxId, reason, err: err.message }, 'enqueue failed; the scheduler will run the sync'),
  );
}
