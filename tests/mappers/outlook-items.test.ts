/**
 * Items a person made in Outlook (seeded through the simulator's store, without exsync's extended
 * properties) read into canonical form: zone from the Windows id alone, exceptions with their
 * overrides, read-only organizer/attendees/iCalUId.
 */
import * as ews from 'ews-javascript-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEwsHarness, MAILBOX, type EwsHarness } from '../support/sims';
import { readAppointment, readContact } from './roundTripSupport';

let h: EwsHarness;
beforeAll(async () => {
  h = await startEwsHarness();
});
afterAll(async () => {
  await h?.close();
});

it('reads an Outlook series with a moved and a deleted occurrence', async () => {
  const series = h.sim.store.createAppointment(MAILBOX, {
    subject: 'Design review',
    body: 'Agenda & notes',
    location: 'Room 4',
    start: '2026-03-02T03:30:00Z', // Monday 09:00 in Kolkata
    end: '2026-03-02T04:30:00Z',
    timeZone: 'India Standard Time',
    attendees: ['bob@contoso.example'],
    recurrence: { pattern: 'weekly', interval: 1, daysOfWeek: ['Monday', 'Wednesday'], startDate: '2026-03-02', numberOfOccurrences: 5 },
  });
  h.sim.store.editOccurrence(MAILBOX, series.id, 2, {
    subject: 'Design review (moved)',
    start: '2026-03-04T05:30:00Z',
    end: '2026-03-04T06:30:00Z',
  });
  h.sim.store.deleteOccurrence(MAILBOX, series.id, 3);

  const a = await readAppointment(h.service, new ews.ItemId(series.id));
  expect(a).toMatchObject({
    subject: 'Design review',
    body: 'Agenda & notes',
    location: 'Room 4',
    start: '2026-03-02T03:30:00Z',
    end: '2026-03-02T04:30:00Z',
    timeZone: 'Asia/Kolkata',
    isAllDay: false,
    recurrence: {
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] },
      range: { type: 'numbered', startDate: '2026-03-02', numberOfOccurrences: 5 },
      modifiedOccurrences: [
        {
          originalStart: '2026-03-04T03:30:00Z',
          start: '2026-03-04T05:30:00Z',
          end: '2026-03-04T06:30:00Z',
          subject: 'Design review (moved)',
        },
      ],
      deletedOccurrences: ['2026-03-09T03:30:00Z'],
    },
  });
  expect(a.organizer?.email).toBe(MAILBOX);
  expect(a.attendees?.map((x) => x.email)).toEqual(['bob@contoso.example']);
  expect(a.iCalUId).toBeTruthy();
});

it('reads an Outlook contact', async () => {
  const c = h.sim.store.createContact(MAILBOX, {
    givenName: 'Grace',
    surname: 'Hopper',
    companyName: 'Navy',
    jobTitle: 'Rear Admiral',
    emails: [{ address: 'grace@navy.example' }, { address: 'gh@example.org' }],
    phones: { MobilePhone: '+1 555 0100', BusinessFax: '+1 555 0199' },
    body: 'COBOL',
  });
  expect(await readContact(h.service, new ews.ItemId(c.id))).toEqual({
    givenName: 'Grace',
    surname: 'Hopper',
    companyName: 'Navy',
    jobTitle: 'Rear Admiral',
    emails: [
      { address: 'grace@navy.example', slot: 1 },
      { address: 'gh@example.org', slot: 2 },
    ],
    phones: { mobile: '+1 555 0100', businessFax: '+1 555 0199' },
    addresses: {},
    notes: 'COBOL',
  });
});

it('keeps emails in their slots when Outlook left EmailAddress1 empty', async () => {
  const { updateContact } = await import('./roundTripSupport');
  const c = h.sim.store.createContact(MAILBOX, { givenName: 'Sparse', emails: [] });
  // a person typed only the second email field
  const item = await ews.Contact.Bind(h.service, new ews.ItemId(c.id));
  item.EmailAddresses._setItem(ews.EmailAddressKey.EmailAddress2, new ews.EmailAddress('two@example.org'));
  await item.Update(ews.ConflictResolutionMode.AlwaysOverwrite);
  const id = new ews.ItemId(c.id);
  expect((await readContact(h.service, id)).emails).toEqual([{ address: 'two@example.org', slot: 2 }]);
  await updateContact(h.service, id, {
    givenName: 'Sparse',
    emails: [{ address: 'two@example.org', slot: 2 }, { address: 'three@example.org' }],
    phones: {},
    addresses: {},
  });
  // the new address takes the lowest free slot; the one in slot 2 stays there
  expect((await readContact(h.service, id)).emails).toEqual([
    { address: 'three@example.org', slot: 1 },
    { address: 'two@example.org', slot: 2 },
  ]);
});
