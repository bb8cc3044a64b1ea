/**
 * Issue 16 point 6, property: everything the EWS side syncs survives over Graph. Generated contacts
 * (every phone kind, gapped email slots with display names, birthdays) and appointments (a dozen
 * zones, series with modified and deleted occurrences, all-day) are written over EWS (the real
 * ews-javascript-api through packages/ews-client) and read over Graph (packages/graph-client), and
 * the other way round; items a person made in Outlook with what only MAPI properties carry
 * ("Customized Time Zone" definitions, birthdays at local midnight near the date line: +13, +14,
 * -10) are read over both. Every read must equal the other transport's read field by field, and a
 * written item must read back as written. One mailbox store behind both simulators.
 * Replay a failure with EXSYNC_PARITY_SEED=<seed> (printed).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  normalizeAppointment,
  normalizeContact,
  type Appointment,
  type Contact,
  type ContactEmail,
  type ItemKind,
  type ItemOfKind,
  type MailboxPort,
  type PhoneKind,
} from '@exsync/canonical';
import { PHONE_KEYS, type EwsMailbox } from '@exsync/ews-client';
import type { GraphMailbox } from '@exsync/graph-client';
import { restId, startGraphSim, type GraphSim } from '@exsync/graph-sim';
import { resolveId } from '@exsync/graph-sim/src/ids';
import type { AppointmentJson } from '@exsync/ews-sim';
import { openGraphAppOnly, startSimHarness, type SimHarness } from '../support/sims';
import { appointmentArb } from '../mappers/generators';
import { occurrenceStarts, rulesOffsetAt, type ZoneRules } from '@exsync/calendar';

const SEED = Number(process.env.EXSYNC_PARITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAILBOX = 'parity@contoso.example';
// a window wide enough for every generated series' exceptions (generators.ts: 2025..2028, 12 occurrences)
const WINDOW = { start: new Date(Date.now() - 800 * 86_400_000).toISOString(), end: new Date(Date.now() + 1025 * 86_400_000).toISOString() };
const WINDOW_END = Date.parse(WINDOW.end);

let h: SimHarness;
let graphSim: GraphSim;
let ews: EwsMailbox;
let graph: GraphMailbox;
const seen = {
  contacts: 0,
  phoneKinds: new Set<string>(),
  gappedSlots: 0,
  namedEmails: 0,
  birthdays: 0,
  appointments: 0,
  series: 0,
  customZones: 0,
  dateLineBirthdays: 0,
};

beforeAll(async () => {
  console.log(`transport parity: seed ${SEED} (EXSYNC_PARITY_SEED=${SEED} replays it)`);
  h = await startSimHarness();
  h.sim.store.createMailbox({ email: MAILBOX, tenantId: h.tenantId, displayName: 'Parity' });
  graphSim = await startGraphSim({ ews: h.sim, jwksUrl: h.entra.jwksUrl });
  ews = h.appOnly(MAILBOX);
  graph = openGraphAppOnly(graphSim.url, h.creds, MAILBOX, { calendarWindow: WINDOW });
});

afterAll(async () => {
  console.log(`transport parity: seed ${SEED}, covered ${JSON.stringify({ ...seen, phoneKinds: seen.phoneKinds.size })}`);
  await graphSim?.close();
  await h?.close();
});

// ------------------------------------------------------------------------------------------
// ids: the store keeps EWS ids; Graph answers immutable ids of the same items

const mailbox = () => h.sim.store.getMailbox(MAILBOX)!;
const ewsIdOf = (graphId: string) => resolveId(mailbox(), graphId).item.id;

async function create<K extends ItemKind>(port: MailboxPort, kind: K, item: ItemOfKind<K>, tag: string): Promise<string> {
  const [r] = await port.createItems(kind, [{ tag, item }]);
  if (!r.ok) throw new Error(`create ${kind}: ${r.error.kind} ${r.error.message}`);
  return r.value.itemId;
}

async function read<K extends ItemKind>(port: MailboxPort, kind: K, itemId: string): Promise<{ item: ItemOfKind<K>; tag?: string }> {
  const [r] = await port.getItems(kind, [itemId]);
  if (!r.ok) throw new Error(`read ${kind} ${itemId}: ${r.error.kind} ${r.error.message}`);
  return { item: r.value.item, tag: r.value.tag };
}

/** Both transports' reads of one stored item (EWS id in the store). */
async function readBoth<K extends ItemKind>(kind: K, ewsId: string) {
  const overEws = await read(ews, kind, ewsId);
  const overGraph = await read(graph, kind, restId(ewsId));
  return { overEws, overGraph };
}

