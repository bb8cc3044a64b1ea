/**
 * Issue 14, end to end (API, worker, simulators): a sync changes only what a person changed.
 * Each case runs both directions and a round trip through an unrelated edit on each side, and
 * checks Exchange's side in the simulator's stored XML (not through exsync's mapper).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackUser } from '../support/stack';
import { entries, findSimItem, readStored, storedDiff, writable } from '../support/storedItem';

let stack: Stack;
let user: StackUser;
let base: string;
let mb: string;

beforeAll(async () => {
  stack = await startStack();
  user = await stack.addUser();
  await stack.waitForRunAfter(user, new Date(0));
  base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
  mb = encodeURIComponent(user.email);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** The CRM's copy of an item by a field value (items made in Outlook get engine-minted ids). */
async function crmItemWhere(path: 'appointments' | 'contacts', field: string, value: string): Promise<{ crmId: string; item: any }> {
  const items = (await stack.api('GET', `${base}/${path}?limit=1000`)).body.items as { crmId: string; item: any }[];
  const hit = items.find((i) => i.item[field] === value);
  if (!hit) throw new Error(`no CRM ${path} with ${field} ${value}`);
  return hit;
}

async function put(path: 'appointments' | 'contacts', crmId: string, item: object): Promise<void> {
  const res = await stack.api('PUT', `${base}/${path}/${crmId}`, item);
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${crmId}: ${res.status} ${JSON.stringify(res.body)}`);
}

async function outlookEdit(itemId: string, patch: object): Promise<void> {
  const res = await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(itemId)}`, patch);
  if (res.status !== 200) throw new Error(`sim PATCH: ${res.status} ${JSON.stringify(res.body)}`);
}

async function outlookCreate(folder: 'calendar' | 'contacts', item: object): Promise<string> {
  const res = await stack.sim('POST', `/_sim/mailboxes/${mb}/${folder}`, item);
  if (res.status !== 201) throw new Error(`sim POST: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function sync(): Promise<void> {
  const status = await stack.syncNow(user);
  if (status.state !== 'healthy' && status.state !== 'idle') {
    // the status body names the failure when a run failed
    expect(status.lastError ?? null).toBeNull();
  }
}

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
    ['UTC midnights, Los Angeles (west of UTC)', 'America/Los_Angeles', '2027-05-10T00:00:00Z', '2027-05-11T00:00:00Z', '2027-05-10T07:00:00Z', '2027-05-11T07:00:00Z'],
    ['local midnights, Los Angeles', 'America/Los_Angeles', '2027-05-10T07:00:00Z', '2027-05-11T07:00:00Z', '2027-05-10T07:00:00Z', '2027-05-11T07:00:00Z'],
  ] as const) {
    it(`${label}: kept in the CRM's form through an Outlook edit, untouched in Exchange by a CRM edit`, async () => {
      const crmId = `allday-${zone.replace('/', '-')}-${start.slice(11, 13)}`;
      const subject = `All day ${label}`;
      const item = { subject, start, end, timeZone: zone, isAllDay: true };
      await put('appointments', crmId, item);
      await sync();
      const exId = await findSimItem(stack, user.email, 'calendar', 'Subject', subject);
      let stored = await readStored(stack, user.email, exId);
      expect([stored.fields.Start.text, stored.fields.End.text, stored.fields.IsAllDayEvent.text]).toEqual([exStart, exEnd, 'true']);

      // Outlook: only the location
      await outlookEdit(exId, { location: 'Garden' });
      await sync();
      const crm = (await stack.api('GET', `${base}/appointments/${crmId}`)).body.item;
      expect(crm).toMatchObject({ start, end, timeZone: zone, isAllDay: true, location: 'Garden' });

      // CRM: only the subject; Exchange's bounds, zone and everything else stay
      const before = await readStored(stack, user.email, exId);
      await put('appointments', crmId, writable({ ...crm, subject: `${subject}!` }));
      await sync();
      stored = await readStored(stack, user.email, exId);
      expect(storedDiff(before, stored)).toEqual(['Subject']);

      // Outlook moves the day: the CRM gets the new dates in the form it writes
      await outlookEdit(exId, { start: '2027-06-01T00:00:00', end: '2027-06-02T00:00:00' });
      await sync();
      const moved = (await stack.api('GET', `${base}/appointments/${crmId}`)).body.item;
      const utcForm = start.endsWith('T00:00:00Z');
      expect(utcForm ? [moved.start, moved.end] : [moved.start.slice(0, 10), moved.isAllDay]).toEqual(
        utcForm ? ['2027-06-01T00:00:00Z', '2027-06-02T00:00:00Z'] : ['2027-06-01', true],
      );
    });
  }

  it('an all-day event made in Outlook west of UTC reaches the CRM as local midnights and survives a CRM edit', async () => {
    const exId = await outlookCreate('calendar', {
      subject: 'Outlook all day west', start: '2027-02-03T00:00:00', end: '2027-02-04T00:00:00', isAllDay: true, timeZone: 'Pacific Standard Time',
    });
    await sync();
    const crm = await crmItemWhere('appointments', 'subject', 'Outlook all day west');
    expect(crm.item).toMatchObject({ start: '2027-02-03T08:00:00Z', end: '2027-02-04T08:00:00Z', isAllDay: true, timeZone: 'America/Los_Angeles' });
    const before = await readStored(stack, user.email, exId);
    await put('appointments', crm.crmId, writable({ ...crm.item, location: 'Home' }));
    await sync();
    expect(storedDiff(before, await readStored(stack, user.email, exId))).toEqual(['Location']);
  });
});

