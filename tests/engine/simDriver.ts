/**
 * A MailboxDriver over the real stack: the EWS simulator and the Entra simulator over HTTP, the
 * real MSAL and ews-javascript-api behind `openMailbox`. A "person in Outlook" edits through the
 * simulator's store (what its /_sim control API drives); reading back goes through the port.
 *
 * EXSYNC_ENGINE_TRANSPORT=graph runs the same scenarios over the Graph transport instead
 * (packages/graph-client against the Graph simulator over the same store): the person's ids are
 * then the immutable Graph ids the port sees.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { ENGINE_STORE, newPool } from './engineHarness';
import type { Appointment, Contact, ItemKind, MailboxPort } from '@exsync/canonical';
import { FOLDER_OF_KIND } from '@exsync/canonical';
import type { AppointmentJson, ContactJson } from '@exsync/ews-sim';
import type { GraphSim } from '@exsync/graph-sim';
import type { SimHarness } from '../support/sims';
import { memoryDriver, type MailboxDriver, type PersonItem } from './mailboxDriver';

/** The transport the engine scenarios run over: EXSYNC_ENGINE_TRANSPORT (default ews). */
export const ENGINE_TRANSPORT: 'ews' | 'graph' = process.env.EXSYNC_ENGINE_TRANSPORT === 'graph' ? 'graph' : 'ews';

export interface SimWorld {
  /** the simulators; absent when the scenarios run in memory (ENGINE_STORE 'memory') */
  harness: SimHarness;
  transport: 'ews' | 'graph' | 'memory';
  /** a fresh, empty mailbox in the simulator's tenant with its driver */
  mailbox(): MailboxDriver & { email: string };
  close(): Promise<void>;
}

const PHONE_KEY: Record<string, string> = {
  mobile: 'MobilePhone',
  business: 'BusinessPhone',
  home: 'HomePhone',
  business2: 'BusinessPhone2',
  home2: 'HomePhone2',
  other: 'OtherTelephone',
};

function appointmentJson(a: Partial<Appointment>): AppointmentJson {
  const out: AppointmentJson = {};
  if (a.subject !== undefined) out.subject = a.subject;
  if (a.start !== undefined) out.start = a.start;
  if (a.end !== undefined) out.end = a.end;
  if (a.body !== undefined) out.body = a.body;
  if (a.location !== undefined) out.location = a.location;
  if (a.isAllDay !== undefined) out.isAllDay = a.isAllDay;
  return out;
}

function contactJson(c: Partial<Contact>): ContactJson {
  const out: ContactJson = {};
  if (c.givenName !== undefined) out.givenName = c.givenName;
  if (c.surname !== undefined) out.surname = c.surname;
  if (c.displayName !== undefined) out.displayName = c.displayName;
  if (c.companyName !== undefined) out.companyName = c.companyName;
  if (c.jobTitle !== undefined) out.jobTitle = c.jobTitle;
  if (c.emails !== undefined) out.emails = c.emails;
  if (c.notes !== undefined) out.body = c.notes;
  if (c.phones !== undefined) out.phones = Object.fromEntries(Object.entries(c.phones).map(([k, v]) => [PHONE_KEY[k] ?? k, v as string]));
  return out;
}

/** Everything in a folder, read the way the engine reads it (sync from no state, then GetItem). */
export async function readThroughPort(port: MailboxPort, kind: ItemKind): Promise<PersonItem[]> {
  const ids: string[] = [];
  for await (const page of port.syncFolder(FOLDER_OF_KIND[kind], undefined)) {
    for (const c of page.changes) if (c.type !== 'delete') ids.push(c.itemId);
    if (!page.moreAvailable) break;
  }
  const out: PersonItem[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const res = await port.getItems(kind, ids.slice(i, i + 50));
    for (const r of res) if (r.ok) out.push({ itemId: r.value.itemId, tag: r.value.tag, item: r.value.item });
  }
  return out;
}

