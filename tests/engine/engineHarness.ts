/**
 * Shared set-up for engine tests: a Postgres pool on the per-run database, an organisation, a
 * user and a mailbox, CRM writes the way the CRM items API makes them, and a port wrapper that
 * injects a crash (an exception, as a SIGKILL would stop the run) at a chosen operation.
 */
import pg from 'pg';
import type { Appointment, Contact, ItemKind, MailboxPort } from '@exsync/canonical';
import { listCrmItems, listLinks, putCrmItem, tombstoneCrmItem, getCrmItem } from '@exsync/db';
import { syncMailboxKind, type ConflictPolicy, type SyncCounts, type SyncDirection } from '@exsync/sync-engine';

export interface EngineWorld {
  pool: pg.Pool;
  orgId: string;
  userId: string;
  mailboxId: string;
}

export async function createWorld(pool: pg.Pool, email = `u${Math.random().toString(36).slice(2)}@contoso.example`): Promise<EngineWorld> {
  const org = await pool.query(`INSERT INTO organisations (name) VALUES ('Engine test') RETURNING id`);
  const user = await pool.query(`INSERT INTO users (org_id, crm_user_id, email) VALUES ($1, $2, $3) RETURNING id`, [org.rows[0].id, email, email]);
  const mb = await pool.query(`INSERT INTO mailboxes (org_id, user_id, smtp_address, enabled, state) VALUES ($1, $2, $3, true, 'scheduled') RETURNING id`, [org.rows[0].id, user.rows[0].id, email]);
  return { pool, orgId: org.rows[0].id, userId: user.rows[0].id, mailboxId: mb.rows[0].id };
}

export function newPool(): pg.Pool {
  return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
}

export function runSync(
  w: EngineWorld, port: MailboxPort, kind: ItemKind,
  opts: { policy?: ConflictPolicy; direction?: SyncDirection } = {},
): Promise<SyncCounts> {
  return syncMailboxKind({
    pool: w.pool, port, mailboxId: w.mailboxId, orgId: w.orgId, userId: w.userId, kind,
    direction: opts.direction ?? 'two-way', policy: opts.policy ?? 'newest-wins',
  });
}

export async function crmPut(w: EngineWorld, kind: ItemKind, crmId: string, data: Appointment | Contact) {
  return (await putCrmItem(w.pool, { orgId: w.orgId, userId: w.userId, kind, crmId, data, origin: 'crm' })).row;
}

export async function crmDelete(w: EngineWorld, kind: ItemKind, crmId: string) {
  return tombstoneCrmItem(w.pool, { userId: w.userId, kind, crmId, origin: 'crm' });
}

export async function crmGet(w: EngineWorld, kind: ItemKind, crmId: string) {
  return getCrmItem(w.pool, w.userId, kind, crmId);
}

export async function crmList(w: EngineWorld, kind: ItemKind) {
  return listCrmItems(w.pool, w.userId, kind, { limit: 100_000 });
}

export async function links(w: EngineWorld, kind: ItemKind) {
  return listLinks(w.pool, w.mailboxId, kind);
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