describe('2. birthdays', () => {
  // the instant Outlook stores is local midnight; PidLidBirthdayLocal holds the date itself
  for (const [label, instant, local] of [
    ['UTC+13 (New Zealand summer)', '1980-01-18T00:00:00+13:00', '1980-01-18'],
    ['UTC+14 (Kiritimati)', '1980-01-18T00:00:00+14:00', '1980-01-18'],
    ['UTC-10 (Hawaii): the same instant as +14, a day earlier', '1980-01-17T00:00:00-10:00', '1980-01-17'],
  ] as const) {
    it(`${label}: the CRM gets the local date, and a CRM edit of another field leaves both properties`, async () => {
      const given = `Birthday ${local} ${instant.slice(-6)}`;
      const exId = await outlookCreate('contacts', { givenName: given, birthday: instant, birthdayLocal: local });
      await sync();
      const crm = await crmItemWhere('contacts', 'givenName', given);
      expect(crm.item.birthday).toBe(local);
      const before = await readStored(stack, user.email, exId);
      await put('contacts', crm.crmId, { ...crm.item, jobTitle: 'Planner' });
      await sync();
      expect(storedDiff(before, await readStored(stack, user.email, exId))).toEqual(['JobTitle']);
    });
  }

  it("without PidLidBirthdayLocal, the mailbox's own zone (OWA.UserOptions) dates the instant", async () => {
    for (const [windowsZone, instant, local] of [
      ['New Zealand Standard Time', '1981-01-18T00:00:00+13:00', '1981-01-18'],
      ['Hawaiian Standard Time', '1981-01-17T00:00:00-10:00', '1981-01-17'],
    ] as const) {
      expect((await stack.sim('PUT', `/_sim/mailboxes/${mb}/time-zone`, { timeZone: windowsZone })).status).toBe(200);
      const given = `Zoned ${windowsZone}`;
      const exId = await outlookCreate('contacts', { givenName: given, birthday: instant });
      await sync();
      const crm = await crmItemWhere('contacts', 'givenName', given);
      expect(crm.item.birthday).toBe(local);
      const before = await readStored(stack, user.email, exId);
      await put('contacts', crm.crmId, { ...crm.item, jobTitle: 'Surveyor' });
      await sync();
      expect(storedDiff(before, await readStored(stack, user.email, exId))).toEqual(['JobTitle']);
    }
    await stack.sim('PUT', `/_sim/mailboxes/${mb}/time-zone`, { timeZone: null });
  });

  it('a birthday the CRM sets is written as the instant and as PidLidBirthdayLocal, and reads back as the same date', async () => {
    await put('contacts', 'bday-crm', { givenName: 'Bday', surname: 'Crm', emails: [], phones: {}, addresses: {}, birthday: '1990-02-28' });
    await sync();
    const exId = await findSimItem(stack, user.email, 'contacts', 'GivenName', 'Bday');
    const stored = await readStored(stack, user.email, exId);
    expect(stored.fields.Birthday.text).toBe('1990-02-28T00:00:00Z');
    const local = stored.extended.find((e) => e.children[0].attrs.PropertyId === '32990' || e.children[0].attrs.PropertyId === '0x80DE');
    expect(local?.children.find((c) => c.name === 'Value')?.text.slice(0, 10)).toBe('1990-02-28');
    // Outlook: unrelated edit; the CRM keeps the date
    await outlookEdit(exId, { jobTitle: 'Baker' });
    await sync();
    expect((await stack.api('GET', `${base}/contacts/bday-crm`)).body.item).toMatchObject({ birthday: '1990-02-28', jobTitle: 'Baker' });
  });
});

