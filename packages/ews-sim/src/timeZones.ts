import { WINDOWS_TO_IANA } from './windowsZoneIds';
import { child, children, childText, el, textEl, type El } from './xml';

/**
 * Windows time zones as Exchange models them: a standard bias and, optionally, a daylight period
 * entered and left on "n-th weekday of month" rules. Biases follow the Windows sign convention
 * (UTC = local + bias), in minutes.
 */
export interface TransitionRule {
  month: number; // 1..12
  dayOfWeek: number; // 0 = Sunday
  occurrence: number; // 1..4, -1 = last
  timeOffsetMinutes: number; // local wall time of the switch
}

export interface TimeZoneDef {
  id: string;
  name: string;
  standardBias: number;
  daylight?: { bias: number; start: TransitionRule; end: TransitionRule };
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function rule(month: number, occurrence: number, hours = 2, dayOfWeek = 0): TransitionRule {
  return { month, dayOfWeek, occurrence, timeOffsetMinutes: hours * 60 };
}

const US = (std: number) => ({ bias: std - 60, start: rule(3, 2), end: rule(11, 1) });
const EU = (std: number, atHours: number, endHours: number) => ({
  bias: std - 60,
  start: rule(3, -1, atHours),
  end: rule(10, -1, endHours),
});

const ZONES: TimeZoneDef[] = [
  { id: 'UTC', name: '(UTC) Coordinated Universal Time', standardBias: 0 },
  { id: 'Greenwich Standard Time', name: '(UTC+00:00) Monrovia, Reykjavik', standardBias: 0 },
  { id: 'GMT Standard Time', name: '(UTC+00:00) Dublin, Edinburgh, Lisbon, London', standardBias: 0, daylight: EU(0, 1, 2) },
  { id: 'W. Europe Standard Time', name: '(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna', standardBias: -60, daylight: EU(-60, 2, 3) },
  { id: 'Romance Standard Time', name: '(UTC+01:00) Brussels, Copenhagen, Madrid, Paris', standardBias: -60, daylight: EU(-60, 2, 3) },
  { id: 'Central Europe Standard Time', name: '(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague', standardBias: -60, daylight: EU(-60, 2, 3) },
  { id: 'Central European Standard Time', name: '(UTC+01:00) Sarajevo, Skopje, Warsaw, Zagreb', standardBias: -60, daylight: EU(-60, 2, 3) },
  { id: 'FLE Standard Time', name: '(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius', standardBias: -120, daylight: EU(-120, 3, 4) },
  { id: 'GTB Standard Time', name: '(UTC+02:00) Athens, Bucharest', standardBias: -120, daylight: EU(-120, 3, 4) },
  { id: 'Russian Standard Time', name: '(UTC+03:00) Moscow, St. Petersburg', standardBias: -180 },
  { id: 'India Standard Time', name: '(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi', standardBias: -330 },
  { id: 'China Standard Time', name: '(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi', standardBias: -480 },
  { id: 'Singapore Standard Time', name: '(UTC+08:00) Kuala Lumpur, Singapore', standardBias: -480 },
  { id: 'Tokyo Standard Time', name: '(UTC+09:00) Osaka, Sapporo, Tokyo', standardBias: -540 },
  {
    id: 'AUS Eastern Standard Time',
    name: '(UTC+10:00) Canberra, Melbourne, Sydney',
    standardBias: -600,
    daylight: { bias: -660, start: rule(10, 1, 2), end: rule(4, 1, 3) },
  },
  {
    id: 'New Zealand Standard Time',
    name: '(UTC+12:00) Auckland, Wellington',
    standardBias: -720,
    daylight: { bias: -780, start: rule(9, -1, 2), end: rule(4, 1, 3) },
  },
  { id: 'Eastern Standard Time', name: '(UTC-05:00) Eastern Time (US & Canada)', standardBias: 300, daylight: US(300) },
  { id: 'Central Standard Time', name: '(UTC-06:00) Central Time (US & Canada)', standardBias: 360, daylight: US(360) },
  { id: 'Mountain Standard Time', name: '(UTC-07:00) Mountain Time (US & Canada)', standardBias: 420, daylight: US(420) },
  { id: 'US Mountain Standard Time', name: '(UTC-07:00) Arizona', standardBias: 420 },
  { id: 'Pacific Standard Time', name: '(UTC-08:00) Pacific Time (US & Canada)', standardBias: 480, daylight: US(480) },
  { id: 'Alaskan Standard Time', name: '(UTC-09:00) Alaska', standardBias: 540, daylight: US(540) },
  { id: 'Hawaiian Standard Time', name: '(UTC-10:00) Hawaii', standardBias: 600 },
  { id: 'E. South America Standard Time', name: '(UTC-03:00) Brasilia', standardBias: 180 },
];

const BY_ID = new Map(ZONES.map((z) => [z.id, z]));

export const UTC_ZONE: TimeZoneDef = ZONES[0];

export function knownTimeZone(id: string): TimeZoneDef | undefined {
  const known = BY_ID.get(id);
  if (known) return known;
  const iana = WINDOWS_TO_IANA[id];
  if (!iana) return undefined;
  const derived = deriveFromIana(id, iana);
  BY_ID.set(id, derived);
  return derived;
}

/** Offset east of UTC in minutes for an IANA zone at an instant, from the ICU data Node ships. */
function ianaOffset(fmt: Intl.DateTimeFormat, utcMs: number): number {
  const part = fmt.formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

function ruleAt(utcMs: number, localOffsetBefore: number): TransitionRule {
  const local = new Date(utcMs + localOffsetBefore * 60_000);
  const day = local.getUTCDate();
  const month = local.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(local.getUTCFullYear(), month, 0)).getUTCDate();
  const occurrence = day + 7 > lastDay ? -1 : Math.ceil(day / 7);
  return { month, dayOfWeek: local.getUTCDay(), occurrence, timeOffsetMinutes: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/**
 * A Windows zone's rules as Exchange would publish them, derived from this year's IANA transitions:
 * the standard offset, and the n-th weekday rules of the switches when the zone observes DST.
 */
function deriveFromIana(id: string, iana: string): TimeZoneDef {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: iana, timeZoneName: 'longOffset' });
  const year = new Date().getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const transitions: { at: number; before: number; after: number }[] = [];
  let prev = ianaOffset(fmt, start);
  for (let t = start + 3_600_000; t < Date.UTC(year + 1, 0, 1); t += 3_600_000) {
    const cur = ianaOffset(fmt, t);
    if (cur !== prev) {
      // Refine to the minute: some zones switch on the half hour.
      let lo = t - 3_600_000;
      let hi = t;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (ianaOffset(fmt, mid) === prev) lo = mid;
        else hi = mid;
      }
      transitions.push({ at: hi, before: prev, after: cur });
      prev = cur;
    }
  }
  const offsets = transitions.length ? transitions.flatMap((x) => [x.before, x.after]) : [prev];
  const std = Math.min(...offsets);
  const sign = std < 0 ? '-' : '+';
  const abs = Math.abs(std);
  const name = `(UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}) ${iana.split('/').pop()!.replace(/_/g, ' ')}`;
  const toDst = transitions.find((x) => x.after > x.before);
  const toStd = transitions.find((x) => x.after < x.before);
  if (!toDst || !toStd) return { id, name, standardBias: -std };
  return {
    id,
    name,
    standardBias: -std,
    daylight: { bias: -toDst.after, start: ruleAt(toDst.at, toDst.before), end: ruleAt(toStd.at, toStd.before) },
  };
}

