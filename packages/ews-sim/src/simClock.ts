/**
 * The simulators' "now": the system clock plus an offset a test or a person moves forward with
 * `POST /_sim/clock {"advanceDays": n}` (or `advanceMs`), so a calendar window can be made to roll
 * without waiting. Both simulators share it through the store: it stamps what they write
 * (LastModifiedTime / lastModifiedDateTime, an exception's modification, a create's default start,
 * meeting messages) and is what `GET /_sim/clock` reports. Windows themselves come from clients
 * (Graph's calendarView takes startDateTime/endDateTime), so a client that wants the simulated
 * "now" reads it here. `POST /_sim/reset` sets the offset back to 0.
 */
const DAY_MS = 86_400_000;
/** At most ten years either way: a typo should not move the clock out of every test's range. */
const MAX_OFFSET_MS = 3_650 * DAY_MS;

export class SimClock {
  private offset = 0;

  /** Milliseconds since the epoch, simulated. */
  now(): number {
    return Date.now() + this.offset;
  }

  /** How far the simulated clock is ahead of the system clock, in ms. */
  get offsetMs(): number {
    return this.offset;
  }

  /** Moves the clock by `ms` (negative moves it back); throws RangeError past ten years either way. */
  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError('advance must be a finite number of milliseconds');
    const next = this.offset + Math.round(ms);
    if (Math.abs(next) > MAX_OFFSET_MS) throw new RangeError('the simulated clock stays within ten years of the system clock');
    this.offset = next;
  }

  /** Moves the clock by whole or fractional days. */
  advanceDays(days: number): void {
    this.advance(days * DAY_MS);
  }

  reset(): void {
    this.offset = 0;
  }

  /** What `GET /_sim/clock` answers. */
  snapshot(): { now: string; offsetMs: number } {
    return { now: new Date(this.now()).toISOString(), offsetMs: this.offset };
  }
}