describe('3. customized time zones', () => {
  it('a single event: mapped to a matching IANA zone; a CRM location edit keeps the definition and the times', async () => {
    const exId = await outlookCreate('calendar', {
      subject: 'Custom single', start: '2027-04-12T09:00:00', end: '2027-04-12T10:00:00', timeZoneDefinition: CUSTOM_CET,
    });
    await sync();
    const crm = await crmItemWhere('appointments', 'subject', 'Custom single');
    expect(crm.item.start).toBe('2027-04-12T07:00:00Z');
    expect([offsetOf(crm.item.timeZone, '2027-01-15T12:00:00Z'), offsetOf(crm.item.timeZone, '2027-07-15T12:00:00Z')]).toEqual([60, 120]);
    const before = await readStored(stack, user.email, exId);
    expect(before.startTimeZone.id).toBe('Customized Time Zone');
    await put('appointments', crm.crmId, writable({ ...crm.item, location: 'Room 7' }));
    await sync();
    expect(storedDiff(before, await readStored(stack, user.email, exId))).toEqual(['Location']);
    // Outlook edits the subject: the CRM's zone and times stay
    await outlookEdit(exId, { subject: 'Custom single (renamed)' });
    await sync();
    expect((await stack.api('GET', `${base}/appointments/${crm.crmId}`)).body.item).toMatchObject({
      subject: 'Custom single (renamed)', timeZone: crm.item.timeZone, start: crm.item.start, end: crm.item.end, location: 'Room 7',
    });
  });

  it('an all-day event in a custom zone keeps its bounds and zone through a CRM edit', async () => {
    const exId = await outlookCreate('calendar', {
      subject: 'Custom all day', start: '2027-08-02T00:00:00', end: '2027-08-03T00:00:00', isAllDay: true, timeZoneDefinition: CUSTOM_CET,
    });
    await sync();
    const crm = await crmItemWhere('appointments', 'subject', 'Custom all day');
    expect(crm.item).toMatchObject({ start: '2027-08-01T22:00:00Z', end: '2027-08-02T22:00:00Z', isAllDay: true });
    const before = await readStored(stack, user.email, exId);
    await put('appointments', crm.crmId, writable({ ...crm.item, location: 'Lake' }));
    await sync();
    expect(storedDiff(before, await readStored(stack, user.email, exId))).toEqual(['Location']);
  });

  it('a weekly series crossing the March change keeps every occurrence at 09:00 local after a CRM location edit', async () => {
    const exId = await outlookCreate('calendar', {
      subject: 'Custom weekly', start: '2027-03-15T09:00:00', end: '2027-03-15T10:00:00', timeZoneDefinition: CUSTOM_CET,
      recurrence: { pattern: 'weekly', daysOfWeek: ['Monday'], numberOfOccurrences: 4 },
    });
    await sync();
    const crm = await crmItemWhere('appointments', 'subject', 'Custom weekly');
    expect(crm.item.recurrence.pattern).toMatchObject({ type: 'weekly', daysOfWeek: ['monday'] });
    const before = await readStored(stack, user.email, exId);
    await put('appointments', crm.crmId, writable({ ...crm.item, location: 'Room 9' }));
    await sync();
    const after = await readStored(stack, user.email, exId);
    expect(storedDiff(before, after)).toEqual(['Location']);
    // occurrences: 15 and 22 March at 08:00Z (UTC+1), 29 March and 5 April at 07:00Z (UTC+2)
    const occ = await stack.sim('GET', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(exId)}`);
    expect(occ.body.recurrence.timeZone).toBe('Customized Time Zone');
    expect(occ.body.fields.OccurrenceCount).toBe(4);
    expect(after.fields.Start.text).toBe('2027-03-15T08:00:00Z');
  });
});

describe('4. HTML bodies', () => {
  const html = '<html><body><p>Join <a href="https://meet.example.test/j/1">call</a></p></body></html>';

  it('an appointment: the CRM gets text; a CRM location edit leaves the HTML; a CRM body edit writes text', async () => {
    const exId = await outlookCreate('calendar', { subject: 'Html meeting', start: '2027-03-03T10:00:00Z', end: '2027-03-03T11:00:00Z', body: html, bodyType: 'HTML' });
    await sync();
    const crm = await crmItemWhere('appointments', 'subject', 'Html meeting');
    expect(crm.item.body).toBe('Join call');
    const before = await readStored(stack, user.email, exId);
    await put('appointments', crm.crmId, writable({ ...crm.item, location: 'Online' }));
    await sync();
    const after = await readStored(stack, user.email, exId);
    expect(storedDiff(before, after)).toEqual(['Location']);
    expect(after.fields.Body).toMatchObject({ attrs: { BodyType: 'HTML' }, text: html });
    await put('appointments', crm.crmId, writable({ ...crm.item, location: 'Online', body: 'Join by phone' }));
    await sync();
    const edited = await readStored(stack, user.email, exId);
    expect(storedDiff(after, edited)).toEqual(['Body']);
    expect(edited.fields.Body).toMatchObject({ attrs: { BodyType: 'Text' }, text: 'Join by phone' });
  });

  it("a CRM move of one occurrence of an HTML series writes only that occurrence's times", async () => {
    const exId = await outlookCreate('calendar', {
      subject: 'Html series', start: '2027-04-05T10:00:00Z', end: '2027-04-05T11:00:00Z', body: html, bodyType: 'HTML',
      recurrence: { pattern: 'weekly', daysOfWeek: ['Monday'], numberOfOccurrences: 3 },
    });
    await sync();
    const crm = await crmItemWhere('appointments', 'subject', 'Html series');
    expect(crm.item.body).toBe('Join call');
    const moved = { originalStart: '2027-04-12T10:00:00Z', start: '2027-04-12T14:00:00Z', end: '2027-04-12T15:00:00Z' };
    await put('appointments', crm.crmId, writable({ ...crm.item, recurrence: { ...crm.item.recurrence, modifiedOccurrences: [moved] } }));
    await sync();
    const series = await stack.sim('GET', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(exId)}`);
    expect(series.body.exceptions).toHaveLength(1);
    // the exception overrides its times only; its body is still the series' HTML
    expect(Object.keys(series.body.exceptions[0].fields).sort()).toEqual(['End', 'Start']);
    expect((await readStored(stack, user.email, exId)).fields.Body).toMatchObject({ attrs: { BodyType: 'HTML' }, text: html });
    expect((await stack.api('GET', `${base}/appointments/${crm.crmId}`)).body.item.recurrence.modifiedOccurrences).toEqual([moved]);
  });

  it("a contact's notes: the CRM gets text; a CRM job title edit leaves the HTML", async () => {
    const exId = await outlookCreate('contacts', { givenName: 'Htmlnotes', body: '<html><body><b>VIP</b> customer</body></html>', bodyType: 'HTML' });
    await sync();
    const crm = await crmItemWhere('contacts', 'givenName', 'Htmlnotes');
    expect(crm.item.notes).toBe('VIP customer');
    const before = await readStored(stack, user.email, exId);
    await put('contacts', crm.crmId, { ...crm.item, jobTitle: 'Buyer' });
    await sync();
    const after = await readStored(stack, user.email, exId);
    expect(storedDiff(before, after)).toEqual(['JobTitle']);
    expect(after.fields.Body.attrs.BodyType).toBe('HTML');
    // Outlook edits the HTML: the CRM gets the new text
    await outlookEdit(exId, { body: '<html><body><b>VIP</b> customer since 2020</body></html>', bodyType: 'HTML' });
    await sync();
    expect((await stack.api('GET', `${base}/contacts/${crm.crmId}`)).body.item).toMatchObject({ notes: 'VIP customer since 2020', jobTitle: 'Buyer' });
  });
});

