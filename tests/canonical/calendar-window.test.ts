import { describe, expect, it } from 'vitest';
import { CALENDAR_WINDOW_STEP_DAYS, absoluteWindowProblem, calendarWindowAt, calendarWindowProblem, sameCalendarWindow } from '@exsync/canonical';

const DAY = 86_400_000;

describe('calendarWindowAt', () => {
  it('covers pastDays back and futureDays ahead, and moves only in whole steps', () => {
    const setting = { pastDays: 90, futureDays: 540 };
    const t0 = Date.parse('2026-11-29T14:00:00Z');
    let last = calendarWindowAt(new Date(t0), setting);
    let moves = 0;
    // every 6 hours over 60 days
    for (let t = t0; t < t0 + 60 * DAY; t += 6 * 3_600_000) {
      const w = calendarWindowAt(new Date(t), setting);
      expect(Date.parse(w.start)).toBeLessThanOrEqual(t - 90 * DAY);
      expect(Date.parse(w.end)).toBeGreaterThanOrEqual(t + 540 * DAY);
      expect(Date.parse(w.end) - Date.parse(w.start)).toBe((90 + 540 + CALENDAR_WINDOW_STEP_DAYS) * DAY);
      expect(Date.parse(w.start) % (CALENDAR_WINDOW_STEP_DAYS * DAY)).toBe(0);
      if (!sameCalendarWindow(w, last)) {
        expect(Date.parse(w.start) - Date.parse(last.start)).toBe(CALENDAR_WINDOW_STEP_DAYS * DAY);
        moves++;
      }
      last = w;
    }
    expect(moves).toBeGreaterThanOrEqual(8);
    expect(moves).toBeLessThanOrEqual(9);
  });

  it('names the field of a bad setting', () => {
    const table: [unknown, string | undefined][] = [
      [{ pastDays: 90, futureDays: 540 }, undefined],
      [{ pastDays: 0, futureDays: 1 }, undefined],
      [{ pastDays: 0, futureDays: 1825 }, undefined],
      [{ pastDays: -1, futureDays: 10 }, 'calendarWindow.pastDays'],
      [{ pastDays: 2.5, futureDays: 10 }, 'calendarWindow.pastDays'],
      [{ pastDays: '90', futureDays: 10 }, 'calendarWindow.pastDays'],
      [{ pastDays: 10, futureDays: 0 }, 'calendarWindow.futureDays'],
      [{ pastDays: 10 }, 'calendarWindow.futureDays'],
      [{ pastDays: 1000, futureDays: 900 }, 'calendarWindow'],
      [{ pastDays: 1, futureDays: 1, weeks: 2 }, 'calendarWindow.weeks'],
      [null, 'calendarWindow'],
      [[90, 540], 'calendarWindow'],
    ];
    for (const [value, field] of table) expect(calendarWindowProblem(value)?.field).toBe(field);
    expect(() => calendarWindowAt(new Date(), { pastDays: -1, futureDays: 1 })).toThrow(RangeError);
  });

  it('checks absolute windows', () => {
    expect(absoluteWindowProblem({ start: '2026-01-01T00:00:00Z', end: '2026-02-01T00:00:00Z' })).toBeUndefined();
    expect(absoluteWindowProblem({ start: '2026-02-01T00:00:00Z', end: '2026-01-01T00:00:00Z' })).toMatch(/after/);
    expect(absoluteWindowProblem({ start: 'soon', end: '2026-01-01T00:00:00Z' })).toMatch(/ISO/);
    expect(absoluteWindowProblem({ start: '2020-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z' })).toMatch(/at most/);
    expect(
      sameCalendarWindow(
        { start: '2026-01-01T00:00:00Z', end: '2026-02-01T00:00:00Z' },
        { start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' },
      ),
    ).toBe(true);
  });
});
