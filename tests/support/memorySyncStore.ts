/**
 * The sync engine's SyncStore (canonical syncStore.ts) in memory, with the semantics the Postgres
 * store has and the contract suite checks (tests/engine/sync-store-contract.test.ts):
 * - unique keys per mailbox and kind: a link's crm id, and its Exchange id when set (a violation
 *   throws an error with SQLSTATE-like `code` '23505' and changes nothing); one pending Exchange
 *   write per link, refused without its link ('23503') and deleted with it;
 * - transactions: a draft copy of every table, swapped in at commit, dropped when `fn` throws;
 * - locking: transactions and writes run one at a time (one lock for the whole store), so a CRM
 *   write racing a transaction that locked CRM items waits for it; reads see what is committed.
 * Also the CRM side as the CRM items API writes it (put, tombstone), and what tests read back.
 */
import type {
  ChangeFeedEntry,
  ConflictEntry,
  CrmItemRow,
  FolderName,
  ItemKind,
  LinkDraft,
  LinkRow,
  PendingExchangeWrite,
  ScopedSyncStore,
  SyncScope,
  SyncStateRow,
  SyncStore,
  SyncStoreSession,
  UnreadableItem,
} from '@exsync/canonical';
import { randomUUID } from 'node:crypto';
import { DEFAULT_ITEM_BACKOFF } from '@exsync/canonical';

interface LinkRecord extends LinkRow {
  resyncSeen: boolean;
  createdSeq: number;
  error?: { kind: string; code: string; message: string; attempts: number; nextAt: number; crmVersion: number; at: number };
}

interface ConflictRecord extends ConflictEntry {
  id: string;
  mailboxId: string;
  createdAt: string;
}

interface FeedRecord extends ChangeFeedEntry {
  cursor: string;
  orgId: string;
  userId: string;
}

interface PendingWriteRecord extends PendingExchangeWrite {
  mailboxId: string;
  kind: ItemKind;
  seq: number;
}

/** An Exchange item that could not be read (canonical UnreadableItem), with its back-off. */
interface UnreadableRecord extends UnreadableItem {
  mailboxId: string;
  scopeKind: ItemKind;
  attempts: number;
  nextAt: number;
  at: number;
  seq: number;
}

