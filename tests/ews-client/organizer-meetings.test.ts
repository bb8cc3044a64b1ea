import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Contact } from '@exsync/canonical';
import { BOB, startSimHarness, type SimHarness } from '../support/sims';

/**
 * The deleteOrganizerMeetings policy over EWS (issue 16), against the EWS simulator over HTTP:
 * by default a meeting the mailbox organises with attendees is read first (IsMeeting,
 * MyResponseType) and left in place with MeetingDeleteRefused, while plain appointments and contacts
 * in the same batch are deleted; under the policy the meeting is deleted too.
 */
let h: SimHarness;
beforeAll(async () => {
  h = await startSimHarness();
});
afterAll(async () => {
  await h?.close();
});

const plain: Appointment = { subject: 'Dentist', start: '2026-05-04T09:00:00.000Z', end: '2026-05-04T10:00:00.000Z', timeZone: 'UTC', isAllDay: false };
const contact: Contact = { givenName: 'Dana', surname: 'Scully', emails: [], phones: {}, addresses: {} };

describe('deleteOrganizerMeetings over EWS', () => {
  it('leaves an organizer meeting with attendees in place by default and deletes everything else', async () => {
    const meeting = h.sim.store.createAppointment(BOB.email, {
      subject: 'Board meeting',
      start: '2026-05-05T09:00:00Z',
      end: '2026-05-05T10:00:00Z',
      attendees: ['board@fabrikam.example'],
    });
    const mb = h.appOnly(BOB.email);
    const [apt] = await mb.createItems('appointment', [{ tag: crypto.randomUUID(), item: plain }]);
    const [con] = await mb.createItems('contact', [{ tag: crypto.randomUUID(), item: contact }]);
    if (!apt.ok || !con.ok) throw new Error('create failed');
    const [m, a, c] = await mb.deleteItems([meeting.id, apt.value.itemId, con.value.itemId]);
    expect(!m.ok && { kind: m.error.kind, code: m.error.code, scope: m.error.scope }).toEqual({
      kind: 'Permanent',
      code: 'MeetingDeleteRefused',
      scope: 'item',
    });
    expect([a.ok, c.ok]).toEqual([true, true]);
    // deletes go to Deleted Items: the calendar keeps the meeting only
    const calendarIds = () => h.sim.store.readFolder(BOB.email, 'calendar').map((i) => i.id);
    expect(calendarIds()).toContain(meeting.id);
    expect(calendarIds()).not.toContain(apt.value.itemId);

    const [allowed] = await h.appOnly(BOB.email, { deleteOrganizerMeetings: true }).deleteItems([meeting.id]);
    expect(allowed.ok).toBe(true);
    expect(calendarIds()).not.toContain(meeting.id);
    expect(h.sim.store.readFolder(BOB.email, 'deleteditems').map((i) => i.id)).toContain(meeting.id);
  });
});