export function knownTimeZones(): TimeZoneDef[] {
  return ZONES;
}

/** xs:duration as Exchange writes biases: `PT8H`, `-PT1H`, `P0DT8H0M0.0S`, `PT5H30M`. */
export function parseDurationMinutes(s: string): number {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(s.trim());
  if (!m) throw new Error(`invalid duration ${s}`);
  const minutes = Number(m[2] ?? 0) * 1440 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0) + Number(m[5] ?? 0) / 60;
  return m[1] ? -minutes : minutes;
}

export function formatDurationMinutes(minutes: number): string {
  const sign = minutes < 0 ? '-' : '';
  const abs = Math.abs(minutes);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  if (abs === 0) return 'PT0H';
  return `${sign}PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}`;
}

function parseRule(e: El): TransitionRule | undefined {
  const month = Number(childText(e, 'Month'));
  const day = DAY_NAMES.indexOf(childText(e, 'DayOfWeek') ?? '');
  const occurrence = Number(childText(e, 'Occurrence'));
  const offset = childText(e, 'TimeOffset');
  if (!month || day < 0 || !occurrence || !offset) return undefined;
  return { month, dayOfWeek: day, occurrence, timeOffsetMinutes: parseDurationMinutes(offset) };
}

/**
 * Reads a TimeZoneDefinitionType element (StartTimeZone, EndTimeZone, TimeZoneDefinition). Only the
 * rules in force today matter to a simulator, so the last transitions group wins. An element with
 * only an Id resolves through the built-in table, as Exchange does.
 */
