/**
 * normalizeInstant's fast path (isNormalInstant) must answer exactly what the full parse answers:
 * a string is returned unchanged by the fast path only when parseInstant accepts it and its normal
 * form is itself. Checked on a table of edge cases and on generated date-time strings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNormalInstant, normalizeInstant, parseInstant } from '@exsync/canonical';

/** The full path alone: what normalizeInstant answered before the fast path existed. */
function slowNormal(value: string): string | null {
  const ms = parseInstant(value);
  return ms === null ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

describe('isNormalInstant agrees with the full parse', () => {
  it.each([
    ['2026-03-29T01:00:00Z', true],
    ['2024-02-29T23:59:59Z', true],
    ['2000-02-29T00:00:00Z', true],
    ['1900-02-29T00:00:00Z', false],
    ['2026-02-29T00:00:00Z', false],
    ['2026-04-31T00:00:00Z', false],
    ['2026-13-01T00:00:00Z', false],
    ['2026-00-01T00:00:00Z', false],
    ['2026-01-00T00:00:00Z', false],
    ['2026-01-01T24:00:00Z', false],
    ['2026-01-01T23:60:00Z', false],
    ['2026-01-01T23:59:60Z', false],
    ['2026-01-01t10:00:00Z', false],
    ['2026-01-01T10:00:00z', false],
    ['2026-01-01T10:00:00.000Z', false],
    ['2026-01-01T10:00:00+00:00', false],
    ['0000-01-01T00:00:00Z', true],
    ['2026-01-01T1a:00:00Z', false],
  ])('%s -> %s', (value, normal) => {
    expect(isNormalInstant(value)).toBe(normal);
    expect(isNormalInstant(value)).toBe(slowNormal(value) === value);
  });

  it('on generated date-times, normalizeInstant equals the full parse', () => {
    const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
    const instant = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        two,
        two,
        two,
        two,
        two,
        fc.constantFrom('Z', 'z', '.000Z', '.5Z', '+00:00', '-01:30', '+0530', ''),
        fc.constantFrom('T', 't'),
      )
      .map(([y, mo, d, h, mi, s, zone, t]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${zone}`);
    fc.assert(
      fc.property(instant, (value) => {
        const expected = slowNormal(value);
        expect(isNormalInstant(value)).toBe(expected === value);
        if (expected === null) expect(() => normalizeInstant(value)).toThrow(RangeError);
        else expect(normalizeInstant(value)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});
