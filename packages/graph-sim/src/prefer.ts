import { errors } from './errors';

/**
 * The `Prefer` preferences Graph honours for Outlook resources: `odata.maxpagesize=N`,
 * `outlook.timezone="<Windows or IANA zone>"`, `IdType="ImmutableId"` (learn.microsoft.com/graph/
 * outlook-immutable-id, /graph/api/user-list-calendarview "Request headers"). Several may share one
 * header, comma-separated, or come in several headers.
 */
export interface Preferences {
  maxPageSize?: number;
  timeZone?: string;
  idType: 'rest' | 'immutable';
  /** What to echo in `Preference-Applied`. */
  applied: string[];
}

/** Splits `a=1, b="x, y"` into name/value pairs, honouring quotes. */
export function splitPreferences(header: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /\s*([^=,;\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,;]*))?\s*(?:;[^,]*)?(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < header.length && (m = re.exec(header))) {
    if (m[0] === '') break;
    let v = (m[2] ?? '').trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    out.push([m[1], v]);
  }
  return out;
}

export function parsePreferences(header: string | string[] | undefined): Preferences {
  const prefs: Preferences = { idType: 'rest', applied: [] };
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  for (const [name, value] of splitPreferences(text)) {
    const key = name.toLowerCase();
    if (key === 'odata.maxpagesize') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw errors.badRequest(`The value '${value}' of odata.maxpagesize is not a positive integer.`);
      prefs.maxPageSize = n;
      prefs.applied.push(`odata.maxpagesize=${n}`);
    } else if (key === 'outlook.timezone') {
      prefs.timeZone = value;
      prefs.applied.push(`outlook.timezone="${value}"`);
    } else if (key === 'idtype') {
      if (value === 'ImmutableId') {
        prefs.idType = 'immutable';
        prefs.applied.push('IdType="ImmutableId"');
      } else if (value === 'RestId' || value === 'RestID') {
        prefs.applied.push('IdType="RestId"');
      }
    }
  }
  return prefs;
}
