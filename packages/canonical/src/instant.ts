/**
 * THE parser of ISO 8601 instants, used by the API schema (the `date-time` format) and by the
 * engine (normalizeInstant), so an instant the API accepts is one the engine can sync.
 *
 * Accepted: ISO 8601 / RFC 3339 date-times `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`
 * (`T` and `Z` in either case; the basic offset `+HHMM` too, which Date.parse reads the same and
 * rows stored before this parser may hold). Refused: leap seconds (`23:59:60`: ECMAScript's Date,
 * and so every consumer, has none), hour-only offsets (`+01`), a missing offset or seconds,
 * calendar dates that do not exist (`2026-02-30`), and any text where Date.parse would read a
 * different instant than the fields say.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):?(\d{2}))$/i;

/** Epoch milliseconds of an instant, or null when it is not one exsync accepts (see above). */
export function parseInstant(value: string): number | null {
  if (typeof value !== 'string') return null;
  const m = INSTANT.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, , z, sign, oh, om] = m;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  const utc = z.toUpperCase() === 'Z';
  if (!utc && (Number(oh) > 23 || Number(om) > 59)) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  // The wall time the fields name must be the wall time of the parsed instant at that offset.
  const offsetMs = utc ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const wall = new Date(Math.floor(ms / 1000) * 1000 + offsetMs);
  const same =
    wall.getUTCFullYear() === Number(y) &&
    wall.getUTCMonth() + 1 === Number(mo) &&
    wall.getUTCDate() === Number(d) &&
    wall.getUTCHours() === Number(h) &&
    wall.getUTCMinutes() === Number(mi) &&
    wall.getUTCSeconds() === Number(s);
  return same ? ms : null;
}

/** True when `value` is an instant exsync accepts (the API's `date-time` format). */
export function isInstant(value: string): boolean {
  return parseInstant(value) !== null;
}
