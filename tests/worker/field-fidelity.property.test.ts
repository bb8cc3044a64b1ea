/**
 * Issue 14, property: "edit one field on one side, sync" changes exactly that field on the other
 * side and nothing else. Generated items on both sides (all-day in zones east and west of UTC,
 * customized time zones, HTML bodies, gapped email/phone/address slots, birthdays far from UTC),
 * one generated edit each, all in one world and two sync runs. Exchange's side is checked element
 * by element in the simulator's stored XML (control API), never through exsync's mapper.
 * Replay a failure with EXSYNC_FIDELITY_SEED=<seed>; EXSYNC_FIDELITY_CASES sets the count (min 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useUserStack } from '../support/stack';
import { readStored, storedDiff, writable, type StoredItem } from '../support/storedItem';

const SEED = Number(process.env.EXSYNC_FIDELITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Math.max(200, Number(process.env.EXSYNC_FIDELITY_CASES ?? 200));

const w = useUserStack();

// ------------------------------------------------------------------------------------------
// Generated items

type Side = 'crm' | 'exchange';
type AptField = 'subject' | 'location' | 'body' | 'time';
type ConField = 'jobTitle' | 'companyName' | 'notes' | 'email' | 'phone' | 'birthday';

interface AptCase {
  kind: 'appointment';
  origin: Side;
  zone: { iana: string; windows: string } | { custom: CustomZone };
  allDay: boolean;
  allDayForm: 'utc' | 'local';
  day: number; // days after 2027-01-04
  hour: number;
  body?: { text: string; html: boolean };
  location?: string;
  weekly: boolean;
  edit: { side: Side; field: AptField };
}

interface ConCase {
  kind: 'contact';
  origin: Side;
  emails: { slot: 1 | 2 | 3; name?: string }[];
  phones: string[]; // canonical kinds
  addresses: ('business' | 'home' | 'other')[];
  notes?: { text: string; html: boolean };
  birthday?: { date: string; offsetHours: number };
  edit: { side: Side; field: ConField };
}

type Case = (AptCase | ConCase) & { n: number };

interface CustomZone {
  standardBias: number;
  daylight?: { bias: number; start: Rule; end: Rule };
}
interface Rule {
  month: number;
  dayOfWeek: number;
  occurrence: number;
  timeOffsetMinutes: number;
}

const ZONES = [
  { iana: 'Pacific/Auckland', windows: 'New Zealand Standard Time' },
  { iana: 'America/Los_Angeles', windows: 'Pacific Standard Time' },
  { iana: 'Pacific/Honolulu', windows: 'Hawaiian Standard Time' },
  { iana: 'Europe/Berlin', windows: 'W. Europe Standard Time' },
  { iana: 'Asia/Kolkata', windows: 'India Standard Time' },
  { iana: 'America/New_York', windows: 'Eastern Standard Time' },
];
const CUSTOM_ZONES: CustomZone[] = [
  // matches central Europe
  {
    standardBias: -60,
    daylight: {
      bias: -120,
      start: { month: 3, dayOfWeek: 0, occurrence: -1, timeOffsetMinutes: 120 },
      end: { month: 10, dayOfWeek: 0, occurrence: -1, timeOffsetMinutes: 180 },
    },
  },
  // matches US Eastern
  {
    standardBias: 300,
    daylight: {
      bias: 240,
      start: { month: 3, dayOfWeek: 0, occurrence: 2, timeOffsetMinutes: 120 },
      end: { month: 11, dayOfWeek: 0, occurrence: 1, timeOffsetMinutes: 120 },
    },
  },
  // matches no IANA zone: DST on the first Sunday of May
  {
    standardBias: -180,
    daylight: {
      bias: -240,
      start: { month: 5, dayOfWeek: 0, occurrence: 1, timeOffsetMinutes: 120 },
      end: { month: 9, dayOfWeek: 0, occurrence: 1, timeOffsetMinutes: 180 },
    },
  },
];
const PHONE_KINDS: Record<string, string> = {
  business: 'BusinessPhone',
  business2: 'BusinessPhone2',
  mobile: 'MobilePhone',
  home2: 'HomePhone2',
  homeFax: 'HomeFax',
  other: 'OtherTelephone',
};
const ADDRESS_KEYS = { business: 'Business', home: 'Home', other: 'Other' } as const;

const side = fc.constantFrom<Side>('crm', 'exchange');
const words = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'Zürich & Co', '<b>bold</b>', 'line\nbreak');

const aptCase: fc.Arbitrary<AptCase> = fc
  .record({
    kind: fc.constant('appointment' as const),
    origin: side,
    zone: fc.oneof(
      fc.constantFrom(...ZONES),
      fc.constantFrom(...CUSTOM_ZONES).map((custom) => ({ custom })),
    ),
    allDay: fc.boolean(),
    allDayForm: fc.constantFrom<'utc' | 'local'>('utc', 'local'),
    day: fc.integer({ min: 0, max: 360 }),
    hour: fc.integer({ min: 6, max: 20 }),
    body: fc.option(fc.record({ text: words, html: fc.boolean() }), { nil: undefined }),
    location: fc.option(words, { nil: undefined }),
    weekly: fc.boolean(),
    edit: fc.record({ side, field: fc.constantFrom<AptField>('subject', 'location', 'body', 'time') }),
  })
  .map((c) => {
    // the CRM can write neither custom zones nor HTML; a series' times are not edited here
    const out = { ...c };
    if (out.origin === 'crm' && 'custom' in out.zone) out.zone = ZONES[out.day % ZONES.length];
    if (out.origin === 'crm' && out.body) out.body = { ...out.body, html: false };
    if (out.weekly && out.edit.field === 'time') out.edit = { ...out.edit, field: 'subject' };
    return out;
  });

const conCase: fc.Arbitrary<ConCase> = fc
  .record({
    kind: fc.constant('contact' as const),
    origin: side,
    emails: fc
      .subarray([1, 2, 3] as const, { minLength: 1 })
      .chain((slots) =>
        fc.tuple(
          ...slots.map((slot) => fc.option(fc.constantFrom('Pat (Work)', 'Home "H"', 'Ops & Sales'), { nil: undefined }).map((name) => ({ slot, name }))),
        ),
      ),
    phones: fc.subarray(Object.keys(PHONE_KINDS), { minLength: 1 }),
    addresses: fc.subarray(['business', 'home', 'other'] as ('business' | 'home' | 'other')[]),
    notes: fc.option(fc.record({ text: words, html: fc.boolean() }), { nil: undefined }),
    birthday: fc.option(
      fc.record({
        date: fc.integer({ min: 0, max: 20000 }).map((d) => new Date(Date.UTC(1950, 0, 1) + d * 86_400_000).toISOString().slice(0, 10)),
        offsetHours: fc.constantFrom(13, 14, -10, 0, 5),
      }),
      { nil: undefined },
    ),
    edit: fc.record({ side, field: fc.constantFrom<ConField>('jobTitle', 'companyName', 'notes', 'email', 'phone', 'birthday') }),
  })
  .map((c) => (c.origin === 'crm' && c.notes ? { ...c, notes: { ...c.notes, html: false } } : c));

// ------------------------------------------------------------------------------------------
// Building each side

const pad = (n: number) => String(n).padStart(2, '0');
function dayOf(c: AptCase, plus = 0): string {
  return new Date(Date.UTC(2027, 0, 4) + (c.day + plus) * 86_400_000).toISOString().slice(0, 10);
}
function localMidnightUtc(date: string, zone: string): string {
  // the instant whose wall time in `zone` is 00:00 of `date`
  const guess = Date.parse(`${date}T00:00:00Z`);
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const off = (t: number) => {
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(f.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')!.value);
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  };
  return new Date(guess - off(guess - off(guess) * 60_000) * 60_000).toISOString().replace('.000Z', 'Z');
}
const html = (text: string) =>
  `<html><body><p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br>')}</p></body></html>`;

function crmAppointment(c: AptCase & { n: number }): Record<string, unknown> {
  const zone = (c.zone as { iana: string }).iana;
  const item: Record<string, unknown> = { subject: `P${c.n} apt`, timeZone: zone, isAllDay: c.allDay };
  if (c.allDay) {
    const [s, e] = [dayOf(c), dayOf(c, 1)];
    item.start = c.allDayForm === 'utc' ? `${s}T00:00:00Z` : localMidnightUtc(s, zone);
    item.end = c.allDayForm === 'utc' ? `${e}T00:00:00Z` : localMidnightUtc(e, zone);
  } else {
    item.start = `${dayOf(c)}T${pad(c.hour)}:00:00Z`;
    item.end = `${dayOf(c)}T${pad(c.hour + 1)}:00:00Z`;
  }
  if (c.body) item.body = c.body.text;
  if (c.location) item.location = c.location;
  if (c.weekly)
    item.recurrence = {
      pattern: {
        type: 'weekly',
        interval: 1,
        daysOfWeek: [['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][new Date(`${dayOf(c)}T12:00:00Z`).getUTCDay()]],
      },
      range: { type: 'numbered', startDate: dayOf(c), numberOfOccurrences: 3 },
    };
  return item;
}

function simAppointment(c: AptCase & { n: number }): Record<string, unknown> {
  const item: Record<string, unknown> = {
    subject: `P${c.n} apt`,
    start: c.allDay ? `${dayOf(c)}T00:00:00` : `${dayOf(c)}T${pad(c.hour)}:00:00`,
    end: c.allDay ? `${dayOf(c, 1)}T00:00:00` : `${dayOf(c)}T${pad(c.hour + 1)}:00:00`,
    isAllDay: c.allDay,
  };
  if ('custom' in c.zone) item.timeZoneDefinition = c.zone.custom;
  else item.timeZone = c.zone.windows;
  if (c.body) Object.assign(item, c.body.html ? { body: html(c.body.text), bodyType: 'HTML' } : { body: c.body.text });
  if (c.location) item.location = c.location;
  if (c.weekly) item.recurrence = { pattern: 'weekly', numberOfOccurrences: 3 };
  return item;
}

const emailOf = (n: number, slot: number, v = 0) => `p${n}.s${slot}${v ? `.v${v}` : ''}@example.test`;

function crmContact(c: ConCase & { n: number }): Record<string, unknown> {
  const item: Record<string, unknown> = {
    givenName: `PC${c.n}`,
    emails: c.emails.map((e) => ({ address: emailOf(c.n, e.slot), ...(e.name ? { name: e.name } : {}), slot: e.slot })),
    phones: Object.fromEntries(c.phones.map((k) => [k, `+1 555 ${c.n} ${k.length}`])),
    addresses: Object.fromEntries(c.addresses.map((k) => [k, { street: `${c.n} ${k} Street`, city: 'Springfield' }])),
  };
  if (c.notes) item.notes = c.notes.text;
  if (c.birthday) item.birthday = c.birthday.date;
  return item;
}

function simContact(c: ConCase & { n: number }): Record<string, unknown> {
  const item: Record<string, unknown> = {
    givenName: `PC${c.n}`,
    emails: c.emails.map((e) => ({ address: emailOf(c.n, e.slot), ...(e.name ? { name: e.name } : {}), slot: e.slot })),
    phones: Object.fromEntries(c.phones.map((k) => [PHONE_KINDS[k], `+1 555 ${c.n} ${k.length}`])),
    addresses: Object.fromEntries(c.addresses.map((k) => [ADDRESS_KEYS[k], { street: `${c.n} ${k} Street`, city: 'Springfield' }])),
  };
  if (c.notes) Object.assign(item, c.notes.html ? { body: html(c.notes.text), bodyType: 'HTML' } : { body: c.notes.text });
  if (c.birthday) Object.assign(item, simBirthday(c.birthday.date, c.birthday.offsetHours));
  return item;
}

/** As Outlook writes it: local midnight in the writer's zone, and the date in PidLidBirthdayLocal. */
function simBirthday(date: string, offsetHours: number): Record<string, string> {
  const sign = offsetHours < 0 ? '-' : '+';
  return { birthday: `${date}T00:00:00${sign}${pad(Math.abs(offsetHours))}:00`, birthdayLocal: date };
}