interface Tables {
  seq: number;
  /** by link id: at most one per link, removed with the link (a foreign key with ON DELETE CASCADE in Postgres) */
  pendingWrites: Map<string, PendingWriteRecord>;
  unreadable: Map<string, UnreadableRecord>;
  crm: Map<string, CrmItemRow>;
  links: Map<string, LinkRecord>;
  states: Map<string, SyncStateRow>;
  feed: FeedRecord[];
  conflicts: ConflictRecord[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uniqueViolation(constraint: string): Error {
  return Object.assign(new Error(`duplicate key value violates unique constraint "${constraint}"`), { code: '23505' });
}

function foreignKeyViolation(constraint: string): Error {
  return Object.assign(new Error(`insert or update violates foreign key constraint "${constraint}"`), { code: '23503' });
}

const crmKey = (userId: string, kind: string, crmId: string) => `${userId}|${kind}|${crmId}`;

/** A uuid-shaped id that sorts in creation order (rows are keyset-paged by id). */
function orderedId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export class MemorySyncStore implements SyncStore {
  private t: Tables = { seq: 0, pendingWrites: new Map(), unreadable: new Map(), crm: new Map(), links: new Map(), states: new Map(), feed: [], conflicts: [] };
  private queue: Promise<unknown> = Promise.resolve();
  /** milliseconds since the epoch, as Postgres's now() */
  now: () => number = () => Date.now();
  /** transactions committed so far */
  commits = 0;
  /** the transaction whose commit has this number fails (as a process killed before COMMIT) */
  failCommitNumber?: number;

  /** Runs `fn` alone: no other write or transaction of this store runs meanwhile. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` on a draft of the tables alone, swapping it in when `fn` succeeds. */
  private write<T>(fn: (t: Tables) => Promise<T> | T, commit?: () => void): Promise<T> {
    return this.exclusive(async () => {
      const draft = structuredClone(this.t);
      const result = await fn(draft);
      commit?.();
      this.t = draft;
      return result;
    });
  }

  open(scope: SyncScope): ScopedSyncStore {
    const outside = this.session(
      scope,
      (fn) => Promise.resolve(fn(this.t)),
      (fn) => this.write(fn),
    );
    return {
      ...outside,
      transaction: <T>(fn: (tx: SyncStoreSession) => Promise<T>) =>
        this.write(
          (draft) =>
            fn(
              this.session(
                scope,
                async (r) => r(draft),
                async (w) => w(draft),
              ),
            ),
          () => {
            if (++this.commits === this.failCommitNumber) throw new Error('injected crash before COMMIT');
          },
        ),
    };
  }

  private session(s: SyncScope, read: <T>(fn: (t: Tables) => T) => Promise<T>, write: <T>(fn: (t: Tables) => T) => Promise<T>): SyncStoreSession {
    const inScope = (t: Tables) => [...t.links.values()].filter((l) => l.mailboxId === s.mailboxId && l.kind === s.kind);
    const unreadableKey = (itemId: string) => `${s.mailboxId}|${s.kind}|${itemId}`;
    const unreadableInScope = (t: Tables) => [...t.unreadable.values()].filter((u) => u.mailboxId === s.mailboxId && u.scopeKind === s.kind);
    const row = (l: LinkRecord): LinkRow => ({
      id: l.id,
      mailboxId: l.mailboxId,
      kind: l.kind,
      crmId: l.crmId,
      ewsItemId: l.ewsItemId,
      ewsChangeKey: l.ewsChangeKey,
      icalUid: l.icalUid,
      crmVersion: l.crmVersion,
      snapshot: structuredClone(l.snapshot),
    });
    const crmOf = (t: Tables, crmId: string) => t.crm.get(crmKey(s.userId, s.kind, crmId));
    const due = (t: Tables, l: LinkRecord, version: number | undefined) => !l.error || l.error.nextAt <= this.now() || version !== l.error.crmVersion;
    const checkUnique = (t: Tables) => {
      const crm = new Set<string>();
      const ews = new Set<string>();
      for (const l of inScope(t)) {
        if (crm.has(l.crmId)) throw uniqueViolation('item_links_mailbox_id_kind_crm_id_key');
        crm.add(l.crmId);
        if (l.ewsItemId === null) continue;
        if (ews.has(l.ewsItemId)) throw uniqueViolation('item_links_mailbox_id_kind_ews_item_id_key');
        ews.add(l.ewsItemId);
      }
    };
    const linksWhere = (pred: (l: LinkRecord) => boolean) => read((t) => inScope(t).filter(pred).map(row));
    const copy = (r: CrmItemRow): CrmItemRow => structuredClone(r);
    return {
      getSyncState: (folder: FolderName) =>
        read((t) => structuredClone(t.states.get(`${s.mailboxId}|${folder}`)) ?? { syncState: null, initialSyncDone: false, resyncInProgress: false }),
      saveSyncState: (folder, state) => write((t) => void t.states.set(`${s.mailboxId}|${folder}`, { ...state })),
      linksByExchangeIds: (ids) => {
        const set = new Set(ids);
        return linksWhere((l) => l.ewsItemId !== null && set.has(l.ewsItemId));
      },
      linksByCrmIds: (ids) => {
        const set = new Set(ids);
        return linksWhere((l) => set.has(l.crmId));
      },
      linksByIds: (ids) => {
        const set = new Set(ids.filter((i) => UUID.test(i)).map((i) => i.toLowerCase()));
        return linksWhere((l) => set.has(l.id));
      },
      pendingLinks: () =>
        read((t) =>
          inScope(t)
            .filter((l) => l.ewsItemId === null && due(t, l, crmOf(t, l.crmId)?.version))
            .sort((a, b) => a.createdSeq - b.createdSeq)
            .map(row),
        ),
      upsertLinks: (links: LinkDraft[]) =>
        write((t) => {
          for (const d of links) {
            const old = t.links.get(d.id);
            const base = { ...structuredClone(d), mailboxId: s.mailboxId, kind: s.kind, resyncSeen: true };
            t.links.set(d.id, old ? { ...old, ...base } : { ...base, createdSeq: ++t.seq });
          }
          checkUnique(t);
        }),
      deleteLinks: (ids) =>
        write((t) =>
          ids.forEach((id) => {
            t.links.delete(id);
            t.pendingWrites.delete(id);
          }),
        ),
      markLinksUnseen: () => write((t) => inScope(t).forEach((l) => (l.resyncSeen = l.ewsItemId === null ? l.resyncSeen : false))),
      markLinksSeen: (ids) => {
        const set = new Set(ids);
        return write((t) => inScope(t).forEach((l) => (l.resyncSeen ||= l.ewsItemId !== null && set.has(l.ewsItemId))));
      },
      unseenLinks: () => linksWhere((l) => l.ewsItemId !== null && !l.resyncSeen),
      savePendingWrites: (writes) =>
        write((t) => {
          for (const w of writes) {
            if (!t.links.has(w.linkId)) throw foreignKeyViolation('pending_exchange_writes_link_id_fkey');
            t.pendingWrites.set(w.linkId, { ...structuredClone(w), mailboxId: s.mailboxId, kind: s.kind, seq: ++t.seq });
          }
        }),
      pendingWrites: () =>
        read((t) =>
          [...t.pendingWrites.values()]
            .filter((w) => w.mailboxId === s.mailboxId && w.kind === s.kind)
            .sort((a, b) => a.seq - b.seq)
            .map(({ mailboxId: _m, kind: _k, seq: _s, ...w }) => structuredClone(w)),
        ),
      deletePendingWrites: (ids) => write((t) => ids.forEach((id) => t.pendingWrites.delete(id))),
      crmItems: (ids) => read((t) => ids.flatMap((id) => (crmOf(t, id) ? [copy(crmOf(t, id)!)] : []))),
      // Transactions run one at a time, so what a transaction reads stays as it read it until it ends.
      lockCrmItems: (ids) => read((t) => new Map(ids.flatMap((id) => (crmOf(t, id) ? [[id, copy(crmOf(t, id)!)] as const] : [])))),
      unlinkedCrmItems: () =>
        read((t) => {
          const linked = new Set(inScope(t).map((l) => l.crmId));
          return [...t.crm.values()]
            .filter((r) => r.userId === s.userId && r.kind === s.kind && !r.deleted && !linked.has(r.crmId))
            .sort(byId)
            .map(copy);
        }),
      crmChangesForPush: ({ afterId, limit }) =>
        read((t) => {
          const links = new Map(inScope(t).map((l) => [l.crmId, l]));
          return [...t.crm.values()]
            .filter((r) => r.userId === s.userId && r.kind === s.kind && (afterId === undefined || r.id > afterId))
            .filter((r) => {
              const l = links.get(r.crmId);
              if (!l) return !r.deleted && r.origin === 'crm';
              return l.ewsItemId !== null && r.version > l.crmVersion && due(t, l, r.version);
            })
            .sort(byId)
            .slice(0, limit)
            .map(copy);
        }),
      writeCrmItemsFromExchange: (items) =>
        write((t) => {
          const out = new Map<string, number>();
          for (const { crmId, data } of items) {
            const r = putRow(t, this.now(), { orgId: s.orgId, userId: s.userId, kind: s.kind, crmId, data, deleted: data === null, origin: 'exchange' });
            out.set(crmId, r.version);
          }
          return out;
        }),
      writeCrmItemsWithFeed: (items) =>
        write((t) => {
          const out = new Map<string, number>();
          for (const { crmId, data } of items) {
            const r = putRow(t, this.now(), { orgId: s.orgId, userId: s.userId, kind: s.kind, crmId, data, deleted: data === null, origin: 'exchange' });
            out.set(crmId, r.version);
          }
          for (const { crmId, data } of items) {
            const e: ChangeFeedEntry = { kind: s.kind, crmId, op: data === null ? 'delete' : 'upsert', item: data };
            t.feed.push({ ...structuredClone(e), cursor: String(++t.seq), orgId: s.orgId, userId: s.userId });
          }
          return out;
        }),
      appendChanges: (entries) =>
        write((t) => {
          for (const e of entries) t.feed.push({ ...structuredClone(e), cursor: String(++t.seq), orgId: s.orgId, userId: s.userId });
        }),
      recordConflicts: (entries) =>
        write((t) => {
          for (const e of entries)
            t.conflicts.push({ ...structuredClone(e), id: String(++t.seq), mailboxId: s.mailboxId, createdAt: new Date(this.now()).toISOString() });
        }),
      recordItemFailures: (failures, backoff = DEFAULT_ITEM_BACKOFF) =>
        write((t) => {
          const now = this.now();
          for (const f of new Map(failures.map((x) => [x.crmId, x])).values()) {
            let l = inScope(t).find((x) => x.crmId === f.crmId);
            if (!l) {
              l = {
                id: randomUUID(),
                mailboxId: s.mailboxId,
                kind: s.kind,
                crmId: f.crmId,
                ewsItemId: null,
                ewsChangeKey: null,
                icalUid: null,
                crmVersion: 0,
                snapshot: null,
                resyncSeen: true,
                createdSeq: ++t.seq,
              };
              t.links.set(l.id, l);
            }
            const attempts = (l.error?.attempts ?? 0) + 1;
            const delay = Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** (attempts - 1));
            l.error = {
              kind: f.kind,
              code: f.code,
              message: f.message.slice(0, 1000),
              attempts,
              nextAt: now + delay * 1000,
              crmVersion: f.crmVersion,
              at: now,
            };
          }
        }),
      clearItemFailures: (ids) => write((t) => ids.forEach((id) => t.links.get(id) && delete t.links.get(id)!.error)),
      countFailingItems: () => read((t) => inScope(t).filter((l) => l.error).length + unreadableInScope(t).filter((u) => u.crmId === null).length),
      recordUnreadableItems: (items, backoff = DEFAULT_ITEM_BACKOFF) =>
        write((t) => {
          const now = this.now();
          for (const i of new Map(items.map((x) => [x.itemId, x])).values()) {
            const key = unreadableKey(i.itemId);
            const attempts = (t.unreadable.get(key)?.attempts ?? 0) + 1;
            const delay = Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** (attempts - 1));
            t.unreadable.set(key, {
              ...structuredClone(i),
              message: i.message.slice(0, 1000),
              mailboxId: s.mailboxId,
              scopeKind: s.kind,
              attempts,
              nextAt: now + delay * 1000,
              at: now,
              seq: ++t.seq,
            });
          }
        }),
      clearUnreadableItems: (ids) => write((t) => ids.forEach((id) => t.unreadable.delete(unreadableKey(id)))),
      dueUnreadableItems: (limit) =>
        read((t) =>
          unreadableInScope(t)
            .filter((u) => u.nextAt <= this.now())
            .sort((a, b) => a.at - b.at || a.seq - b.seq)
            .slice(0, limit)
            .map((u) => u.itemId),
        ),
      afterBulkLoad: async () => false,
    };
  }