/** What the sync writes: organizer, attendees and iCalUId are Exchange's, compared on their own. */
function writable(a: Appointment): Appointment {
  const { organizer: _o, attendees: _a, iCalUId: _i, ...rest } = a;
  return normalizeAppointment(rest);
}

function expectSameAppointment(overEws: Appointment, overGraph: Appointment, written?: Appointment): void {
  expect(writable(overGraph)).toEqual(writable(overEws));
  expect(overGraph.iCalUId).toBe(overEws.iCalUId);
  if (written) expect(writable(overEws)).toEqual(normalizeAppointment(written));
}

function expectSameContact(overEws: Contact, overGraph: Contact, written?: Contact): void {
  expect(normalizeContact(overGraph)).toEqual(normalizeContact(overEws));
  if (written) expect(normalizeContact(overEws)).toEqual(normalizeContact(written));
}

// ------------------------------------------------------------------------------------------
// generated contacts: every phone kind, email slots with gaps and display names, birthdays

const word = fc.stringMatching(/^[A-Za-z0-9äöüéñ中&<>"'.-]{1,10}$/);
const phrase = fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join(' '));
const address = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.constantFrom('contoso.example', 'fabrikam.example')).map(([l, d]) => `${l}@${d}`);
const phone = fc.stringMatching(/^\+?[0-9][0-9 ()-]{3,12}[0-9]$/);
const ALL_PHONE_KINDS = Object.keys(PHONE_KEYS) as PhoneKind[];

const contactArb: fc.Arbitrary<Contact> = fc
  .record({
    names: fc.record({ givenName: word, surname: word, companyName: phrase, jobTitle: phrase, notes: phrase }, { requiredKeys: [] }),
    slots: fc.tuple(...([1, 2, 3] as const).map(() => fc.option(fc.record({ address, name: fc.option(phrase, { nil: undefined }) }), { nil: undefined }))),
    phones: fc.dictionary(fc.constantFrom(...ALL_PHONE_KINDS), phone, { maxKeys: ALL_PHONE_KINDS.length }),
    birthday: fc.option(
      fc.integer({ min: 0, max: 110 * 365 }).map((d) => new Date(Date.UTC(1910, 0, 1) + d * 86_400_000).toISOString().slice(0, 10)),
      { nil: undefined },
    ),
  })
  .map((g) => {
    const emails: ContactEmail[] = [];
    const used = new Set<string>();
    g.slots.forEach((s, i) => {
      if (!s || used.has(s.address)) return;
      used.add(s.address);
      emails.push({ address: s.address, slot: (i + 1) as 1 | 2 | 3, ...(s.name !== undefined ? { name: s.name } : {}) });
    });
    const c: Contact = { ...g.names, emails, phones: g.phones, addresses: {} };
    if (g.birthday) c.birthday = g.birthday;
    return c;
  });

function count(c: Contact): void {
  seen.contacts++;
  for (const k of Object.keys(c.phones)) seen.phoneKinds.add(k);
  const slots = c.emails.map((e) => e.slot);
  if (slots.length > 0 && slots.some((s, i) => s !== i + 1)) seen.gappedSlots++;
  seen.namedEmails += c.emails.filter((e) => e.name).length;
  if (c.birthday) seen.birthdays++;
}