export function parseTimeZone(e: El | undefined): TimeZoneDef | undefined {
  if (!e) return undefined;
  const id = e.attrs.Id ?? '';
  const periodsEl = child(e, 'Periods');
  if (!periodsEl) return knownTimeZone(id) ?? (id ? undefined : UTC_ZONE);
  const periods = new Map<string, { bias: number; name: string }>();
  for (const p of children(periodsEl, 'Period')) {
    periods.set(p.attrs.Id ?? '', { bias: parseDurationMinutes(p.attrs.Bias ?? 'PT0H'), name: p.attrs.Name ?? '' });
  }
  const groups = children(child(e, 'TransitionsGroups'), 'TransitionsGroup');
  const group = groups[groups.length - 1];
  const known = knownTimeZone(id);
  const name = e.attrs.Name ?? known?.name ?? id;
  if (!group) {
    const first = [...periods.values()][0];
    return { id, name, standardBias: first?.bias ?? 0 };
  }
  const recurring = children(group, 'RecurringDayTransition');
  const plain = child(group, 'Transition');
  if (recurring.length < 2) {
    const to = childText(recurring[0] ?? plain, 'To') ?? '';
    return { id, name, standardBias: periods.get(to)?.bias ?? [...periods.values()][0]?.bias ?? 0 };
  }
  const entries = recurring.map((r) => ({ to: periods.get(childText(r, 'To') ?? ''), rule: parseRule(r) }));
  const dlt = entries.find((x) => x.to && /daylight/i.test(x.to.name)) ?? entries[0];
  const std = entries.find((x) => x !== dlt) ?? entries[1];
  if (!dlt.rule || !std.rule || !dlt.to || !std.to) return { id, name, standardBias: std.to?.bias ?? 0 };
  return { id, name, standardBias: std.to.bias, daylight: { bias: dlt.to.bias, start: dlt.rule, end: std.rule } };
}

/** The full definition Exchange sends for StartTimeZone/EndTimeZone; clients load an Id-only zone as null. */
const ELEMENT_CACHE = new WeakMap<TimeZoneDef, Map<string, El>>();

/** Callers must not mutate the returned element: it is shared between responses. */
export function timeZoneElement(elementName: string, tz: TimeZoneDef): El {
  let byName = ELEMENT_CACHE.get(tz);
  if (!byName) {
    byName = new Map();
    ELEMENT_CACHE.set(tz, byName);
  }
  let e = byName.get(elementName);
  if (!e) {
    e = buildTimeZoneElement(elementName, tz);
    byName.set(elementName, e);
  }
  return e;
}