  // --- the CRM side, as the CRM items API writes it, and what tests read back ---

  /** Creates or replaces a live item (un-deleting a tombstone), bumping its version; waits for running transactions. */
  putCrmItem(input: { orgId: string; userId: string; kind: ItemKind; crmId: string; data: unknown; origin: 'crm' | 'exchange' }): Promise<CrmItemRow> {
    return this.write((t) => structuredClone(putRow(t, this.now(), { ...input, deleted: false })));
  }

  /** Tombstones a live item; null when there is none. */
  tombstoneCrmItem(input: { userId: string; kind: ItemKind; crmId: string; origin: 'crm' | 'exchange' }): Promise<CrmItemRow | null> {
    return this.write((t) => {
      const r = t.crm.get(crmKey(input.userId, input.kind, input.crmId));
      if (!r || r.deleted) return null;
      return structuredClone(putRow(t, this.now(), { ...r, data: null, deleted: true, origin: input.origin }));
    });
  }

  getCrmItem(userId: string, kind: ItemKind, crmId: string): CrmItemRow | null {
    const r = this.t.crm.get(crmKey(userId, kind, crmId));
    return r ? structuredClone(r) : null;
  }

  /** Live items in crm id order. */
  listCrmItems(userId: string, kind: ItemKind): CrmItemRow[] {
    return [...this.t.crm.values()]
      .filter((r) => r.userId === userId && r.kind === kind && !r.deleted)
      .sort((a, b) => (a.crmId < b.crmId ? -1 : 1))
      .map((r) => structuredClone(r));
  }

