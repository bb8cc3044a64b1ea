/**
 * The sync engine's store port (canonical syncStore.ts) over Postgres: the repositories of this
 * package, scoped to one mailbox and kind. Transactions are BEGIN/COMMIT on one pooled client
 * (withTransaction.ts); CRM rows are locked with SELECT ... FOR UPDATE.
 */
import type pg from 'pg';
import type { CrmItemRow, ScopedSyncStore, SyncScope, SyncStore, SyncStoreSession } from '@exsync/canonical';
import { appendChanges } from './changeFeedRepository';
import { recordConflicts } from './conflictRepository';
import { getCrmItems, listCrmChangesForPush, listUnlinkedCrmItems, writeCrmItemsFromExchange, writeCrmItemsWithFeed } from './crmItemRepository';
import { clearItemFailures, countFailingItems, recordItemFailures } from './itemErrorRepository';
import { clearUnreadableItems, dueUnreadableItems, recordUnreadableItems } from './exchangeReadErrorRepository';
import {
  deleteLinks,
  getLinksByCrmIds,
  getLinksByEwsIds,
  getLinksByIds,
  listPendingLinks,
  listUnseenLinks,
  markLinksSeen,
  markLinksUnseen,
  upsertLinks,
} from './linkRepository';
import { deletePendingWrites, listPendingWrites, savePendingWrites } from './pendingWriteRepository';
import { analyzeAfterBulkLoad } from './plannerStatistics';
import type { Queryable } from './queryable';
import { getSyncState, saveSyncState } from './syncStateRepository';
import { withTransaction } from './withTransaction';

/**
 * Locks the CRM rows of `crmIds` (in row id order, so two lockers never deadlock) until the
 * transaction of `q` ends, and returns them by crm id.
 */
export async function lockCrmItems(q: Queryable, userId: string, kind: string, crmIds: string[]): Promise<Map<string, CrmItemRow>> {
  if (crmIds.length === 0) return new Map();
  await q.query(`SELECT 1 FROM crm_items WHERE user_id = $1 AND kind = $2 AND crm_id = ANY($3::text[]) ORDER BY id FOR UPDATE`, [userId, kind, crmIds]);
  return new Map((await getCrmItems(q, userId, kind as CrmItemRow['kind'], crmIds)).map((r) => [r.crmId, r]));
}

function session(q: Queryable, s: SyncScope): SyncStoreSession {
  const { mailboxId, kind, userId, orgId } = s;
  return {
    getSyncState: (folder) => getSyncState(q, mailboxId, folder),
    saveSyncState: (folder, state) => saveSyncState(q, mailboxId, folder, state),
    linksByExchangeIds: (ids) => getLinksByEwsIds(q, mailboxId, kind, ids),
    linksByCrmIds: (ids) => getLinksByCrmIds(q, mailboxId, kind, ids),
    linksByIds: (ids) => getLinksByIds(q, mailboxId, kind, ids),
    pendingLinks: () => listPendingLinks(q, mailboxId, kind),
    upsertLinks: (links) => upsertLinks(q, links, mailboxId, kind),
    deleteLinks: (ids) => deleteLinks(q, ids),
    markLinksUnseen: () => markLinksUnseen(q, mailboxId, kind),
    markLinksSeen: (ids) => markLinksSeen(q, mailboxId, kind, ids),
    unseenLinks: () => listUnseenLinks(q, mailboxId, kind),
    savePendingWrites: (writes) => savePendingWrites(q, mailboxId, kind, writes),
    pendingWrites: () => listPendingWrites(q, mailboxId, kind),
    deletePendingWrites: (ids) => deletePendingWrites(q, ids),
    crmItems: (ids) => getCrmItems(q, userId, kind, ids),
    lockCrmItems: (ids) => lockCrmItems(q, userId, kind, ids),
    unlinkedCrmItems: () => listUnlinkedCrmItems(q, userId, mailboxId, kind),
    crmChangesForPush: (page) => listCrmChangesForPush(q, { userId, mailboxId, kind, ...page }),
    writeCrmItemsFromExchange: (items) => writeCrmItemsFromExchange(q, { orgId, userId, kind, items }),
    appendChanges: (entries) => appendChanges(q, orgId, userId, entries),
    writeCrmItemsWithFeed: (items) => writeCrmItemsWithFeed(q, { orgId, userId, kind, items }),
    recordConflicts: (entries) => recordConflicts(q, mailboxId, entries),
    recordItemFailures: (failures, backoff) => recordItemFailures(q, mailboxId, kind, failures, backoff),
    clearItemFailures: (ids) => clearItemFailures(q, ids),
    countFailingItems: () => countFailingItems(q, mailboxId, kind),
    recordUnreadableItems: (items, backoff) => recordUnreadableItems(q, mailboxId, kind, items, backoff),
    clearUnreadableItems: (ids) => clearUnreadableItems(q, mailboxId, kind, ids),
    dueUnreadableItems: (limit) => dueUnreadableItems(q, mailboxId, kind, limit),
    afterBulkLoad: (n) => analyzeAfterBulkLoad(q, n),
  };
}

/** The engine's SyncStore over a pool (the pool's `connect` for transactions, `query` otherwise). */
export function pgSyncStore(pool: pg.Pool): SyncStore {
  return {
    open(scope): ScopedSyncStore {
      return { ...session(pool, scope), transaction: (fn) => withTransaction(pool, (client) => fn(session(client, scope))) };
    },
  };
}
