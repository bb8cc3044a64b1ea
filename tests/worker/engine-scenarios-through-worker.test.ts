/**
 * The engine's hardest promises, end to end: CRM writes through the API, syncs run by the worker
 * from the BullMQ queue, Exchange as the EWS simulator, status read from the API. (tests/engine
 * covers the same rules below the worker, case by case.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  // No worker yet: the first-sync test fills both sides before anything syncs.
  stack = await startStack({ worker: false });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const base = (u: StackUser) => `/v1/orgs/${stack.orgId}/users/${u.userId}`;

async function listAll(u: StackUser, kind: 'appointments' | 'contacts'): Promise<any[]> {
  const out: any[] = [];
  let after: string | undefined;
  for (;;) {
    const res = await stack.api('GET', `${base(u)}/${kind}?limit=200${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    expect(res.status).toBe(200);
    const items: any[] = res.body.items;
    out.push(...items);
    if (items.length < 200) return out;
    after = items[items.length - 1].crmId;
  }
}

describe('engine scenarios through the API, Redis and the worker', () => {
  it('first sync with 200 overlapping contacts and 100 overlapping appointments creates no duplicates', async () => {
    const user = await stack.addUser();
    for (let i = 0; i < 200; i++) {
      stack.ews.store.createContact(user.email, { givenName: `Given${i}`, surname: `Person${i}`, emails: [`person${i}@fabrikam.example`] });
      const res = await stack.api('PUT', `${base(user)}/contacts/contact-${i}`, {
        givenName: `Given${i}`,
        surname: `Person${i}`,
        emails: [`Person${i}@Fabrikam.example`],
        phones: {},
        addresses: {},
      });
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < 100; i++) {
      const start = new Date(Date.UTC(2026, 11, 1, 8) + i * 7_200_000);
      const end = new Date(start.getTime() + 3_600_000);
      stack.ews.store.createAppointment(user.email, { subject: `Visit ${i}`, start: start.toISOString(), end: end.toISOString() });
      const res = await stack.api('PUT', `${base(user)}/appointments/visit-${i}`, {
        subject: `Visit ${i}`,
        start: start.toISOString(),
        end: end.toISOString(),
        timeZone: 'UTC',
        isAllDay: false,
      });
      expect(res.status).toBe(201);
    }
    await stack.startWorker();
    const status = await stack.syncNow(user, { timeoutMs: 120_000 });
    expect(status.state).toBe('healthy');
    expect(stack.ews.store.readFolder(user.email, 'contacts')).toHaveLength(200);
    expect(stack.ews.store.readFolder(user.email, 'calendar')).toHaveLength(100);
    expect(await listAll(user, 'contacts')).toHaveLength(200);
    expect(await listAll(user, 'appointments')).toHaveLength(100);
  });

  it('an appointment edited on both sides keeps one-sided fields, follows the policy on shared ones, and shows the conflict in status', async () => {
    const user = await stack.addUser({ syncContacts: false });
    const original = {
      subject: 'Budget review',
      location: 'Room 1',
      body: 'Agenda',
      start: '2026-12-03T09:00:00Z',
      end: '2026-12-03T10:00:00Z',
      timeZone: 'UTC',
      isAllDay: false,
    };
    expect((await stack.api('PUT', `${base(user)}/appointments/budget`, original)).status).toBe(201);
    await stack.syncNow(user);
    const [inExchange] = stack.ews.store.readFolder(user.email, 'calendar');

    // Outlook first (subject + location), then the CRM (subject + body): newest-wins picks the CRM's subject.
    stack.ews.store.editItem(user.email, inExchange.id, { subject: 'Budget review (Outlook)', location: 'Room 9' });
    await new Promise((r) => setTimeout(r, 1_100)); // the policy compares edit times at second precision
    expect((await stack.api('PUT', `${base(user)}/appointments/budget`, { ...original, subject: 'Budget review (CRM)', body: 'New agenda' })).status).toBe(200);
    const status = await stack.syncNow(user);

    expect(status.conflicts.total).toBeGreaterThanOrEqual(1);
    expect(status.conflicts.recent[0].fields).toContain('subject');
    const merged = (await stack.api('GET', `${base(user)}/appointments/budget`)).body.item;
    expect(merged).toMatchObject({ subject: 'Budget review (CRM)', location: 'Room 9', body: 'New agenda' });
    const [after] = stack.ews.store.readFolder(user.email, 'calendar');
    expect(after.fields).toMatchObject({ Subject: 'Budget review (CRM)', Location: 'Room 9' });
  });

  it('a recurring series with a modified and a deleted occurrence survives the round trip both ways', async () => {
    const user = await stack.addUser({ syncContacts: false });
    // Outlook -> CRM
    const series = stack.ews.store.createAppointment(user.email, {
      subject: 'Weekly sync',
      start: '2026-12-07T09:00:00Z',
      end: '2026-12-07T09:30:00Z',
      recurrence: { pattern: 'weekly', interval: 1, daysOfWeek: ['Monday'], numberOfOccurrences: 6 },
    });
    stack.ews.store.editOccurrence(user.email, series.id, 2, { subject: 'Weekly sync (moved)', start: '2026-12-15T10:00:00Z', end: '2026-12-15T10:30:00Z' });
    stack.ews.store.deleteOccurrence(user.email, series.id, 3);
    // CRM -> Outlook
    expect(
      (
        await stack.api('PUT', `${base(user)}/appointments/standup`, {
          subject: 'Daily stand-up',
          start: '2026-12-07T08:00:00Z',
          end: '2026-12-07T08:15:00Z',
          timeZone: 'UTC',
          isAllDay: false,
          recurrence: {
            pattern: { type: 'daily', interval: 1 },
            range: { type: 'numbered', startDate: '2026-12-07', numberOfOccurrences: 5 },
            modifiedOccurrences: [
              { originalStart: '2026-12-08T08:00:00Z', subject: 'Stand-up (late)', start: '2026-12-08T09:00:00Z', end: '2026-12-08T09:15:00Z' },
            ],
            deletedOccurrences: ['2026-12-09T08:00:00Z'],
          },
        })
      ).status,
    ).toBe(201);
    const status = await stack.syncNow(user);
    expect(status.state).toBe('healthy');

    const inCrm = await listAll(user, 'appointments');
    const fromOutlook = inCrm.find((a) => a.item.subject === 'Weekly sync').item.recurrence;
    expect(fromOutlook.modifiedOccurrences).toHaveLength(1);
    expect(fromOutlook.modifiedOccurrences[0]).toMatchObject({ subject: 'Weekly sync (moved)', start: '2026-12-15T10:00:00Z' });
    expect(fromOutlook.deletedOccurrences).toHaveLength(1);

    const standup = stack.ews.store.readFolder(user.email, 'calendar').find((i) => i.fields.Subject === 'Daily stand-up')!;
    expect(standup.exceptions).toHaveLength(1);
    expect(standup.exceptions![0].originalStart).toBe('2026-12-08T08:00:00Z');
    expect(standup.deletedOccurrences).toEqual(['2026-12-09T08:00:00Z']);

    // And nothing echoes: the next run writes nothing on either side.
    const again = await stack.syncNow(user);
    expect(again.counts).toEqual({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0 });
  });
});
