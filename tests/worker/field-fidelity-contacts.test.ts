/**
 * Issue 14, end to end (API, worker, simulators), contacts: birthdays at UTC+13, +14 and -10,
 * HTML notes, every indexed dictionary (emails with display names, phones, postal addresses) with
 * gaps in its slots, and canonical email entries; both directions and a round trip through an
 * unrelated edit on each side, Exchange checked in the simulator's stored XML.
 */
import { describe, expect, it } from 'vitest';
import { crmGet, crmItemWhere, crmPut, outlookCreate, outlookEdit, syncRun } from '../support/fidelityWorld';
import { useUserStack } from '../support/stack';
import { entries, findSimItem, readStored, storedDiff } from '../support/storedItem';

const w = useUserStack();

describe('2. birthdays', () => {
  // the instant Outlook stores is local midnight; PidLidBirthdayLocal holds the date itself
  for (const [label, instant, local] of [
    ['UTC+13 (New Zealand summer)', '1980-01-18T00:00:00+13:00', '1980-01-18'],
    ['UTC+14 (Kiritimati)', '1980-01-18T00:00:00+14:00', '1980-01-18'],
    ['UTC-10 (Hawaii): the same instant as +14, a day earlier', '1980-01-17T00:00:00-10:00', '1980-01-17'],
  ] as const) {
    it(`${label}: the CRM gets the local date, and a CRM edit of another field leaves both properties`, async () => {
      const given = `Birthday ${local} ${instant.slice(-6)}`;
      const exId = await outlookCreate(w, 'contacts', { givenName: given, birthday: instant, birthdayLocal: local });
      await syncRun(w);
      const crm = await crmItemWhere(w, 'contacts', 'givenName', given);
      expect(crm.item.birthday).toBe(local);
      const before = await readStored(w.stack, w.user.email, exId);
      await crmPut(w, 'contacts', crm.crmId, { ...crm.item, jobTitle: 'Planner' });
      await syncRun(w);
      expect(storedDiff(before, await readStored(w.stack, w.user.email, exId))).toEqual(['JobTitle']);
    });
  }

  it("without PidLidBirthdayLocal, the mailbox's own zone (OWA.UserOptions) dates the instant", async () => {
    for (const [windowsZone, instant, local] of [
      ['New Zealand Standard Time', '1981-01-18T00:00:00+13:00', '1981-01-18'],
      ['Hawaiian Standard Time', '1981-01-17T00:00:00-10:00', '1981-01-17'],
    ] as const) {
      expect((await w.stack.sim('PUT', `/_sim/mailboxes/${w.mb}/time-zone`, { timeZone: windowsZone })).status).toBe(200);
      const given = `Zoned ${windowsZone}`;
      const exId = await outlookCreate(w, 'contacts', { givenName: given, birthday: instant });
      await syncRun(w);
      const crm = await crmItemWhere(w, 'contacts', 'givenName', given);
      expect(crm.item.birthday).toBe(local);
      const before = await readStored(w.stack, w.user.email, exId);
      await crmPut(w, 'contacts', crm.crmId, { ...crm.item, jobTitle: 'Surveyor' });
      await syncRun(w);
      expect(storedDiff(before, await readStored(w.stack, w.user.email, exId))).toEqual(['JobTitle']);
    }
    await w.stack.sim('PUT', `/_sim/mailboxes/${w.mb}/time-zone`, { timeZone: null });
  });

  it('a birthday the CRM sets is written as the instant and as PidLidBirthdayLocal, and reads back as the same date', async () => {
    await crmPut(w, 'contacts', 'bday-crm', { givenName: 'Bday', surname: 'Crm', emails: [], phones: {}, addresses: {}, birthday: '1990-02-28' });
    await syncRun(w);
    const exId = await findSimItem(w.stack, w.user.email, 'contacts', 'GivenName', 'Bday');
    const stored = await readStored(w.stack, w.user.email, exId);
    expect(stored.fields.Birthday.text).toBe('1990-02-28T00:00:00Z');
    const local = stored.extended.find((e) => e.children[0].attrs.PropertyId === '32990' || e.children[0].attrs.PropertyId === '0x80DE');
    expect(local?.children.find((c) => c.name === 'Value')?.text.slice(0, 10)).toBe('1990-02-28');
    // Outlook: unrelated edit; the CRM keeps the date
    await outlookEdit(w, exId, { jobTitle: 'Baker' });
    await syncRun(w);
    expect(await crmGet(w, 'contacts', 'bday-crm')).toMatchObject({ birthday: '1990-02-28', jobTitle: 'Baker' });
  });
});

