/**
 * Contact email entries (parse, place in slots, normal form) and the all-day date a bound names:
 * the pure parts of issue 14, cases 1 and 6.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allDayDate, InvalidEmailError, keepEmailSlots, normalizeEmails, parseEmails, placeEmails } from '@exsync/canonical';

describe('parseEmails', () => {
  it.each([
    ['jane.doe@example.test', { address: 'jane.doe@example.test' }],
    ['  jane.doe@example.test ', { address: 'jane.doe@example.test' }],
    ['Jane Doe <jane.doe@example.test>', { address: 'jane.doe@example.test', name: 'Jane Doe' }],
    ['"Doe, Jane" <jane.doe@example.test>', { address: 'jane.doe@example.test', name: 'Doe, Jane' }],
    ['<jane.doe@example.test>', { address: 'jane.doe@example.test' }],
  ])('%s', (input, want) => {
    expect(parseEmails([input])).toEqual([want]);
  });

  it('keeps the name and slot of an entry object', () => {
    expect(parseEmails([{ address: 'a@x.test', name: 'A', slot: 3 }])).toEqual([{ address: 'a@x.test', name: 'A', slot: 3 }]);
  });

  it.each([
    [['Jane Doe'], 0],
    [['ok@x.test', 'no at sign'], 1],
    [['ok@x.test', 'Jane <not an address>'], 1],
    [[{ address: 'a@x.test', slot: 4 }], 0],
    [
      [
        { address: 'a@x.test', slot: 1 },
        { address: 'b@x.test', slot: 1 },
      ],
      1,
    ],
    [['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'], 3],
  ])('refuses %j naming entry %i', (input, index) => {
    try {
      parseEmails(input as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidEmailError);
      expect((e as InvalidEmailError).index).toBe(index);
    }
  });
});

describe('placeEmails / normalizeEmails', () => {
  it('keeps named slots and fills the lowest free ones in order', () => {
    expect(placeEmails([{ address: 'a@x.test' }, { address: 'b@x.test', slot: 1 }])).toEqual([
      { address: 'b@x.test', slot: 1 },
      { address: 'a@x.test', slot: 2 },
    ]);
  });

  it('normalises stored strings and entries alike, and is idempotent', () => {
    fc.assert(
      fc.property(
        fc.subarray([1, 2, 3] as const).chain((slots) =>
          fc.tuple(
            ...slots.map((slot) =>
              fc.record({
                address: fc.constantFrom('a@x.test', 'b@x.test', ' C@x.test '),
                name: fc.option(fc.constantFrom('N', ' '), { nil: undefined }),
                slot: fc.option(fc.constant(slot), { nil: undefined }),
              }),
            ),
          ),
        ),
        (entries) => {
          const once = normalizeEmails(entries as never);
          expect(normalizeEmails(once)).toEqual(once);
          expect(once.every((e) => e.slot !== undefined && e.address === e.address.trim())).toBe(true);
        },
      ),
    );
    expect(normalizeEmails(['Jane <j@x.test>', 'k@x.test'])).toEqual([
      { address: 'j@x.test', name: 'Jane', slot: 1 },
      { address: 'k@x.test', slot: 2 },
    ]);
  });
});

describe('keepEmailSlots', () => {
  const stored = [
    { address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 as const },
    { address: 'pat.home@example.test', slot: 3 as const },
  ];

  it('bare addresses the item already has keep their slots and names', () => {
    expect(keepEmailSlots(parseEmails(['PAT.HOME@example.test', 'pat.work@example.test']), stored)).toEqual([
      { address: 'PAT.HOME@example.test', slot: 3 },
      { address: 'pat.work@example.test', name: 'Pat (Work)', slot: 2 },
    ]);
  });

  it('a named entry keeps only the slot; explicit slots win; new addresses stay free', () => {
    expect(keepEmailSlots(parseEmails(['Pat <pat.work@example.test>', { address: 'new@example.test', slot: 3 }, 'pat.home@example.test']), stored)).toEqual([
      { address: 'pat.work@example.test', name: 'Pat', slot: 2 },
      { address: 'new@example.test', slot: 3 },
      { address: 'pat.home@example.test' },
    ]);
    expect(keepEmailSlots(parseEmails(['other@example.test']), stored)).toEqual([{ address: 'other@example.test' }]);
  });
});

describe('allDayDate', () => {
  it.each([
    ['2027-05-10T00:00:00Z', 'Pacific/Auckland', '2027-05-10'],
    ['2027-05-09T12:00:00Z', 'Pacific/Auckland', '2027-05-10'],
    ['2027-05-10T00:00:00Z', 'America/Los_Angeles', '2027-05-10'],
    ['2027-05-10T07:00:00Z', 'America/Los_Angeles', '2027-05-10'],
    ['2027-05-09T10:00:00Z', 'Pacific/Kiritimati', '2027-05-10'],
    ['2027-05-10T10:00:00Z', 'Pacific/Honolulu', '2027-05-10'],
  ])('%s in %s names %s', (instant, zone, date) => {
    expect(allDayDate(instant, zone)).toBe(date);
  });
});
