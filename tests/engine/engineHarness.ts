/**
 * Shared set-up for engine tests: a world (an organisation, a user and a mailbox with the store the
 * engine keeps its side in), CRM writes the way the CRM items API makes them, and a port wrapper
 * that injects a crash (an exception, as a SIGKILL would stop the run) at a chosen operation.
 *
 * EXSYNC_ENGINE_STORE=memory (the `engine-in-memory` vitest project) runs the same scenarios on
 * the in-memory SyncStore (tests/support/memorySyncStore.ts) instead of Postgres.
 */
import pg from 'pg';
import type { Appointment, Contact, ItemKind, MailboxPort, SyncStore } from '@exsync/canonical';
import { getCrmItem, listCrmItems, pgSyncStore, putCrmItem, tombstoneCrmItem } from '@exsync/db';
import { listConflicts, listLinks } from '../support/engineReads';
import { syncMailboxKind, type ConflictPolicy, type SyncCounts, type SyncDirection } from '@exsync/sync-engine';
import { MemorySyncStore } from '../support/memorySyncStore';

/** The store engine scenarios run on: EXSYNC_ENGINE_STORE (default postgres). */
export const ENGINE_STORE: 'postgres' | 'memory' = process.env.EXSYNC_ENGINE_STORE === 'memory' ? 'memory' : 'postgres';

export interface EngineWorld {
  pool: pg.Pool;
  orgId: string;
  userId: string;
  mailboxId: string;
  /** set when the world lives in memory (ENGINE_STORE 'memory'); `pool` is then unused */
  memory?: MemorySyncStore;
}

export async function createWorld(pool: pg.Pool, email = `u${Math.random().toString(36).slice(2)}@contoso.example`): Promise<EngineWorld> {
  if (ENGINE_STORE === 'memory') {
    const id = () => crypto.randomUUID();
    return { pool, orgId: id(), userId: id(), mailboxId: id(), memory: new MemorySyncStore() };
  }
  const org = await pool.query(`INSERT INTO organisations (name) VALUES ('Engine test') RETURNING id`);
  const user = await pool.query(`INSERT INTO users (org_id, crm_user_id, email) VALUES ($1, $2, $3) RETURNING id`, [org.rows[0].id, email, email]);
  const mb = await pool.query(`INSERT INTO mailboxes (org_id, user_id, smtp_address, enabled, state) VALUES ($1, $2, $3, true, 'scheduled') RETURNING id`, [
    org.rows[0].id,
    user.rows[0].id,
    email,
  ]);
  return { pool, orgId: org.rows[0].id, userId: user.rows[0].id, mailboxId: mb.rows[0].id };
}

export function newPool(): pg.Pool {
  return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
}

/** The SyncStore of a world. */
export function storeOf(w: EngineWorld): SyncStore {
  return w.memory ?? pgSyncStore(w.pool);
}

export function runSync(
  w: EngineWorld,
  port: MailboxPort,
  kind: ItemKind,
  opts: { policy?: ConflictPolicy; direction?: SyncDirection } = {},
): Promise<SyncCounts> {
  return syncMailboxKind({
    store: storeOf(w),
    port,
    mailboxId: w.mailboxId,
    orgId: w.orgId,
    userId: w.userId,
    kind,
    direction: opts.direction ?? 'two-way',
    policy: opts.policy ?? 'newest-wins',
  });
}

/** A pool whose n-th COMMIT fails (the process dies just before its transaction commits). */
function poolFailingCommit(inner: pg.Pool, n: number): pg.Pool {
  let commits = 0;
  const connect = async () => {
    const client = await inner.connect();
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    const wrapped = Object.create(client) as pg.PoolClient;
    (wrapped as unknown as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
      if (text === 'COMMIT' && ++commits === n) return Promise.reject(new Error('injected crash before COMMIT'));
      return query(text, ...rest);
    };
    wrapped.release = (err?: Error | boolean) => client.release(err);
    return wrapped;
  };
  // The store uses only connect (transactions) and query (single statements).
  return { connect, query: inner.query.bind(inner) } as unknown as pg.Pool;
}

/** The same world, but its store fails the n-th transaction commit from now (a process killed just before COMMIT). */
export function worldFailingCommit(w: EngineWorld, n: number): EngineWorld {
  if (!w.memory) return { ...w, pool: poolFailingCommit(w.pool, n) };
  w.memory.failCommitNumber = w.memory.commits + n;
  return w;
}

/** Makes the world's stored SyncStates ones Exchange will reject (as a test writing the table directly). */
export async function corruptSyncStates(w: EngineWorld): Promise<void> {
  const bogus = 'bm90LWEtc3RhdGU=';
  if (w.memory) w.memory.setSyncStates(w.mailboxId, bogus);
  else await w.pool.query(`UPDATE sync_states SET sync_state = $2 WHERE mailbox_id = $1`, [w.mailboxId, bogus]);
}

