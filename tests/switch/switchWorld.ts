/**
 * An organisation synced over EWS with edits pending on both sides, ready to switch to Graph, and
 * the checks every switch test makes afterwards: 0 duplicates, 0 lost edits, links unchanged in
 * number (plus the pending creates), and what the first Graph run wrote (from the simulators'
 * request log). Used by switch.test.ts and switch-kill-9.test.ts.
 */
import { expect } from 'vitest';
import { listAllCrmItems, waitFor, type Stack, type StackUser } from '../support/stack';

export interface WorldSize {
  /** appointments in all (seeded in Exchange, one in ten recurring, plus `crm` made in the CRM) */
  appointments: number;
  contacts: number;
}

/** CRM-made items per kind; the rest is seeded in Exchange (made "in Outlook"). */
const CRM_MADE = 20;
/** pending edits per side and kind at the moment of the switch */
const EDITS = 5;

export interface PendingEdits {
  /** crm id -> subject / job title the CRM wrote and Exchange must show */
  crmAppointments: Map<string, string>;
  crmContacts: Map<string, string>;
  /** Exchange id at the switch -> subject / job title written in Outlook, which the CRM must show */
  exchangeAppointments: Map<string, string>;
  exchangeContacts: Map<string, string>;
  /** the series whose occurrence was moved in Outlook, and the subject given to it */
  exchangeOccurrence: { seriesId: string; subject: string };
  newCrmContact: string;
  newExchangeContact: string;
  /** links before the switch */
  links: number;
}

const dayStart = (offsetDays: number) => {
  const t = new Date(Date.now() + offsetDays * 86_400_000);
  t.setUTCHours(0, 0, 0, 0);
  return t;
};
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

export const isItemWrite = (op: string | undefined) => !!op && /^(\$batch )?(POST|PATCH|DELETE) /.test(op);

/** Every CRM item of a kind that is not deleted, all pages. */
export async function crmItems(stack: Stack, user: StackUser, kind: 'appointments' | 'contacts'): Promise<{ crmId: string; item: any }[]> {
  return (await listAllCrmItems(stack, user, kind)).filter((x: any) => !x.deleted && x.item);
}

export async function linkCount(stack: Stack, user: StackUser): Promise<number> {
  return Number((await stack.pool.query(`SELECT count(*) AS n FROM item_links WHERE mailbox_id = $1`, [user.mailboxId])).rows[0].n);
}

/**
 * Seeds the mailbox and the CRM, syncs over EWS until a run writes nothing (`runSync` runs one
 * sync and answers the sync status), then makes the edits that are pending at the switch.
 */