describe('4. HTML bodies (contact notes)', () => {
  it("a contact's notes: the CRM gets text; a CRM job title edit leaves the HTML", async () => {
    const exId = await outlookCreate(w, 'contacts', { givenName: 'Htmlnotes', body: '<html><body><b>VIP</b> customer</body></html>', bodyType: 'HTML' });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'contacts', 'givenName', 'Htmlnotes');
    expect(crm.item.notes).toBe('VIP customer');
    const before = await readStored(w.stack, w.user.email, exId);
    await crmPut(w, 'contacts', crm.crmId, { ...crm.item, jobTitle: 'Buyer' });
    await syncRun(w);
    const after = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(before, after)).toEqual(['JobTitle']);
    expect(after.fields.Body.attrs.BodyType).toBe('HTML');
    // Outlook edits the HTML: the CRM gets the new text
    await outlookEdit(w, exId, { body: '<html><body><b>VIP</b> customer since 2020</body></html>', bodyType: 'HTML' });
    await syncRun(w);
    expect(await crmGet(w, 'contacts', crm.crmId)).toMatchObject({ notes: 'VIP customer since 2020', jobTitle: 'Buyer' });
  });
});

describe('5. indexed contact dictionaries with gaps', () => {
  it('Outlook-made: slots, names, phone and address keys survive a CRM edit of another field', async () => {
    const exId = await outlookCreate(w, 'contacts', {
      givenName: 'Pat',
      emails: [
        { address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 },
        { address: 'pat.home@example.test', slot: 3 },
      ],
      phones: { BusinessPhone2: '+1 555 0102', HomePhone2: '+1 555 0202' },
      addresses: { Other: { city: 'Springfield', postalCode: '12345' } },
    });
    await syncRun(w);
    const crm = await crmItemWhere(w, 'contacts', 'givenName', 'Pat');
    expect(crm.item).toMatchObject({
      emails: [
        { address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 },
        { address: 'pat.home@example.test', slot: 3 },
      ],
      phones: { business2: '+1 555 0102', home2: '+1 555 0202' },
      addresses: { other: { city: 'Springfield', postalCode: '12345' } },
    });
    const before = await readStored(w.stack, w.user.email, exId);
    await crmPut(w, 'contacts', crm.crmId, { ...crm.item, jobTitle: 'Engineer' });
    await syncRun(w);
    const after = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(before, after)).toEqual(['JobTitle']);
    expect(Object.keys(entries(after, 'EmailAddresses'))).toEqual(['EmailAddress2', 'EmailAddress3']);
    expect(entries(after, 'EmailAddresses').EmailAddress2.attrs.Name).toBe('Pat (Work)');

    // a CRM that keeps plain addresses sends them back as strings: slots and names stay
    const plain = { ...crm.item, jobTitle: 'Lead engineer', emails: ['pat.work@example.test', 'PAT.HOME@example.test'] };
    await crmPut(w, 'contacts', crm.crmId, plain);
    expect((await crmGet(w, 'contacts', crm.crmId)).emails).toEqual([
      { address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 },
      { address: 'PAT.HOME@example.test', slot: 3 },
    ]);
    await syncRun(w);
    const afterPlain = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(after, afterPlain)).toEqual(['JobTitle']);

    // CRM changes one slot: only that slot is written
    const emails = [
      { address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 },
      { address: 'pat@home.example.test', slot: 3 },
    ];
    await crmPut(w, 'contacts', crm.crmId, { ...crm.item, jobTitle: 'Lead engineer', emails });
    await syncRun(w);
    const slotEdit = await readStored(w.stack, w.user.email, exId);
    expect(storedDiff(afterPlain, slotEdit)).toEqual(['EmailAddresses']);
    expect(Object.fromEntries(Object.entries(entries(slotEdit, 'EmailAddresses')).map(([k, e]) => [k, [e.text, e.attrs.Name]]))).toEqual({
      EmailAddress2: ['pat.work@example.test', 'Pat (Work)'],
      EmailAddress3: ['pat@home.example.test', undefined],
    });
  });

  it('CRM-made: gapped slots reach Exchange as given and survive an Outlook edit of another field', async () => {
    const item = {
      givenName: 'Robin',
      emails: [{ address: 'robin@example.test', name: 'Robin (Home)', slot: 3 }],
      phones: { mobile: '+1 555 0303', homeFax: '+1 555 0404' },
      addresses: { home: { street: '1 Elm St', city: 'Shelbyville' } },
    };
    await crmPut(w, 'contacts', 'robin', item);
    await syncRun(w);
    const exId = await findSimItem(w.stack, w.user.email, 'contacts', 'GivenName', 'Robin');
    const stored = await readStored(w.stack, w.user.email, exId);
    expect(Object.keys(entries(stored, 'EmailAddresses'))).toEqual(['EmailAddress3']);
    expect(entries(stored, 'EmailAddresses').EmailAddress3.attrs.Name).toBe('Robin (Home)');
    expect(Object.keys(entries(stored, 'PhoneNumbers')).sort()).toEqual(['HomeFax', 'MobilePhone']);
    expect(Object.keys(entries(stored, 'PhysicalAddresses'))).toEqual(['Home']);
    await outlookEdit(w, exId, { companyName: 'Elm Co' });
    await syncRun(w);
    expect(await crmGet(w, 'contacts', 'robin')).toEqual({ ...item, companyName: 'Elm Co' });
  });
});