// ------------------------------------------------------------------------------------------
// Edits, and what each must change

interface Expectation {
  /** stored elements the edit must change in Exchange (a CRM edit) or that the person changed (an Exchange edit) */
  elements: string[];
  /** canonical keys the edit must change in the CRM item, with their new values (an Exchange edit) */
  crm?: Record<string, unknown>;
  /** stored element -> expected text (a CRM edit) */
  texts?: Record<string, string>;
}

function editCrm(c: Case, item: Record<string, any>): Expectation {
  const v = `edited ${c.n}`;
  if (c.kind === 'appointment') {
    switch (c.edit.field) {
      case 'subject':
        item.subject = v;
        return { elements: ['Subject'], texts: { Subject: v } };
      case 'location':
        item.location = v;
        return { elements: ['Location'], texts: { Location: v } };
      case 'body':
        item.body = v;
        return { elements: ['Body'], texts: { Body: v } };
      case 'time': {
        const shift = (s: string) => new Date(Date.parse(s) + (c.allDay ? 7 * 86_400_000 : 3_600_000)).toISOString().replace('.000Z', 'Z');
        item.start = shift(item.start);
        item.end = shift(item.end);
        return { elements: ['End', 'Start'] };
      }
    }
  }
  switch (c.edit.field) {
    case 'jobTitle':
      item.jobTitle = v;
      return { elements: ['JobTitle'], texts: { JobTitle: v } };
    case 'companyName':
      item.companyName = v;
      return { elements: ['CompanyName'], texts: { CompanyName: v } };
    case 'notes':
      item.notes = v;
      return { elements: ['Body'], texts: { Body: v } };
    case 'email': {
      const e = item.emails[0];
      e.address = emailOf(c.n, e.slot ?? 1, 2);
      return { elements: ['EmailAddresses'] };
    }
    case 'phone': {
      const k = Object.keys(item.phones)[0];
      item.phones[k] = `+44 20 ${c.n}`;
      return { elements: ['PhoneNumbers'] };
    }
    case 'birthday':
      item.birthday = '2001-02-03';
      return { elements: ['Birthday', 'ExtendedProperty(32990)'] };
  }
  throw new Error('unreachable');
}