describe('contacts', () => {
  it('written over EWS read the same over Graph, and written over Graph read the same over EWS', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(contactArb, fc.boolean(), async (c, overGraph) => {
        count(c);
        const tag = `parity-contact-${n++}`;
        const ewsId = overGraph ? ewsIdOf(await create(graph, 'contact', c, tag)) : await create(ews, 'contact', c, tag);
        const both = await readBoth('contact', ewsId);
        expectSameContact(both.overEws.item, both.overGraph.item, c);
        expect(both.overGraph.tag).toBe(tag);
        expect(both.overEws.tag).toBe(tag);
      }),
      { seed: SEED, numRuns: 70 },
    );
    expect(seen.phoneKinds.size).toBe(ALL_PHONE_KINDS.length);
    expect(seen.gappedSlots).toBeGreaterThan(0);
  });

  it('an edit over the other transport clears and moves what the new version lacks', async () => {
    await fc.assert(
      fc.asyncProperty(contactArb, contactArb, fc.boolean(), async (first, second, firstOverGraph) => {
        const [writer, editor] = firstOverGraph ? [graph, ews] : [ews, graph];
        const id = await create(writer, 'contact', first, 'parity-edit');
        const ewsId = firstOverGraph ? ewsIdOf(id) : id;
        const editorId = firstOverGraph ? ewsId : restId(ewsId);
        const [current] = await editor.getItems('contact', [editorId]);
        if (!current.ok) throw current.error;
        const [updated] = await editor.updateItems('contact', [{ itemId: editorId, changeKey: current.value.changeKey, item: second }]);
        if (!updated.ok) throw new Error(`update: ${updated.error.message}`);
        const both = await readBoth('contact', ewsId);
        expectSameContact(both.overEws.item, both.overGraph.item, second);
      }),
      { seed: SEED + 1, numRuns: 20 },
    );
  });

  it("Outlook's birthdays at local midnight near the date line read the same over both", async () => {
    const zones = [13 * 60, 14 * 60, -10 * 60, 12 * 60 + 45, -11 * 60];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 100 * 365 }), fc.constantFrom(...zones), fc.boolean(), async (day, offsetMinutes, withLocal) => {
        const date = new Date(Date.UTC(1920, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const { id } = h.sim.store.createContact(MAILBOX, {
          givenName: 'Dateline',
          birthday: `${date}T00:00:00${offset}`,
          ...(withLocal ? { birthdayLocal: date } : {}),
        });
        seen.dateLineBirthdays++;
        const both = await readBoth('contact', id);
        expectSameContact(both.overEws.item, both.overGraph.item);
        // with PidLidBirthdayLocal the date is Outlook's own, on both transports
        if (withLocal) expect(both.overGraph.item.birthday).toBe(date);
      }),
      { seed: SEED + 2, numRuns: 25 },
    );
  });
});

// ------------------------------------------------------------------------------------------
// appointments

/**
 * Series Graph reads whole in a test's time: exceptions within the calendar window (Graph lists
 * instances up to its end) and at most 60 occurrences before it (each page of instances is a request).
 */
const readableOverGraph = (a: Appointment) =>
  !a.recurrence ||
  ([...(a.recurrence.deletedOccurrences ?? []), ...(a.recurrence.modifiedOccurrences ?? []).map((o) => o.originalStart)].every(
    (s) => Date.parse(s) <= WINDOW_END,
  ) &&
    occurrenceStarts(a, 61).filter((s) => Date.parse(s) <= WINDOW_END).length <= 60);

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

