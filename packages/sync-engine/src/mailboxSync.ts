import type { MailboxSyncContext, SyncCounts } from './syncTypes';

/** Syncs one item kind of one mailbox (pull Exchange changes, then push CRM changes). */
export async function syncMailboxKind(ctx: MailboxSyncContext): Promise<SyncCounts> {
  throw new Error(`syncMailboxKind is being implemented (mailbox ${ctx.mailboxId})`);
}