describe('6. canonical emails', () => {
  it('"Name <address>" is stored as name and address, both directions', async () => {
    const res = await w.stack.api('PUT', `${w.base}/contacts/jane`, {
      givenName: 'Jane',
      emails: ['Jane Doe <jane.doe@example.test>', 'jd@example.test'],
      phones: {},
      addresses: {},
    });
    expect(res.status).toBe(201);
    expect(res.body.item.emails).toEqual([{ address: 'jane.doe@example.test', name: 'Jane Doe' }, { address: 'jd@example.test' }]);
    await syncRun(w);
    const exId = await findSimItem(w.stack, w.user.email, 'contacts', 'GivenName', 'Jane');
    const e = entries(await readStored(w.stack, w.user.email, exId), 'EmailAddresses');
    expect([e.EmailAddress1.text, e.EmailAddress1.attrs.Name, e.EmailAddress2.text]).toEqual(['jane.doe@example.test', 'Jane Doe', 'jd@example.test']);
    await outlookEdit(w, exId, { jobTitle: 'Editor' });
    await syncRun(w);
    expect((await crmGet(w, 'contacts', 'jane')).emails).toEqual([{ address: 'jane.doe@example.test', name: 'Jane Doe' }, { address: 'jd@example.test' }]);
  });

  it('a string that is not an address is refused with 400 naming the entry', async () => {
    const res = await w.stack.api('PUT', `${w.base}/contacts/bad`, { givenName: 'Bad', emails: ['ok@example.test', 'Jane Doe'], phones: {}, addresses: {} });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), field: 'emails.1' });
    const slots = await w.stack.api('PUT', `${w.base}/contacts/bad`, {
      givenName: 'Bad',
      emails: [
        { address: 'a@example.test', slot: 2 },
        { address: 'b@example.test', slot: 2 },
      ],
      phones: {},
      addresses: {},
    });
    expect(slots.status).toBe(400);
    expect(slots.body.field).toBe('emails.1');
  });
});
