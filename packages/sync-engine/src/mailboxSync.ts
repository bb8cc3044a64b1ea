/**
 * THE sync algorithm for one item kind of one mailbox: pull Exchange changes into the CRM
 * (pull.ts), then push to Exchange (push.ts). Each side is a plan and an executor: pullPlan.ts
 * turns a pulled change into a PullAction, applied by pagePlan.ts; push.ts turns a CRM change,
 * pending create or pending write into a PushAction, applied by applyPushActions. Decisions come
 * from decide(); the store is the SyncStore port, Exchange the MailboxPort (both in
 * packages/canonical).
 *
 * Pull writes only the store. When a pulled change also needs a write to Exchange (a merge whose
 * result differs from Exchange, a restore, a delete the policy lets the CRM win), the page's
 * transaction stores it as a PendingExchangeWrite, with the link describing Exchange as it now is
 * and the CRM version it last agreed with (a restore's link pending, its Exchange id null). The
 * push step executes pending writes first, as decided, each removed with the state after it.
 * One code path writes Exchange (exchangeWrites.ts).
 *
 * Crash points, and why a re-run converges (invariant 4):
 * - During getItems or before a page's transaction commits: nothing of that page is saved; the
 *   re-run pulls the same page from the previous SyncState and decides again.
 * - After a page commits: its CRM writes, links, feed rows, conflicts, pending Exchange writes and
 *   SyncState are all in. The re-run continues from that SyncState, and its push executes the
 *   pending writes: killed between pull and push, nothing is lost.
 * - Mid-way through a restart from no SyncState (full resync): links are marked unseen in the
 *   transaction that clears the state, and each page marks its items seen in its own transaction,
 *   so the restart resumes with the bookkeeping intact; deletions are concluded only on the
 *   final page (see "Full resync" below).
 * - Push, create: the link (its id is the tag) is committed with a null Exchange id BEFORE
 *   CreateItem. Killed after CreateItem but before the id is stored: the next pull sees the
 *   tagged item and attaches it to the pending link; failing that, the pending-create step asks
 *   findByTag before creating. Either way no second copy is made.
 * - Push, update: killed after UpdateItem before the new ChangeKey is stored: the next pull sees
 *   the item changed, fetches it, finds its content equal to the CRM's (the CRM version is still
 *   newer than the link's), so decide() yields a merge with nothing to write on either side and
 *   the link is refreshed; that decision replaces the item's pending write, if it had one. No echo
 *   into the CRM, no second write.
 * - Push, delete: killed after DeleteItem before the link is removed: the next pull sees the
 *   delete; the CRM side is a tombstone newer than the link, so decide() says forgetLink.
 * - Pull CRM writes lock the CRM rows (FOR UPDATE) and decide inside the transaction, so a CRM
 *   API write racing a sync is either decided on or comes after, never overwritten unseen.
 *
 * Full resync (SyncStateInvalid): Exchange lists every item in the folder as a create. Items
 * whose link matches by Exchange id and ChangeKey are unchanged and skipped without a fetch, so a
 * restart costs what a first listing costs and writes nothing. A link whose Exchange item is
 * absent from the COMPLETE listing was deleted in Exchange while our state was lost, and only
 * then: a link still pending (null Exchange id) is not a deletion (its create may not have
 * happened yet), and nothing is concluded before the last page, since an item missing from page
 * 1 may be on page 3. Such deletions go through decide() like any Exchange delete, so a CRM edit
 * made meanwhile still wins (restore) and a CRM delete is never turned back into an item. Items
 * the CRM deleted whose link remains are still pushed as deletes, never pulled back in.
 *
 * Cost (invariant 6): an unchanged mailbox makes one syncFolder call, no getItems, and no
 * Postgres write; our own writes come back with the ChangeKey we stored and are skipped unread.
 */
import { pull } from './pull';
import { push } from './push';
import { emptyCounts, type MailboxSyncContext, type SyncCounts, type SyncRun } from './syncTypes';

export { mailboxItemError } from './runErrors';

/**
 * Syncs one item kind of one mailbox: pull Exchange changes, then push CRM changes. The worker's
 * entry point; `context.store` is opened for this mailbox and kind for the run.
 */
export async function syncMailboxKind(context: MailboxSyncContext): Promise<SyncCounts> {
  const ctx: SyncRun = {
    ...context,
    store: context.store.open({ orgId: context.orgId, userId: context.userId, mailboxId: context.mailboxId, kind: context.kind }),
  };
  const counts = emptyCounts();
  await pull(ctx, counts);
  const before = exchangeWrites(counts);
  await push(ctx, counts);
  // SyncFolderItems reports only what changed relative to what the state has seen: an item we
  // created and a person deleted before our next pull would never be reported at all. Pulling
  // once more moves the state past our own writes (they come back with the ChangeKeys we stored
  // and are skipped unread), so later deletes and edits of those items are reported.
  if (exchangeWrites(counts) > before) await pull(ctx, counts);
  counts.failingItems = await ctx.store.countFailingItems();
  ctx.log?.info({ mailboxId: ctx.mailboxId, kind: ctx.kind, counts }, 'mailbox kind synced');
  return counts;
}

function exchangeWrites(c: SyncCounts): number {
  return c.toExchange.created + c.toExchange.updated + c.toExchange.deleted;
}