export async function conflictsOf(w: EngineWorld) {
  return w.memory ? w.memory.listConflicts(w.mailboxId) : listConflicts(w.pool, w.mailboxId);
}

export async function crmPut(w: EngineWorld, kind: ItemKind, crmId: string, data: Appointment | Contact) {
  const input = { orgId: w.orgId, userId: w.userId, kind, crmId, data, origin: 'crm' as const };
  return w.memory ? w.memory.putCrmItem(input) : (await putCrmItem(w.pool, input)).row;
}

export async function crmDelete(w: EngineWorld, kind: ItemKind, crmId: string) {
  const input = { userId: w.userId, kind, crmId, origin: 'crm' as const };
  return w.memory ? w.memory.tombstoneCrmItem(input) : tombstoneCrmItem(w.pool, input);
}

export async function crmGet(w: EngineWorld, kind: ItemKind, crmId: string) {
  return w.memory ? w.memory.getCrmItem(w.userId, kind, crmId) : getCrmItem(w.pool, w.userId, kind, crmId);
}

export async function crmList(w: EngineWorld, kind: ItemKind) {
  return w.memory ? w.memory.listCrmItems(w.userId, kind) : listCrmItems(w.pool, w.userId, kind, { limit: 100_000 });
}

export async function links(w: EngineWorld, kind: ItemKind) {
  return w.memory ? w.memory.listLinks(w.mailboxId, kind) : listLinks(w.pool, w.mailboxId, kind);
}

export function zeroCounts(): SyncCounts {
  return { toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0, failingItems: 0 };
}

type PortOp = 'syncFolder' | 'getItems' | 'createItems' | 'updateItems' | 'deleteItems' | 'findByTag';

/**
 * Wraps a port; the first call of `op` throws before or after the real call takes effect.
 * For 'syncFolder' with when 'after', the crash comes after the given number of pages were
 * handed to the engine (so "mid-page": the engine has the page but has not committed it).
 */
export function crashingPort(inner: MailboxPort, op: PortOp, when: 'before' | 'after', afterPages = 1): { port: MailboxPort; fired: () => boolean } {
  let fired = false;
  const crash = () => {
    fired = true;
    return new Error(`injected crash ${when} ${op}`);
  };
  const port: MailboxPort = {
    syncFolder(folder, state) {
      if (op !== 'syncFolder' || fired) return inner.syncFolder(folder, state);
      return (async function* () {
        if (when === 'before') throw crash();
        let n = 0;
        for await (const page of inner.syncFolder(folder, state)) {
          yield page;
          if (++n >= afterPages && !fired) throw crash();
        }
      })();
    },
    async getItems(kind, ids) {
      if (op === 'getItems' && !fired && when === 'before') throw crash();
      const r = await inner.getItems(kind, ids);
      if (op === 'getItems' && !fired) throw crash();
      return r;
    },
    async createItems(kind, items) {
      if (op === 'createItems' && !fired && when === 'before') throw crash();
      const r = await inner.createItems(kind, items);
      if (op === 'createItems' && !fired) throw crash();
      return r;
    },
    async updateItems(kind, items) {
      if (op === 'updateItems' && !fired && when === 'before') throw crash();
      const r = await inner.updateItems(kind, items);
      if (op === 'updateItems' && !fired) throw crash();
      return r;
    },
    async deleteItems(ids) {
      if (op === 'deleteItems' && !fired && when === 'before') throw crash();
      const r = await inner.deleteItems(ids);
      if (op === 'deleteItems' && !fired) throw crash();
      return r;
    },
    findByTag: (kind, tag) => inner.findByTag(kind, tag),
  };
  return { port, fired: () => fired };
}

export function appointment(i: number, patch: Partial<Appointment> = {}): Appointment {
  const start = new Date(Date.UTC(2026, 11, 1, 8, 0, 0) + i * 3_600_000);
  return {
    subject: `Meeting ${i}`,
    start: start.toISOString().replace('.000Z', 'Z'),
    end: new Date(start.getTime() + 1_800_000).toISOString().replace('.000Z', 'Z'),
    timeZone: 'Europe/Berlin',
    isAllDay: false,
    ...patch,
  };
}

export function contact(i: number, patch: Partial<Contact> = {}): Contact {
  return {
    givenName: `Given${i}`,
    surname: `Surname${i}`,
    emails: [{ address: `person${i}@fabrikam.example` }],
    phones: { mobile: `+49 170 ${String(1000000 + i)}` },
    addresses: {},
    ...patch,
  };
}