function editExchange(c: Case, crmBefore: Record<string, any>): { patch: Record<string, unknown>; expect: Expectation } {
  const v = `outlook ${c.n}`;
  if (c.kind === 'appointment') {
    switch (c.edit.field) {
      case 'subject':
        return { patch: { subject: v }, expect: { elements: ['Subject'], crm: { subject: v } } };
      case 'location':
        return { patch: { location: v }, expect: { elements: ['Location'], crm: { location: v } } };
      case 'body':
        return { patch: { body: v, bodyType: 'Text' }, expect: { elements: ['Body'], crm: { body: v } } };
      case 'time': {
        if (c.allDay) {
          // A week later, same zone: the CRM gets the new dates in its own form. In the local form
          // of an IANA zone that is local midnight a week later, which is not 168 hours later when
          // the week crosses a change of the zone's offset (seed 1350961078: Los Angeles,
          // 2027-03-13 -> 03-20, DST from 03-14). UTC midnight stays UTC midnight; any other form
          // (a custom zone's local midnight, a zone at UTC+0 that day) is taken 168 hours on.
          const iana = (c.zone as { iana?: string }).iana;
          const utcForm = crmBefore.start === `${dayOf(c)}T00:00:00Z`;
          const localForm = !utcForm && iana !== undefined && crmBefore.start === localMidnightUtc(dayOf(c), iana);
          const shift = (at: string) => new Date(Date.parse(at) + 7 * 86_400_000).toISOString().replace('.000Z', 'Z');
          const moved = (plus: number, before: string) =>
            utcForm ? `${dayOf(c, plus)}T00:00:00Z` : localForm ? localMidnightUtc(dayOf(c, plus), iana) : shift(before);
          return {
            patch: { start: `${dayOf(c, 7)}T00:00:00`, end: `${dayOf(c, 8)}T00:00:00` },
            expect: { elements: ['End', 'Start'], crm: { start: moved(7, crmBefore.start), end: moved(8, crmBefore.end) } },
          };
        }
        const start = new Date(Date.parse(crmBefore.start) + 3_600_000).toISOString().replace('.000Z', 'Z');
        const end = new Date(Date.parse(crmBefore.end) + 3_600_000).toISOString().replace('.000Z', 'Z');
        return { patch: { start, end }, expect: { elements: ['End', 'Start'], crm: { start, end } } };
      }
    }
  }
  switch (c.edit.field) {
    case 'jobTitle':
      return { patch: { jobTitle: v }, expect: { elements: ['JobTitle'], crm: { jobTitle: v } } };
    case 'companyName':
      return { patch: { companyName: v }, expect: { elements: ['CompanyName'], crm: { companyName: v } } };
    case 'notes':
      return { patch: { body: v, bodyType: 'Text' }, expect: { elements: ['Body'], crm: { notes: v } } };
    case 'email': {
      const emails = (crmBefore.emails as { address: string; name?: string; slot: number }[]).map((e, i) =>
        i === 0 ? { ...e, address: emailOf(c.n, e.slot, 3) } : e,
      );
      return { patch: { emails }, expect: { elements: ['EmailAddresses'], crm: { emails } } };
    }
    case 'phone': {
      const kinds = Object.keys(crmBefore.phones);
      const phones = Object.fromEntries(kinds.map((k, i) => [PHONE_KINDS[k], i === 0 ? `+44 20 ${c.n}` : crmBefore.phones[k]]));
      return { patch: { phones }, expect: { elements: ['PhoneNumbers'], crm: { phones: { ...crmBefore.phones, [kinds[0]]: `+44 20 ${c.n}` } } } };
    }
    case 'birthday':
      return { patch: simBirthday('2002-03-04', 13), expect: { elements: ['Birthday', 'ExtendedProperty(32990)'], crm: { birthday: '2002-03-04' } } };
  }
  throw new Error('unreachable');
}

