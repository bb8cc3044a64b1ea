/**
 * A MailboxDriver over the real stack: the EWS simulator and the Entra simulator over HTTP, the
 * real MSAL and ews-javascript-api behind `openMailbox`. A "person in Outlook" edits through the
 * simulator's store (what its /_sim control API drives); reading back goes through the port.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { newPool } from './engineHarness';
import type { Appointment, Contact, ItemKind, MailboxPort } from '@exsync/canonical';
import { FOLDER_OF_KIND } from '@exsync/canonical';
import type { AppointmentJson, ContactJson } from '@exsync/ews-sim';
import { startSimHarness, type SimHarness } from '../ews-client/simHarness';
import type { MailboxDriver, PersonItem } from './mailboxDriver';

export interface SimWorld {
  harness: SimHarness;
  /** a fresh, empty mailbox in the simulator's tenant with its driver */
  mailbox(): MailboxDriver & { email: string };
  close(): Promise<void>;
}

const PHONE_KEY: Record<string, string> = { mobile: 'MobilePhone', business: 'BusinessPhone', home: 'HomePhone', business2: 'BusinessPhone2', home2: 'HomePhone2', other: 'OtherTelephone' };

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

export async function startSimWorld(): Promise<SimWorld> {
  const harness = await startSimHarness();
  return {
    harness,
    mailbox() {
      const email = `engine-${randomBytes(4).toString('hex')}@${harness.sim.store ? 'contoso.example' : 'x'}`;
      harness.sim.store.createMailbox({ email, tenantId: harness.tenantId, displayName: email });
      const port = harness.appOnly(email);
      const store = harness.sim.store;
      return {
        email,
        port,
        async personCreate(kind, item) {
          return kind === 'appointment'
            ? store.createAppointment(email, appointmentJson(item as Appointment)).id
            : store.createContact(email, contactJson(item as Contact)).id;
        },
        async personUpdate(kind, itemId, patch) {
          store.editItem(email, itemId, (kind === 'appointment' ? appointmentJson(patch as Partial<Appointment>) : contactJson(patch as Partial<Contact>)) as AppointmentJson & ContactJson);
        },
        async personDelete(_kind, itemId) {
          store.removeItem(email, itemId);
        },
        list: (kind) => readThroughPort(port, kind),
        async close() {},
      };
    },
    close: () => harness.close(),
  };
}

/**
 * Registers the set-up every engine test file shares: a pool on the run's database and the two
 * simulators, opened before the file's tests and closed after them. `sim.world` is set in beforeAll.
 */
export function useSimWorld(): { pool: pg.Pool; sim: { world: SimWorld } } {
  const pool = newPool();
  const sim = {} as { world: SimWorld };
  beforeAll(async () => {
    sim.world = await startSimWorld();
  });
  afterAll(async () => {
    await sim.world?.close();
    await pool.end();
  });
  return { pool, sim };
}