describe('5. indexed contact dictionaries with gaps', () => {
  it('Outlook-made: slots, names, phone and address keys survive a CRM edit of another field', async () => {
    const exId = await outlookCreate('contacts', {
      givenName: 'Pat',
      emails: [{ address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 }, { address: 'pat.home@example.test', slot: 3 }],
      phones: { BusinessPhone2: '+1 555 0102', HomePhone2: '+1 555 0202' },
      addresses: { Other: { city: 'Springfield', postalCode: '12345' } },
    });
    await sync();
    const crm = await crmItemWhere('contacts', 'givenName', 'Pat');
    expect(crm.item).toMatchObject({
      emails: [{ address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 }, { address: 'pat.home@example.test', slot: 3 }],
      phones: { business2: '+1 555 0102', home2: '+1 555 0202' },
      addresses: { other: { city: 'Springfield', postalCode: '12345' } },
    });
    const before = await readStored(stack, user.email, exId);
    await put('contacts', crm.crmId, { ...crm.item, jobTitle: 'Engineer' });
    await sync();
    const after = await readStored(stack, user.email, exId);
    expect(storedDiff(before, after)).toEqual(['JobTitle']);
    expect(Object.keys(entries(after, 'EmailAddresses'))).toEqual(['EmailAddress2', 'EmailAddress3']);
    expect(entries(after, 'EmailAddresses').EmailAddress2.attrs.Name).toBe('Pat (Work)');

    // CRM changes one slot: only that slot is written
    const emails = [{ address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 }, { address: 'pat@home.example.test', slot: 3 }];
    await put('contacts', crm.crmId, { ...crm.item, jobTitle: 'Engineer', emails });
    await sync();
    const slotEdit = await readStored(stack, user.email, exId);
    expect(storedDiff(after, slotEdit)).toEqual(['EmailAddresses']);
    expect(Object.fromEntries(Object.entries(entries(slotEdit, 'EmailAddresses')).map(([k, e]) => [k, [e.text, e.attrs.Name]]))).toEqual({
      EmailAddress2: ['pat.work@example.test', 'Pat (Work)'], EmailAddress3: ['pat@home.example.test', undefined],
    });
  });

  it('CRM-made: gapped slots reach Exchange as given and survive an Outlook edit of another field', async () => {
    const item = {
      givenName: 'Robin',
      emails: [{ address: 'robin@example.test', name: 'Robin (Home)', slot: 3 }],
      phones: { mobile: '+1 555 0303', homeFax: '+1 555 0404' },
      addresses: { home: { street: '1 Elm St', city: 'Shelbyville' } },
    };
    await put('contacts', 'robin', item);
    await sync();
    const exId = await findSimItem(stack, user.email, 'contacts', 'GivenName', 'Robin');
    const stored = await readStored(stack, user.email, exId);
    expect(Object.keys(entries(stored, 'EmailAddresses'))).toEqual(['EmailAddress3']);
    expect(entries(stored, 'EmailAddresses').EmailAddress3.attrs.Name).toBe('Robin (Home)');
    expect(Object.keys(entries(stored, 'PhoneNumbers')).sort()).toEqual(['HomeFax', 'MobilePhone']);
    expect(Object.keys(entries(stored, 'PhysicalAddresses'))).toEqual(['Home']);
    await outlookEdit(exId, { companyName: 'Elm Co' });
    await sync();
    expect((await stack.api('GET', `${base}/contacts/robin`)).body.item).toEqual({ ...item, companyName: 'Elm Co' });
  });
});

