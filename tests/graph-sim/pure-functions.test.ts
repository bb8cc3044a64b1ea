import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seriesOccurrences, SimStore, UTC_ZONE, type ItemRef } from '@exsync/ews-sim';
import { canonicalExtendedId, parseExtendedId } from '../../packages/graph-sim/src/extendedProperties';
import { ewsIdFromRest, graphChangeKey, immutableId, outputId, resolveId, restId } from '../../packages/graph-sim/src/ids';
import { evaluate, parseFilter } from '../../packages/graph-sim/src/odata/filter';
import { ODataSyntaxError } from '../../packages/graph-sim/src/odata/lexer';
import { parsePreferences } from '../../packages/graph-sim/src/prefer';
import { fromPatternedRecurrence, toPatternedRecurrence } from '../../packages/graph-sim/src/recurrence';

/** Table and property tests of the Graph simulator's pure parts: ids, OData, Prefer, extended ids, recurrence. */
describe('ids', () => {
  it('REST ids and EWS ids convert both ways for any base64 id', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
        const ews = Buffer.from(bytes).toString('base64');
        const rest = restId(ews);
        expect(rest).not.toMatch(/[+/]/);
        expect(ewsIdFromRest(rest)).toBe(ews);
      }),
    );
  });

  it('every item, occurrence and exception resolves from its REST and its immutable id', () => {
    const store = new SimStore();
    const mb = store.createMailbox({ email: 'p@contoso.example', tenantId: 't' });
    for (let i = 0; i < 40; i++) store.createAppointment(mb.email, { subject: `s${i}`, start: '2026-01-05T09:00:00Z', end: '2026-01-05T10:00:00Z' });
    const series = store.createAppointment(mb.email, {
      subject: 'w',
      start: '2026-01-05T09:00:00Z',
      end: '2026-01-05T10:00:00Z',
      recurrence: { pattern: 'daily', numberOfOccurrences: 30 },
    });
    store.editOccurrence(mb.email, series.id, 3, { subject: 'moved' });
    const seriesItem = mb.items.get(series.id)!;
    const refs: ItemRef[] = [...mb.items.values()].map((item) => ({ item }));
    for (const o of seriesOccurrences(seriesItem)) refs.push({ item: seriesItem, occurrence: o });
    const seen = new Set<string>();
    for (const ref of refs) {
      for (const type of ['rest', 'immutable'] as const) {
        const id = outputId(mb, ref, type);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        const back = resolveId(mb, id);
        expect(back.item).toBe(ref.item);
        expect(back.occurrence?.originalStart).toBe(ref.occurrence?.originalStart);
      }
    }
    expect(immutableId(mb, seriesItem)).toBe(outputId(mb, { item: seriesItem }, 'immutable'));
  });
});

describe('changeKeys', () => {
  it.each([
    ['DwAAABYAAAAHiviTVs41YoAAAAT', 'HiviTVs41YoAAAAT'],
    ['EQAAABYAAAAQxv0eYpzoq8AAAAj', 'Qxv0eYpzoq8AAAAj'],
    ['EZ9r3czxY0m2jz8c45czkwAALZu97w==', 'EZ9r3czxY0m2jz8c45czkwAALZu97w=='],
  ])('EWS %s is Graph %s', (ews, graph) => {
    expect(graphChangeKey(ews)).toBe(graph);
  });
});

describe('OData $filter parser', () => {
  const obj = {
    subject: "O'Neil",
    start: { dateTime: '2026-02-01T09:00:00.0000000' },
    isAllDay: false,
    n: 3,
    singleValueExtendedProperties: [{ id: 'String {x} Name a', value: '1' }],
  };

  it.each([
    ["subject eq 'O''Neil'", true],
    ["SUBJECT EQ 'O''Neil'", true],
    ["subject ne 'O''Neil'", false],
    ["not (subject eq 'x') and isAllDay eq false", true],
    ['n gt 2 and n le 3', true],
    ['n lt 3 or n ge 4', false],
    ["start/dateTime ge '2026-02-01T00:00:00'", true],
    ['start/dateTime lt 2026-02-01T10:00:00Z', true],
    ["singleValueExtendedProperties/any(p: p/id eq 'String {x} Name a' and p/value eq '1')", true],
    ["singleValueExtendedProperties/Any(p:p/value eq '2')", false],
    ["singleValueExtendedProperties/all(p: p/value eq '1')", true],
    ["startswith(subject,'o''n')", true],
    ['isAllDay', false],
  ])('%s -> %s', (expr, want) => {
    expect(evaluate(parseFilter(expr), obj)).toBe(want);
  });

  it.each(["subject eq 'open", 'subject eq', '(subject eq 1', 'subject eq 1)', 'eq 1', "subject ~ 'x'", 'a/any(x x eq 1)', ''])(
    'refuses %j with a positioned syntax error',
    (expr) => {
      expect(() => parseFilter(expr)).toThrow(ODataSyntaxError);
    },
  );

  it('whitespace and operator case never change the meaning', () => {
    const words = ['eq', 'and', 'or', 'not'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(' ', '  ', '\t'), { minLength: 5, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        (spaces, upper) => {
          const w = words.map((x, i) => (upper[i] ? x.toUpperCase() : x));
          const expr = `${spaces[0]}${w[3]}${spaces[1]}(n ${w[0]} 4)${spaces[2]}${w[1]} (subject ${w[0]} 'O''Neil'${spaces[3]}${w[2]} n ${w[0]} 9)${spaces[4]}`;
          expect(parseFilter(expr)).toEqual(parseFilter("not (n eq 4) and (subject eq 'O''Neil' or n eq 9)"));
        },
      ),
    );
  });
});

