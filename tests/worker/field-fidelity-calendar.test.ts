/**
 * Issue 14, end to end (API, worker, simulators), calendar: a sync changes only what a person
 * changed. All-day bounds (UTC and local midnights, east and west of UTC), customized time zones
 * (a single event, an all-day event, a series crossing a DST change) and HTML bodies; both
 * directions and a round trip through an unrelated edit on each side, Exchange checked in the
 * simulator's stored XML (not through exsync's mapper).
 */
import { describe, expect, it } from 'vitest';
import { crmGet, crmItemWhere, crmPut, outlookCreate, outlookEdit, syncRun } from '../support/fidelityWorld';
import { useUserStack } from '../support/stack';
import { findSimItem, readStored, storedDiff, writable } from '../support/storedItem';

const w = useUserStack();

/** "Customized Time Zone": UTC+1, UTC+2 from the last Sunday of March 02:00 to the last Sunday of October 03:00. */
const CUSTOM_CET = {
  standardBias: -60,
  daylight: {
    bias: -120,
    start: { month: 3, dayOfWeek: 0, occurrence: -1, timeOffsetMinutes: 120 },
    end: { month: 10, dayOfWeek: 0, occurrence: -1, timeOffsetMinutes: 180 },
  },
};

function offsetOf(zone: string, iso: string): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const name = f.formatToParts(new Date(iso)).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

describe('1. all-day bounds', () => {
  for (const [label, zone, start, end, exStart, exEnd] of [
    ['UTC midnights, Auckland', 'Pacific/Auckland', '2027-05-10T00:00:00Z', '2027-05-11T00:00:00Z', '2027-05-09T12:00:00Z', '2027-05-10T12:00:00Z'],
    [
      'UTC midnights, Los Angeles (west of UTC)',
      'America/Los_Angeles',
      '2027-05-10T00:00:00Z',
      '2027-05-11T00:00:00Z',
      '2027-05-10T07:00:00Z',
      '2027-05-11T07:00:00Z',
    ],
    ['local midnights, Los Angeles', 'America/Los_Angeles', '2027-05-10T07:00:00Z', '2027-05-11T07:00:00Z', '2027-05-10T07:00:00Z', '2027-05-11T07:00:00Z'],
  ] as const) {
    it(`${label}: kept in the CRM's form through an Outlook edit, untouched in Exchange by a CRM edit`, async () => {
      const crmId = `allday-${zone.replace('/', '-')}-${start.slice(11, 13)}`;
      const subject = `All day ${label}`;
      const item = { subject, start, end, timeZone: zone, isAllDay: true };
      await crmPut(w, 'appointments', crmId, item);
      await syncRun(w);
      const exId = await findSimItem(w.stack, w.user.email, 'calendar', 'Subject', subject);
      let stored = await readStored(w.stack, w.user.email, exId);
      expect([stored.fields.Start.text, stored.fields.End.text, stored.fields.IsAllDayEvent.text]).toEqual([exStart, exEnd, 'true']);

      // Outlook: only the location
      await outlookEdit(w, exId, { location: 'Garden' });
      await syncRun(w);
      const crm = await crmGet(w, 'appointments', crmId);
      expect(crm).toMatchObject({ start, end, timeZone: zone, isAllDay: true, location: 'Garden' });

      // CRM: only the subject; Exchange's bounds, zone and everything else stay
      const before = await readStored(w.stack, w.user.email, exId);
      await crmPut(w, 'appointments', crmId, writable({ ...crm, subject: `${subject}!` }));
      await syncRun(w);
      stored = await readStored(w.stack, w.user.email, exId);
      expect(storedDiff(before, stored)).toEqual(['Subject']);

      // Outlook moves the day: the CRM gets the new dates in the form it writes
      await outlookEdit(w, exId, { start: '2027-06-01T00:00:00', end: '2027-06-02T00:00:00' });
      await syncRun(w);
      const moved = await crmGet(w, 'appointments', crmId);
      const utcForm = start.endsWith('T00:00:00Z');
      expect(utcForm ? [moved.start, moved.end] : [moved.start.slice(0, 10), moved.isAllDay]).toEqual(
        utcForm ? ['2027-06-01T00:00:00Z', '2027-06-02T00:00:00Z'] : ['2027-06-01', true],
      );
    });
  }

  it('an all-day event made in Outlook west of UTC reaches the CRM as local midnights and survives a CRM edit', async () => {
    const exId = await outlookCreate(w, 'calendar', {
      subject: 'Outlook all day west',
      start: '2027-02-03T00:00:00',
      end: '2027-02-04T00:00:00',
      isAllDay: true,
      timeZone: 'Pacific Standard Time',
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'appointments', 'subject', 'Outlook all day west');
    expect(crm.item).toMatchObject({ start: '2027-02-03T08:00:00Z', end: '2027-02-04T08:00:00Z', isAllDay: true, timeZone: 'America/Los_Angeles' });
    const before = await readStored(w.stack, w.user.email, exId);
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, location: 'Home' }));
    await syncRun(w);
    expect(storedDiff(before, await readStored(w.stack, w.user.email, exId))).toEqual(['Location']);
  });
});

