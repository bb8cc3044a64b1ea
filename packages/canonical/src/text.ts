/**
 * Text exsync can store: Postgres refuses U+0000 in `text` and `jsonb`, and refuses the JSON
 * escape of a lone UTF-16 surrogate (`"\ud800"`) in `jsonb`. Text entering through the API with
 * either is refused (400 naming the field); text from Exchange is cleaned before it is stored.
 */

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** What is wrong with a string exsync cannot store, or null when it can be stored. */
export function unstorableText(value: string): string | null {
  const m = UNSTORABLE.exec(value);
  if (!m) return null;
  return m[0] === '\u0000' ? 'must not contain U+0000 (NUL)' : 'must not contain a lone UTF-16 surrogate';
}

/** The string with NULs removed and lone surrogates replaced by U+FFFD. */
export function storableText(value: string): string {
  if (!UNSTORABLE.test(value)) return value;
  return value.replace(UNSTORABLE_ALL, (c) => (c === '\u0000' ? '' : '\ufffd'));
}

/** True when some string (or key) inside a JSON-like value cannot be stored as it is. */
function holdsUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (Array.isArray(value)) {
    for (const v of value) if (holdsUnstorable(v)) return true;
    return false;
  }
  if (value && typeof value === 'object') {
    for (const k in value) if (UNSTORABLE.test(k) || holdsUnstorable((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/**
 * A deep copy of a JSON-like value with every string (and key) made storable; unchanged values are
 * returned as is. Almost every item is storable, so it is looked through first and copied only
 * when something must change (the copy was a tenth of an initial sync's garbage).
 */
export function storableValue<T>(value: T): T {
  return holdsUnstorable(value) ? cleanedValue(value) : value;
}

function cleanedValue<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) {
    const out = value.map(cleanedValue);
    return (out.every((v, i) => v === value[i]) ? value : out) as T;
  }
  if (value && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = storableText(k);
      const nv = cleanedValue(v);
      if (key !== k || nv !== v) changed = true;
      out[key] = nv;
    }
    return (changed ? out : value) as T;
  }
  return value;
}

/** How deep a JSON value exsync accepts from a client: far beyond any real item or request. */
export const MAX_JSON_DEPTH = 64;

/**
 * The dotted path of the first string (or key) in a JSON-like value that cannot be stored, with
 * what is wrong; null when all can be. Paths are the field names a 400 answers with (`emails.0`).
 * A value nested deeper than `MAX_JSON_DEPTH` is itself a problem, named at the level where it
 * goes too deep. Iterative, not recursive: a body of 100,000 nested arrays once overflowed the
 * stack here and answered 500.
 */
export function findUnstorableText(value: unknown): { field: string; problem: string } | null {
  // depth-first in document order: children are pushed in reverse so the first is taken next
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = unstorableText(v);
      if (problem) return { field: path.join('.'), problem };
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) return { field: path.join('.'), problem: `is nested more than ${MAX_JSON_DEPTH} levels deep` };
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    for (const [k] of entries) {
      const keyProblem = unstorableText(k);
      if (keyProblem) return { field: [...path, storableText(k)].join('.'), problem: keyProblem };
    }
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i][1], path: [...path, entries[i][0]] });
  }
  return null;
}