describe('Prefer', () => {
  it.each([
    ['odata.maxpagesize=2', { maxPageSize: 2, idType: 'rest' }],
    ['outlook.timezone="Pacific Standard Time", odata.maxpagesize=50', { maxPageSize: 50, timeZone: 'Pacific Standard Time' }],
    ['IdType="ImmutableId"', { idType: 'immutable' }],
    ['IdType="ImmutableId", outlook.timezone="Europe/Paris"', { idType: 'immutable', timeZone: 'Europe/Paris' }],
    ['return=minimal', { idType: 'rest' }],
  ])('%s', (header, want) => {
    expect(parsePreferences(header)).toMatchObject(want);
  });

  it('refuses a page size that is not a positive integer', () => {
    expect(() => parsePreferences('odata.maxpagesize=0')).toThrow();
    expect(() => parsePreferences('odata.maxpagesize=x')).toThrow();
  });
});

describe('extended property ids', () => {
  it.each([
    ['String {66F5A359-4659-4830-9070-00047EC6AC6E} Name Color', 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name Color'],
    ['string {66f5a359-4659-4830-9070-00047ec6ac6e} name Color', 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name Color'],
    ['Integer {00062008-0000-0000-C000-000000000046} Id 0x8501', 'Integer {00062008-0000-0000-c000-000000000046} Id 0x8501'],
    ['String 0x3A45', 'String 0x3a45'],
  ])('%s is %s', (id, canonical) => {
    expect(canonicalExtendedId(id)).toBe(canonical);
  });

  it.each(['Nonsense {x} Name y', 'String', 'String {66f5a359} Name y', 'String 0xZZ'])('%s is not an id', (id) => {
    expect(parseExtendedId(id)).toBeUndefined();
  });
});

describe('patternedRecurrence', () => {
  it.each([
    { pattern: { type: 'daily', interval: 2 }, range: { type: 'numbered', startDate: '2026-01-05', numberOfOccurrences: 5 } },
    {
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'friday'], firstDayOfWeek: 'monday' },
      range: { type: 'endDate', startDate: '2026-01-05', endDate: '2026-03-01' },
    },
    { pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, range: { type: 'noEnd', startDate: '2026-01-31' } },
    {
      pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], index: 'last' },
      range: { type: 'noEnd', startDate: '2026-01-30' },
    },
    { pattern: { type: 'absoluteYearly', dayOfMonth: 29, month: 2 }, range: { type: 'numbered', startDate: '2028-02-29', numberOfOccurrences: 3 } },
    { pattern: { type: 'relativeYearly', daysOfWeek: ['thursday'], index: 'fourth', month: 11 }, range: { type: 'noEnd', startDate: '2026-11-26' } },
  ])('$pattern.type survives the round trip through the store model', (input) => {
    const model = fromPatternedRecurrence(input, Date.UTC(2026, 0, 5));
    const back = toPatternedRecurrence(model, UTC_ZONE);
    expect(fromPatternedRecurrence(back, Date.UTC(2026, 0, 5))).toEqual(model);
    expect(back.pattern.type).toBe(input.pattern.type);
    expect(back.range).toMatchObject({ type: input.range.type, startDate: input.range.startDate });
  });

  it.each([
    { pattern: { type: 'hourly' }, range: { type: 'noEnd' } },
    { pattern: { type: 'weekly', interval: 1 }, range: { type: 'noEnd' } },
    { pattern: { type: 'daily', interval: 0 }, range: { type: 'noEnd' } },
    { pattern: { type: 'daily' }, range: { type: 'endDate', startDate: '2026-02-01', endDate: '2026-01-01' } },
    { pattern: { type: 'relativeMonthly', daysOfWeek: ['monday', 'friday'] }, range: { type: 'noEnd' } },
  ])('refuses %j', (input) => {
    expect(() => fromPatternedRecurrence(input, Date.UTC(2026, 0, 5))).toThrow();
  });
});
