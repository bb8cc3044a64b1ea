/**
 * Zones given by their rules instead of a Windows id: Outlook and some invitations send a
 * "Customized Time Zone" with its periods and transitions spelled out (EWS types.xsd
 * TimeZoneDefinitionType; over Graph the TZDEFINITION of tzDefinition.ts). The rules are matched
 * against the IANA zones whose offsets agree (`ianaZoneForRules`), else reported as a fixed offset.
 */

import { CLDR_WINDOWS_ZONES } from './windowsZonesData';
import { currentIanaName, zoneOffsetMinutes } from './windowsZones';

/** A yearly "n-th weekday of a month" switch; `occurrence` -1 is the last. */
export interface ZoneTransitionRule {
  month: number;
  /** 0 = Sunday */
  dayOfWeek: number;
  occurrence: number;
  /** local wall time of the switch (in the offset in force before it), minutes after midnight */
  timeOffsetMinutes: number;
}

/** Offsets east of UTC in minutes (the opposite of Windows biases). */
export interface ZoneRules {
  standardOffset: number;
  daylight?: { offset: number; start: ZoneTransitionRule; end: ZoneTransitionRule };
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type RawNode = Record<string, unknown>;
const list = (v: unknown): RawNode[] => (Array.isArray(v) ? (v as RawNode[]) : v ? [v as RawNode] : []);

/** xs:duration as EWS writes biases and offsets (`-PT1H`, `PT2H30M`, `P0DT1H0M0.0S`), in minutes. */
export function durationMinutes(s: string): number | undefined {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(s.trim());
  if (!m) return undefined;
  const minutes = Number(m[2] ?? 0) * 1440 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0) + Math.round(Number(m[5] ?? 0) / 60);
  return m[1] ? -minutes : minutes;
}

/**
 * The rules of a TimeZoneDefinitionType as the library's XML reader hands it over: the last
 * transitions group (the one in force now) with two RecurringDayTransitions, or one period.
 * Undefined when the definition has neither.
 */
export function parseZoneDefinition(raw: RawNode): ZoneRules | undefined {
  const periods = new Map<string, number>();
  for (const p of list((raw.Periods as RawNode | undefined)?.Period)) {
    const bias = durationMinutes(String(p.Bias ?? ''));
    if (bias !== undefined) periods.set(String(p.Id ?? ''), -bias);
  }
  const groups = list((raw.TransitionsGroups as RawNode | undefined)?.TransitionsGroup);
  const group = groups[groups.length - 1];
  const target = (t: RawNode) => {
    const to = t.To as RawNode | string | undefined;
    return typeof to === 'object' && to !== null ? String(to.To ?? to.text ?? '') : String(to ?? '');
  };
  const recurring = list(group?.RecurringDayTransition);
  if (recurring.length === 2) {
    const parsed = recurring.map((t) => ({
      offset: periods.get(target(t)),
      rule: {
        month: Number(t.Month),
        dayOfWeek: DAY_NAMES.indexOf(String(t.DayOfWeek)),
        occurrence: Number(t.Occurrence),
        timeOffsetMinutes: durationMinutes(String(t.TimeOffset ?? '')) ?? NaN,
      },
    }));
    const ok = parsed.every(
      (p) => p.offset !== undefined && p.rule.month >= 1 && p.rule.dayOfWeek >= 0 && Number.isFinite(p.rule.timeOffsetMinutes) && p.rule.occurrence !== 0,
    );
    if (ok && parsed[0].offset !== parsed[1].offset) {
      const [dst, std] = parsed[0].offset! > parsed[1].offset! ? [parsed[0], parsed[1]] : [parsed[1], parsed[0]];
      return { standardOffset: std.offset!, daylight: { offset: dst.offset!, start: dst.rule, end: std.rule } };
    }
  }
  const single = list(group?.Transition)[0] ?? recurring[0];
  const offset = single ? periods.get(target(single)) : [...periods.values()][0];
  return offset === undefined ? undefined : { standardOffset: offset };
}

/** Day (UTC midnight ms) of the n-th weekday of a month; -1 (and a 5th that does not exist) is the last. */
function nthWeekday(year: number, month: number, dayOfWeek: number, occurrence: number): number {
  if (occurrence > 0 && occurrence < 5) {
    const first = Date.UTC(year, month - 1, 1);
    return first + (((dayOfWeek - new Date(first).getUTCDay() + 7) % 7) + (occurrence - 1) * 7) * DAY;
  }
  const last = Date.UTC(year, month, 0);
  return last - ((new Date(last).getUTCDay() - dayOfWeek + 7) % 7) * DAY;
}