function buildTimeZoneElement(elementName: string, tz: TimeZoneDef): El {
  const base = `trule:Microsoft/Registry/${tz.id}/2006`;
  const stdId = tz.daylight ? `${base}-Standard` : `${base}-Standard`;
  const periods = [el('Period', { Bias: formatDurationMinutes(tz.standardBias), Name: 'Standard', Id: stdId })];
  const group = el('TransitionsGroup', { Id: '0' });
  if (tz.daylight) {
    const dltId = `${base}-Daylight`;
    periods.push(el('Period', { Bias: formatDurationMinutes(tz.daylight.bias), Name: 'Daylight', Id: dltId }));
    const transition = (to: string, r: TransitionRule) =>
      el('RecurringDayTransition', {}, [
        textEl('To', to, { Kind: 'Period' }),
        textEl('TimeOffset', formatDurationMinutes(r.timeOffsetMinutes)),
        textEl('Month', String(r.month)),
        textEl('DayOfWeek', DAY_NAMES[r.dayOfWeek]),
        textEl('Occurrence', String(r.occurrence)),
      ]);
    group.children.push(transition(dltId, tz.daylight.start), transition(stdId, tz.daylight.end));
  } else {
    group.children.push(el('Transition', {}, [textEl('To', stdId, { Kind: 'Period' })]));
  }
  return el('' + elementName, { Id: tz.id, Name: tz.name }, [
    el('Periods', {}, periods),
    el('TransitionsGroups', {}, [group]),
    el('Transitions', {}, [el('Transition', {}, [textEl('To', '0', { Kind: 'Group' })])]),
  ]);
}

const DAY_MS = 86_400_000;

/** Day (UTC-fields date) of the n-th weekday of a month; `-1` is the last one. */
function nthWeekday(year: number, month: number, dayOfWeek: number, occurrence: number): number {
  if (occurrence > 0) {
    const first = Date.UTC(year, month - 1, 1);
    const shift = (dayOfWeek - new Date(first).getUTCDay() + 7) % 7;
    let d = first + (shift + (occurrence - 1) * 7) * DAY_MS;
    // Windows "5th" means last when the month has only four.
    while (new Date(d).getUTCMonth() !== month - 1) d -= 7 * DAY_MS;
    return d;
  }
  const last = Date.UTC(year, month, 0);
  const shift = (new Date(last).getUTCDay() - dayOfWeek + 7) % 7;
  return last - shift * DAY_MS;
}

/** Minutes to add to UTC to get local wall time at a UTC instant. */
export function utcOffsetAt(tz: TimeZoneDef, utcMs: number): number {
  if (!tz.daylight) return -tz.standardBias;
  const year = new Date(utcMs).getUTCFullYear();
  const { start, end, bias } = tz.daylight;
  const startUtc = nthWeekday(year, start.month, start.dayOfWeek, start.occurrence) + start.timeOffsetMinutes * 60_000 + tz.standardBias * 60_000;
  const endUtc = nthWeekday(year, end.month, end.dayOfWeek, end.occurrence) + end.timeOffsetMinutes * 60_000 + bias * 60_000;
  const inDst = startUtc < endUtc ? utcMs >= startUtc && utcMs < endUtc : utcMs >= startUtc || utcMs < endUtc;
  return -(inDst ? bias : tz.standardBias);
}

/** Local wall time (as UTC-field milliseconds) to the UTC instant. */
export function localToUtc(tz: TimeZoneDef, localMs: number): number {
  const guess = localMs + tz.standardBias * 60_000;
  const offset = utcOffsetAt(tz, guess);
  const utc = localMs - offset * 60_000;
  return utcOffsetAt(tz, utc) === offset ? utc : localMs - utcOffsetAt(tz, utc) * 60_000;
}

export function utcToLocal(tz: TimeZoneDef, utcMs: number): number {
  return utcMs + utcOffsetAt(tz, utcMs) * 60_000;
}