export async function syncedOverEwsWithPendingEdits(stack: Stack, user: StackUser, size: WorldSize, runSync: () => Promise<any>): Promise<PendingEdits> {
  const mb = encodeURIComponent(user.email);
  const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
  const seeded = await stack.sim('POST', `/_sim/mailboxes/${mb}/seed`, {
    calendarItems: size.appointments - CRM_MADE,
    contacts: size.contacts - CRM_MADE,
    startDate: iso(dayStart(-60)),
    recurringEvery: 10,
    seed: 16,
  });
  expect(seeded.status).toBe(200);
  for (let i = 0; i < CRM_MADE; i++) {
    const start = dayStart(3 + i);
    start.setUTCHours(15);
    expect(
      (
        await stack.api('PUT', `${base}/appointments/crm-a-${i}`, {
          subject: `CRM meeting ${i}`,
          start: iso(start),
          end: iso(new Date(start.getTime() + 3_600_000)),
          timeZone: 'UTC',
          isAllDay: false,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await stack.api('PUT', `${base}/contacts/crm-c-${i}`, {
          givenName: `Crm${i}`,
          surname: 'Contact',
          emails: [`crm${i}@fabrikam.example`],
          jobTitle: 'Buyer',
        })
      ).status,
    ).toBe(201);
  }
  for (let i = 0; i < 4; i++) {
    const s = await runSync();
    expect(s.state).toBe('healthy');
    const c = s.counts;
    if (i > 0 && [c.toExchange, c.toCrm].every((d: Record<string, number>) => d.created + d.updated + d.deleted === 0)) break;
  }
  // no run in flight or queued (the sign-in's scheduled first run included) while the edits are made:
  // they must still be pending at the switch
  await waitFor(
    'the sync queue to drain',
    async () => {
      const c = await stack.producer.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      return c.active + c.waiting + c.delayed + (c.prioritized ?? 0) === 0;
    },
    120_000,
    100,
  );
  const exchangeCalendar = stack.ews.store.readFolder(user.email, 'calendar');
  const exchangeContacts = stack.ews.store.readFolder(user.email, 'contacts');
  expect(exchangeCalendar).toHaveLength(size.appointments);
  expect(exchangeContacts).toHaveLength(size.contacts);

  // CRM edits: CRM-made appointments and contacts
  const edits: PendingEdits = {
    crmAppointments: new Map(),
    crmContacts: new Map(),
    exchangeAppointments: new Map(),
    exchangeContacts: new Map(),
    exchangeOccurrence: { seriesId: '', subject: 'Moved in Outlook before the switch' },
    newCrmContact: 'new-crm@fabrikam.example',
    newExchangeContact: 'new-outlook@contoso.example',
    links: await linkCount(stack, user),
  };
  for (let i = 0; i < EDITS; i++) {
    const start = dayStart(3 + i);
    start.setUTCHours(15);
    const subject = `CRM meeting ${i} (edited in the CRM before the switch)`;
    expect(
      (
        await stack.api('PUT', `${base}/appointments/crm-a-${i}`, {
          subject,
          start: iso(start),
          end: iso(new Date(start.getTime() + 3_600_000)),
          timeZone: 'UTC',
          isAllDay: false,
        })
      ).status,
    ).toBe(200);
    edits.crmAppointments.set(`crm-a-${i}`, subject);
    const jobTitle = `Edited in the CRM ${i}`;
    expect(
      (await stack.api('PUT', `${base}/contacts/crm-c-${i}`, { givenName: `Crm${i}`, surname: 'Contact', emails: [`crm${i}@fabrikam.example`], jobTitle }))
        .status,
    ).toBe(200);
    edits.crmContacts.set(`crm-c-${i}`, jobTitle);
  }
  // Outlook edits: seeded single appointments, CRM-made (tagged) contacts, one occurrence of a series
  const singles = exchangeCalendar.filter((a) => !a.recurrence && String(a.fields.Subject).includes('#'));
  for (let i = 0; i < EDITS; i++) {
    const subject = `${singles[i].fields.Subject} (edited in Outlook before the switch)`;
    expect((await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(singles[i].id)}`, { subject })).status).toBe(200);
    edits.exchangeAppointments.set(singles[i].id, subject);
  }
  // CRM-made contacts the CRM did not edit (crm15..crm19): the two sides' edits never meet
  for (let i = 0; i < EDITS; i++) {
    const c = exchangeContacts.find((x) => JSON.stringify(x.fields).includes(`crm${CRM_MADE - 1 - i}@fabrikam.example`))!;
    const jobTitle = `Edited in Outlook ${i}`;
    expect((await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(c.id)}`, { jobTitle })).status).toBe(200);
    edits.exchangeContacts.set(c.id, jobTitle);
  }
  const series = exchangeCalendar.find((a) => a.recurrence)!;
  edits.exchangeOccurrence.seriesId = series.id;
  expect(
    (await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(series.id)}/occurrences/5`, { subject: edits.exchangeOccurrence.subject }))
      .status,
  ).toBe(200);
  // a pending create on each side
  expect((await stack.api('PUT', `${base}/contacts/crm-c-new`, { givenName: 'New', surname: 'Crm', emails: [edits.newCrmContact] })).status).toBe(201);
  expect((await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: 'New', surname: 'Outlook', emails: [edits.newExchangeContact] })).status).toBe(
    201,
  );
  return edits;
}

/** What the first Graph run may write on each side: exactly the pending edits and creates. */
export function expectedFirstRun(edits: PendingEdits) {
  return {
    toExchange: { created: 1, updated: edits.crmAppointments.size + edits.crmContacts.size, deleted: 0 },
    // the Outlook edits, the series whose occurrence moved, the new Outlook contact
    toCrm: { created: 1, updated: edits.exchangeAppointments.size + edits.exchangeContacts.size + 1, deleted: 0 },
  };
}

/**
 * The converged state after the switch: every mailbox item once in the CRM and every CRM item once
 * in the mailbox (0 duplicates), every pending edit on the other side (0 lost edits), one link per
 * item (the links before the switch plus the two pending creates), each on a Graph id with the EWS
 * id kept. Answers the figures for a report line.
 */
export async function expectConverged(
  stack: Stack,
  user: StackUser,
  size: WorldSize,
  edits: PendingEdits,
): Promise<{ duplicates: number; lostEdits: number; links: number }> {
  const calendar = stack.ews.store.readFolder(user.email, 'calendar');
  const contacts = stack.ews.store.readFolder(user.email, 'contacts');
  const crmApts = await crmItems(stack, user, 'appointments');
  const crmCons = await crmItems(stack, user, 'contacts');
  const subjects = calendar.map((a) => String(a.fields.Subject));
  const crmSubjects = crmApts.map((a) => a.item.subject as string);
  const emailOf = (c: { fields: Record<string, unknown> }) =>
    JSON.stringify(c.fields)
      .match(/[\w.-]+@[\w.-]+\.(example|net)/)?.[0]
      ?.toLowerCase() ?? '';
  const emails = contacts.map(emailOf);
  const crmEmails = crmCons.map((c) => String(c.item.emails?.[0]?.address ?? '').toLowerCase());
  const dup = (xs: string[]) => xs.length - new Set(xs).size;
  const duplicates =
    dup(subjects) +
    dup(crmSubjects) +
    dup(emails) +
    dup(crmEmails) +
    Math.max(0, calendar.length - size.appointments) +
    Math.max(0, contacts.length - size.contacts - 2);

  let lostEdits = 0;
  for (const [crmId, subject] of edits.crmAppointments)
    if (!subjects.includes(subject)) {
      lostEdits++;
      console.log('lost CRM appointment edit', crmId);
    }
  for (const [crmId, jobTitle] of edits.crmContacts)
    if (!contacts.some((c) => c.fields.JobTitle === jobTitle)) {
      lostEdits++;
      console.log('lost CRM contact edit', crmId);
    }
  for (const subject of edits.exchangeAppointments.values())
    if (!crmSubjects.includes(subject)) {
      lostEdits++;
      console.log('lost Outlook appointment edit', subject);
    }
  for (const jobTitle of edits.exchangeContacts.values())
    if (!crmCons.some((c) => c.item.jobTitle === jobTitle)) {
      lostEdits++;
      console.log('lost Outlook contact edit', jobTitle);
    }
  // the moved occurrence is an exception of its series in the CRM item
  if (!JSON.stringify(crmApts).includes(edits.exchangeOccurrence.subject)) {
    lostEdits++;
    console.log('lost Outlook occurrence edit');
  }
  for (const email of [edits.newCrmContact, edits.newExchangeContact])
    if (!emails.includes(email) || !crmEmails.includes(email)) {
      lostEdits++;
      console.log('lost create', email);
    }

  const links = await stack.pool.query(`SELECT ews_item_id, previous_item_id FROM item_links WHERE mailbox_id = $1`, [user.mailboxId]);
  expect(calendar).toHaveLength(size.appointments);
  expect(contacts).toHaveLength(size.contacts + 2);
  expect(crmApts).toHaveLength(size.appointments);
  expect(crmCons).toHaveLength(size.contacts + 2);
  expect(duplicates).toBe(0);
  expect(lostEdits).toBe(0);
  expect(links.rows).toHaveLength(edits.links + 2);
  // every link on a Graph id now, the EWS id kept beside it (the two made after the switch have none)
  expect(links.rows.filter((r) => !r.ews_item_id || r.ews_item_id.startsWith('missing:'))).toEqual([]);
  expect(links.rows.filter((r) => r.previous_item_id).length).toBe(edits.links);
  return { duplicates, lostEdits, links: links.rows.length };
}