/** The UTC instants of a rule set's switches in `year`: [to daylight, to standard]. */
function transitionsIn(rules: ZoneRules, year: number): [number, number] | undefined {
  const d = rules.daylight;
  if (!d) return undefined;
  const toDst = nthWeekday(year, d.start.month, d.start.dayOfWeek, d.start.occurrence) + d.start.timeOffsetMinutes * 60_000 - rules.standardOffset * 60_000;
  const toStd = nthWeekday(year, d.end.month, d.end.dayOfWeek, d.end.occurrence) + d.end.timeOffsetMinutes * 60_000 - d.offset * 60_000;
  return [toDst, toStd];
}

/** Minutes east of UTC under `rules` at a UTC instant. */
export function rulesOffsetAt(rules: ZoneRules, utcMs: number): number {
  const t = transitionsIn(rules, new Date(utcMs).getUTCFullYear());
  if (!t) return rules.standardOffset;
  const [toDst, toStd] = t;
  const inDst = toDst < toStd ? utcMs >= toDst && utcMs < toStd : utcMs >= toDst || utcMs < toStd;
  return inDst ? rules.daylight!.offset : rules.standardOffset;
}

/** Instants where two zones must agree: every week of the years, and an hour either side of each switch. */
function checkpoints(rules: ZoneRules, years: number[]): number[] {
  const out: number[] = [];
  for (const y of years) {
    for (let t = Date.UTC(y, 0, 1, 12); t < Date.UTC(y + 1, 0, 1); t += 7 * DAY) out.push(t);
    for (const s of transitionsIn(rules, y) ?? []) out.push(s - HOUR, s - 1, s, s + HOUR);
  }
  return out;
}

/** Candidate IANA zones: each Windows zone's reporting zone first, then the rest of CLDR's lists. */
const CANDIDATES: string[] = (() => {
  const first = Object.values(CLDR_WINDOWS_ZONES).map((zones) => currentIanaName(zones[0]));
  const rest = Object.values(CLDR_WINDOWS_ZONES).flatMap((zones) => zones.slice(1).map(currentIanaName));
  return [...new Set([...first, ...rest])].filter((z) => !z.startsWith('Etc/'));
})();

const MATCHES = new Map<string, string | null>();

/**
 * The IANA zone whose offsets equal the rules' in the years around `aroundMs` (the year before,
 * of, and after): `preferred` when it matches (the zone a CRM wrote, kept on the item), else the
 * first match in CLDR order. Undefined when no zone does; the caller then keeps the definition.
 */
export function ianaZoneForRules(rules: ZoneRules, aroundMs: number, preferred?: string): string | undefined {
  const year = new Date(aroundMs).getUTCFullYear();
  const key = `${JSON.stringify(rules)}|${year}|${preferred ?? ''}`;
  const cached = MATCHES.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const years = [year - 1, year, year + 1];
  const probes = [Date.UTC(year, 0, 15), Date.UTC(year, 6, 15)];
  const points = checkpoints(rules, years);
  const fits = (zone: string) => {
    try {
      if (!probes.every((t) => zoneOffsetMinutes(zone, new Date(t)) === rulesOffsetAt(rules, t))) return false;
      return points.every((t) => zoneOffsetMinutes(zone, new Date(t)) === rulesOffsetAt(rules, t));
    } catch {
      return false;
    }
  };
  const found = [...(preferred ? [preferred] : []), ...CANDIDATES].find(fits);
  MATCHES.set(key, found ?? null);
  return found;
}

/**
 * What to report for a definition no IANA zone matches: the fixed-offset zone of its standard
 * offset (`Etc/GMT-1` is UTC+1, POSIX signs), or UTC when the offset is not whole hours. The item
 * keeps its own definition on Exchange until the CRM changes its times or zone.
 */
export function fixedOffsetZone(rules: ZoneRules): string {
  const h = rules.standardOffset / 60;
  if (!Number.isInteger(h) || h === 0 || h < -12 || h > 14) return 'UTC';
  return `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}