const rule = (month: number, occurrence: number, hours: number): Rule => ({ month, dayOfWeek: 0, occurrence, timeOffsetMinutes: hours * 60 });
const KNOWN_CUSTOM_ZONES: CustomZone[] = [
  // central Europe's rules
  { standardBias: -60, daylight: { bias: -120, start: rule(3, -1, 2), end: rule(10, -1, 3) } },
  // US Eastern's rules
  { standardBias: 300, daylight: { bias: 240, start: rule(3, 2, 2), end: rule(11, 1, 2) } },
  // no IANA zone: daylight saving from the first Sunday of May
  { standardBias: -180, daylight: { bias: -240, start: rule(5, 1, 2), end: rule(9, 1, 3) } },
  // Chatham-like, no daylight saving (UTC+12:45)
  { standardBias: -765 },
  // the date line: UTC+14 and UTC-10 without daylight saving
  { standardBias: -840 },
  { standardBias: 600 },
];
/** Definitions whose rules match an IANA zone (a series expands the same in that zone). */
const MATCHING_CUSTOM_ZONES = KNOWN_CUSTOM_ZONES.slice(0, 2).concat(KNOWN_CUSTOM_ZONES.slice(4));
const customZoneArb: fc.Arbitrary<CustomZone> = fc.oneof(
  fc.constantFrom(...KNOWN_CUSTOM_ZONES),
  fc
    .record({
      standardBias: fc.integer({ min: -14, max: 12 }).map((h) => -h * 60),
      start: fc.record({
        month: fc.integer({ min: 1, max: 12 }),
        dayOfWeek: fc.integer({ min: 0, max: 6 }),
        occurrence: fc.constantFrom(1, 2, 3, 4, -1),
        timeOffsetMinutes: fc.constantFrom(60, 120, 180),
      }),
      endMonthShift: fc.integer({ min: 3, max: 8 }),
    })
    .map((g) => ({
      standardBias: g.standardBias,
      daylight: { bias: g.standardBias - 60, start: g.start, end: { ...g.start, month: ((g.start.month - 1 + g.endMonthShift) % 12) + 1 } },
    })),
);

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A Windows-bias definition as offsets east of UTC. */
function rulesOf(z: CustomZone): ZoneRules {
  return { standardOffset: -z.standardBias, ...(z.daylight ? { daylight: { offset: -z.daylight.bias, start: z.daylight.start, end: z.daylight.end } } : {}) };
}

describe('appointments', () => {
  it('written over EWS read the same over Graph, and written over Graph read the same over EWS', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(appointmentArb.filter(readableOverGraph), fc.boolean(), async (a, overGraph) => {
        seen.appointments++;
        if (a.recurrence) seen.series++;
        const tag = `parity-appointment-${n++}`;
        const ewsId = overGraph ? ewsIdOf(await create(graph, 'appointment', a, tag)) : await create(ews, 'appointment', a, tag);
        const both = await readBoth('appointment', ewsId);
        expectSameAppointment(both.overEws.item, both.overGraph.item, a);
        expect(both.overGraph.tag).toBe(tag);
      }),
      { seed: SEED + 3, numRuns: 40 },
    );
  }, 300_000);

  it('Outlook items in a "Customized Time Zone" read the same zone and times over both', async () => {
    const item = fc.oneof(
      fc.record({ zone: customZoneArb, weekly: fc.constant(false) }),
      fc.record({ zone: fc.constantFrom(...MATCHING_CUSTOM_ZONES), weekly: fc.constant(true) }),
    );
    await fc.assert(
      fc.asyncProperty(item, fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 95 }), async ({ zone, weekly }, day, quarter) => {
        seen.customZones++;
        const start = new Date(Date.UTC(2026, 0, 1) + day * 86_400_000 + quarter * 900_000);
        const localDay = new Date(start.getTime() + rulesOffsetAt(rulesOf(zone), start.getTime()) * 60_000).getUTCDay();
        const json: AppointmentJson = {
          subject: 'Custom zone',
          start: start.toISOString(),
          end: new Date(start.getTime() + 3_600_000).toISOString(),
          timeZoneDefinition: zone,
          ...(weekly ? { recurrence: { pattern: 'weekly' as const, interval: 1, daysOfWeek: [DAY_NAMES[localDay]], numberOfOccurrences: 4 } } : {}),
        };
        const { id } = h.sim.store.createAppointment(MAILBOX, json);
        const both = await readBoth('appointment', id);
        expectSameAppointment(both.overEws.item, both.overGraph.item);
      }),
      { seed: SEED + 4, numRuns: 30 },
    );
  });
});