describe('6. canonical emails', () => {
  it('"Name <address>" is stored as name and address, both directions', async () => {
    const res = await stack.api('PUT', `${base}/contacts/jane`, { givenName: 'Jane', emails: ['Jane Doe <jane.doe@example.test>', 'jd@example.test'], phones: {}, addresses: {} });
    expect(res.status).toBe(201);
    expect(res.body.item.emails).toEqual([{ address: 'jane.doe@example.test', name: 'Jane Doe' }, { address: 'jd@example.test' }]);
    await sync();
    const exId = await findSimItem(stack, user.email, 'contacts', 'GivenName', 'Jane');
    const e = entries(await readStored(stack, user.email, exId), 'EmailAddresses');
    expect([e.EmailAddress1.text, e.EmailAddress1.attrs.Name, e.EmailAddress2.text]).toEqual(['jane.doe@example.test', 'Jane Doe', 'jd@example.test']);
    await outlookEdit(exId, { jobTitle: 'Editor' });
    await sync();
    expect((await stack.api('GET', `${base}/contacts/jane`)).body.item.emails).toEqual([{ address: 'jane.doe@example.test', name: 'Jane Doe' }, { address: 'jd@example.test' }]);
  });

  it('a string that is not an address is refused with 400 naming the entry', async () => {
    const res = await stack.api('PUT', `${base}/contacts/bad`, { givenName: 'Bad', emails: ['ok@example.test', 'Jane Doe'], phones: {}, addresses: {} });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), field: 'emails.1' });
    const slots = await stack.api('PUT', `${base}/contacts/bad`, { givenName: 'Bad', emails: [{ address: 'a@example.test', slot: 2 }, { address: 'b@example.test', slot: 2 }], phones: {}, addresses: {} });
    expect(slots.status).toBe(400);
    expect(slots.body.field).toBe('emails.1');
  });
});