// ------------------------------------------------------------------------------------------

/**
 * The canonical fields that differ. Organizer, attendees and iCalUId are left out: Exchange alone
 * reports them (read-only, never written by a CRM), and they arrive with the first Exchange edit.
 */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !READ_ONLY.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}
const READ_ONLY = new Set(['organizer', 'attendees', 'iCalUId']);

describe(`field fidelity property (seed ${SEED}, ${CASES} cases)`, () => {
  it('an edit of one field on one side changes exactly that field on the other side', async () => {
    console.log(`field fidelity property: seed ${SEED} (replay with EXSYNC_FIDELITY_SEED=${SEED})`);
    const { stack, user, base } = w;
    const cases: Case[] = fc.sample(fc.oneof(aptCase, conCase), { seed: SEED, numRuns: CASES }).map((c, n) => ({ ...c, n }));
    const store = stack.ews.store;
    const pathOf = (c: Case) => (c.kind === 'appointment' ? 'appointments' : 'contacts');

    // Both sides make their items; one run carries them across.
    const exIdOf = new Map<number, string>();
    for (const c of cases) {
      if (c.origin === 'crm') {
        const item = c.kind === 'appointment' ? crmAppointment(c) : crmContact(c);
        const res = await stack.api('PUT', `${base}/${pathOf(c)}/case-${c.n}`, item);
        expect(res.status, `case ${c.n}: ${JSON.stringify(res.body)}`).toBe(201);
      } else {
        const made =
          c.kind === 'appointment' ? store.createAppointment(user.email, simAppointment(c) as never) : store.createContact(user.email, simContact(c) as never);
        exIdOf.set(c.n, made.id);
      }
    }
    await stack.syncNow(user, { timeoutMs: 120_000 });
    const links = (
      await stack.pool.query<{ crm_id: string; ews_item_id: string }>(`SELECT crm_id, ews_item_id FROM item_links WHERE mailbox_id = $1`, [user.mailboxId])
    ).rows;
    const crmIdOf = new Map<number, string>();
    for (const c of cases) {
      if (c.origin === 'crm') {
        crmIdOf.set(c.n, `case-${c.n}`);
        const l = links.find((x) => x.crm_id === `case-${c.n}`);
        expect(l?.ews_item_id, `case ${c.n} reached Exchange`).toBeTruthy();
        exIdOf.set(c.n, l!.ews_item_id);
      } else {
        const l = links.find((x) => x.ews_item_id === exIdOf.get(c.n));
        expect(l, `case ${c.n} reached the CRM`).toBeTruthy();
        crmIdOf.set(c.n, l!.crm_id);
      }
    }

    // State before the edits, then one edit per item.
    const before = new Map<number, { stored: StoredItem; crm: Record<string, any> }>();
    const expected = new Map<number, Expectation>();
    for (const c of cases) {
      const crm = (await stack.api('GET', `${base}/${pathOf(c)}/${crmIdOf.get(c.n)}`)).body.item;
      before.set(c.n, { stored: await readStored(stack, user.email, exIdOf.get(c.n)!), crm });
      if (c.edit.side === 'crm') {
        const item = writable(crm);
        expected.set(c.n, editCrm(c, item));
        const res = await stack.api('PUT', `${base}/${pathOf(c)}/${crmIdOf.get(c.n)}`, item);
        expect(res.status, `case ${c.n}: ${JSON.stringify(res.body)}`).toBe(200);
      } else {
        const { patch, expect: e } = editExchange(c, crm);
        expected.set(c.n, e);
        store.editItem(user.email, exIdOf.get(c.n)!, patch as never);
      }
    }
    await stack.syncNow(user, { timeoutMs: 120_000 });

    // Field by field, on both sides.
    const failures: string[] = [];
    for (const c of cases) {
      const b = before.get(c.n)!;
      const want = expected.get(c.n)!;
      const stored = await readStored(stack, user.email, exIdOf.get(c.n)!);
      const crm = (await stack.api('GET', `${base}/${pathOf(c)}/${crmIdOf.get(c.n)}`)).body.item;
      const label = `case ${c.n} ${JSON.stringify(c)}`;
      const diff = storedDiff(b.stored, stored);
      if (JSON.stringify(diff) !== JSON.stringify(want.elements))
        failures.push(`${label}: Exchange changed ${JSON.stringify(diff)}, expected ${JSON.stringify(want.elements)}`);
      for (const [name, text] of Object.entries(want.texts ?? {})) {
        if (stored.fields[name]?.text !== text)
          failures.push(`${label}: Exchange ${name} is ${JSON.stringify(stored.fields[name]?.text)}, expected ${JSON.stringify(text)}`);
      }
      if (c.edit.side === 'exchange') {
        const keys = changedKeys(b.crm, crm);
        const wantKeys = Object.keys(want.crm ?? {}).sort();
        if (JSON.stringify(keys) !== JSON.stringify(wantKeys))
          failures.push(
            `${label}: CRM changed ${JSON.stringify(keys)}, expected ${JSON.stringify(wantKeys)} (${JSON.stringify(b.crm)} -> ${JSON.stringify(crm)})`,
          );
        for (const [k, v] of Object.entries(want.crm ?? {})) {
          if (JSON.stringify(crm[k]) !== JSON.stringify(v)) failures.push(`${label}: CRM ${k} is ${JSON.stringify(crm[k])}, expected ${JSON.stringify(v)}`);
        }
      }
    }
    if (failures.length > 0) console.log(failures.join('\n'));
    expect(failures.slice(0, 10), `seed ${SEED}: ${failures.length} of ${cases.length} cases failed`).toEqual([]);
  }, 300_000);
});