describe('3. customized time zones', () => {
  it('a single event: mapped to a matching IANA zone; a CRM location edit keeps the definition and the times', async () => {
    const exId = await outlookCreate(w, 'calendar', {
      subject: 'Custom single',
      start: '2027-04-12T09:00:00',
      end: '2027-04-12T10:00:00',
      timeZoneDefinition: CUSTOM_CET,
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'appointments', 'subject', 'Custom single');
    expect(crm.item.start).toBe('2027-04-12T07:00:00Z');
    expect([offsetOf(crm.item.timeZone, '2027-01-15T12:00:00Z'), offsetOf(crm.item.timeZone, '2027-07-15T12:00:00Z')]).toEqual([60, 120]);
    const before = await readStored(w.stack, w.user.email, exId);
    expect(before.startTimeZone.id).toBe('Customized Time Zone');
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, location: 'Room 7' }));
    await syncRun(w);
    expect(storedDiff(before, await readStored(w.stack, w.user.email, exId))).toEqual(['Location']);
    // Outlook edits the subject: the CRM's zone and times stay
    await outlookEdit(w, exId, { subject: 'Custom single (renamed)' });
    await syncRun(w);
    expect(await crmGet(w, 'appointments', crm.crmId)).toMatchObject({
      subject: 'Custom single (renamed)',
      timeZone: crm.item.timeZone,
      start: crm.item.start,
      end: crm.item.end,
      location: 'Room 7',
    });
  });

  it('an all-day event in a custom zone keeps its bounds and zone through a CRM edit', async () => {
    const exId = await outlookCreate(w, 'calendar', {
      subject: 'Custom all day',
      start: '2027-08-02T00:00:00',
      end: '2027-08-03T00:00:00',
      isAllDay: true,
      timeZoneDefinition: CUSTOM_CET,
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'appointments', 'subject', 'Custom all day');
    expect(crm.item).toMatchObject({ start: '2027-08-01T22:00:00Z', end: '2027-08-02T22:00:00Z', isAllDay: true });
    const before = await readStored(w.stack, w.user.email, exId);
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, location: 'Lake' }));
    await syncRun(w);
    expect(storedDiff(before, await readStored(w.stack, w.user.email, exId))).toEqual(['Location']);
  });

  it('a weekly series crossing the March change keeps every occurrence at 09:00 local after a CRM location edit', async () => {
    const exId = await outlookCreate(w, 'calendar', {
      subject: 'Custom weekly',
      start: '2027-03-15T09:00:00',
      end: '2027-03-15T10:00:00',
      timeZoneDefinition: CUSTOM_CET,
      recurrence: { pattern: 'weekly', daysOfWeek: ['Monday'], numberOfOccurrences: 4 },
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'appointments', 'subject', 'Custom weekly');
    expect(crm.item.recurrence.pattern).toMatchObject({ type: 'weekly', daysOfWeek: ['monday'] });
    const before = await readStored(w.stack, w.user.email, exId);
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, location: 'Room 9' }));
    await syncRun(w);
    const after = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(before, after)).toEqual(['Location']);
    // occurrences: 15 and 22 March at 08:00Z (UTC+1), 29 March and 5 April at 07:00Z (UTC+2)
    const occ = await w.stack.sim('GET', `/_sim/mailboxes/${w.mb}/items/${encodeURIComponent(exId)}`);
    expect(occ.body.recurrence.timeZone).toBe('Customized Time Zone');
    expect(occ.body.fields.OccurrenceCount).toBe(4);
    expect(after.fields.Start.text).toBe('2027-03-15T08:00:00Z');
  });
});

describe('4. HTML bodies', () => {
  const html = '<html><body><p>Join <a href="https://meet.example.test/j/1">call</a></p></body></html>';

  it('an appointment: the CRM gets text; a CRM location edit leaves the HTML; a CRM body edit writes text', async () => {
    const exId = await outlookCreate(w, 'calendar', {
      subject: 'Html meeting',
      start: '2027-03-03T10:00:00Z',
      end: '2027-03-03T11:00:00Z',
      body: html,
      bodyType: 'HTML',
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'appointments', 'subject', 'Html meeting');
    expect(crm.item.body).toBe('Join call');
    const before = await readStored(w.stack, w.user.email, exId);
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, location: 'Online' }));
    await syncRun(w);
    const after = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(before, after)).toEqual(['Location']);
    expect(after.fields.Body).toMatchObject({ attrs: { BodyType: 'HTML' }, text: html });
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, location: 'Online', body: 'Join by phone' }));
    await syncRun(w);
    const edited = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(after, edited)).toEqual(['Body']);
    expect(edited.fields.Body).toMatchObject({ attrs: { BodyType: 'Text' }, text: 'Join by phone' });
  });

  it("a CRM move of one occurrence of an HTML series writes only that occurrence's times", async () => {
    const exId = await outlookCreate(w, 'calendar', {
      subject: 'Html series',
      start: '2027-04-05T10:00:00Z',
      end: '2027-04-05T11:00:00Z',
      body: html,
      bodyType: 'HTML',
      recurrence: { pattern: 'weekly', daysOfWeek: ['Monday'], numberOfOccurrences: 3 },
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'appointments', 'subject', 'Html series');
    expect(crm.item.body).toBe('Join call');
    const moved = { originalStart: '2027-04-12T10:00:00Z', start: '2027-04-12T14:00:00Z', end: '2027-04-12T15:00:00Z' };
    await crmPut(w, 'appointments', crm.crmId, writable({ ...crm.item, recurrence: { ...crm.item.recurrence, modifiedOccurrences: [moved] } }));
    await syncRun(w);
    const series = await w.stack.sim('GET', `/_sim/mailboxes/${w.mb}/items/${encodeURIComponent(exId)}`);
    expect(series.body.exceptions).toHaveLength(1);
    // the exception overrides its times only; its body is still the series' HTML
    expect(Object.keys(series.body.exceptions[0].fields).sort()).toEqual(['End', 'Start']);
    expect((await readStored(w.stack, w.user.email, exId)).fields.Body).toMatchObject({ attrs: { BodyType: 'HTML' }, text: html });
    expect((await crmGet(w, 'appointments', crm.crmId)).recurrence.modifiedOccurrences).toEqual([moved]);
  });
});