export async function startSimWorld(transport: 'ews' | 'graph' = ENGINE_TRANSPORT): Promise<SimWorld> {
  // Loaded here, not at the top: the in-memory run of the scenarios needs none of the transports.
  const [{ startGraphSim }, { immutableId, resolveId }, { openGraphAppOnly, startSimHarness }] = await Promise.all([
    import('@exsync/graph-sim'),
    import('@exsync/graph-sim/src/ids'),
    import('../support/sims'),
  ]);
  const harness = await startSimHarness();
  let graph: GraphSim | undefined;
  if (transport === 'graph') graph = await startGraphSim({ ews: harness.sim, jwksUrl: harness.entra.jwksUrl });
  return {
    harness,
    transport,
    mailbox() {
      const email = `engine-${randomBytes(4).toString('hex')}@${harness.sim.store ? 'contoso.example' : 'x'}`;
      harness.sim.store.createMailbox({ email, tenantId: harness.tenantId, displayName: email });
      const store = harness.sim.store;
      const mb = () => store.getMailbox(email)!;
      // the person works on the store (EWS ids); over Graph the scenario sees the port's immutable ids
      const toPort = (ewsId: string) => (graph ? immutableId(mb(), mb().items.get(ewsId)!) : ewsId);
      const toStore = (portId: string) => (graph ? resolveId(mb(), portId).item.id : portId);
      const port = graph ? openGraphAppOnly(graph.url, harness.creds, email) : harness.appOnly(email);
      return {
        email,
        port,
        async personCreate(kind, item) {
          return toPort(
            kind === 'appointment'
              ? store.createAppointment(email, appointmentJson(item as Appointment)).id
              : store.createContact(email, contactJson(item as Contact)).id,
          );
        },
        async personUpdate(kind, itemId, patch) {
          store.editItem(
            email,
            toStore(itemId),
            (kind === 'appointment' ? appointmentJson(patch as Partial<Appointment>) : contactJson(patch as Partial<Contact>)) as AppointmentJson & ContactJson,
          );
        },
        async personDelete(_kind, itemId) {
          store.removeItem(email, toStore(itemId));
        },
        list: (kind) => readThroughPort(port, kind),
        operations: () => harness.sim.requestLog.list(email).map((e) => e.operation),
        async close() {},
      };
    },
    async close() {
      await graph?.close();
      await harness.close();
    },
  };
}

/**
 * The scenarios' world in memory: each mailbox an in-memory mailbox (tests/support/memoryMailbox.ts);
 * there are no simulators, so `harness` must not be read (scenarios that need it skip in memory).
 */
export function memoryWorld(): SimWorld {
  return {
    harness: undefined as unknown as SimHarness,
    transport: 'memory',
    mailbox: () => memoryDriver(`engine-${randomBytes(4).toString('hex')}@contoso.example`),
    async close() {},
  };
}

/**
 * Registers the set-up every engine test file shares: a pool on the run's database and the two
 * simulators, opened before the file's tests and closed after them. `sim.world` is set in beforeAll.
 * With EXSYNC_ENGINE_STORE=memory the world is in memory (memoryWorld) and the pool stays unused.
 */
export function useSimWorld(): { pool: pg.Pool; sim: { world: SimWorld } } {
  const pool = newPool();
  const sim = {} as { world: SimWorld };
  beforeAll(async () => {
    sim.world = ENGINE_STORE === 'memory' ? memoryWorld() : await startSimWorld();
  });
  afterAll(async () => {
    await sim.world?.close();
    await pool.end();
  });
  return { pool, sim };
}

/**
 * Whether a simulator request-log operation reads one item in full or writes one, over either
 * transport (EWS: GetItem/CreateItem/UpdateItem/DeleteItem; Graph: `GET event|contact`, any
 * POST/PATCH/DELETE, also inside `$batch`): what a quiet sync must not do.
 */
export function isItemFetchOrWrite(operation: string | undefined): boolean {
  if (!operation) return false;
  if (/^(GetItem|CreateItem|UpdateItem|DeleteItem)$/.test(operation)) return true;
  // the outer `POST $batch` is not a write itself: its inner requests are logged one by one
  return /^(\$batch )?(GET (event|contact)$|POST (?!\$batch)|PATCH |DELETE )/.test(operation);
}