  listLinks(mailboxId: string, kind: ItemKind): LinkRow[] {
    return [...this.t.links.values()]
      .filter((l) => l.mailboxId === mailboxId && l.kind === kind)
      .sort((a, b) => (a.crmId < b.crmId ? -1 : 1))
      .map(({ resyncSeen: _r, createdSeq: _c, error: _e, ...l }) => structuredClone(l));
  }

  /** Newest first, as tests/support/engineReads.ts listConflicts reads them from Postgres. */
  listConflicts(mailboxId: string): ConflictRecord[] {
    return this.t.conflicts
      .filter((c) => c.mailboxId === mailboxId)
      .reverse()
      .map((c) => structuredClone(c));
  }

  /** The feed rows of an organisation, oldest first. */
  listFeed(orgId: string): FeedRecord[] {
    return this.t.feed.filter((f) => f.orgId === orgId).map((f) => structuredClone(f));
  }

  /** Replaces the stored SyncState of every folder of a mailbox (as a test writing the table directly). */
  setSyncStates(mailboxId: string, syncState: string): void {
    for (const [key, st] of this.t.states) if (key.startsWith(`${mailboxId}|`)) st.syncState = syncState;
  }
}

function byId(a: CrmItemRow, b: CrmItemRow): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function putRow(
  t: Tables,
  now: number,
  input: { orgId: string; userId: string; kind: ItemKind; crmId: string; data: unknown; deleted: boolean; origin: 'crm' | 'exchange' },
): CrmItemRow {
  const key = crmKey(input.userId, input.kind, input.crmId);
  const old = t.crm.get(key);
  const r: CrmItemRow = {
    id: old?.id ?? orderedId(++t.seq),
    orgId: old?.orgId ?? input.orgId,
    userId: input.userId,
    kind: input.kind,
    crmId: input.crmId,
    version: old ? old.version + 1 : 1,
    data: input.deleted ? null : structuredClone(input.data),
    deleted: input.deleted,
    origin: input.origin,
    updatedAt: new Date(Math.max(now, old ? Date.parse(old.updatedAt) + 1 : 0)).toISOString(),
  };
  t.crm.set(key, r);
  return r;
}
