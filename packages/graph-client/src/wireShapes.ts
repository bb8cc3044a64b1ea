import { SyncError } from '@exsync/canonical';

/**
 * Graph replies checked for the shape exsync reads before anything else sees them: a reply that is
 * not what the endpoint documents is a MalformedResponse (Transient: a retry may get a whole one),
 * never a TypeError deep in the engine. Sources: learn.microsoft.com/graph/api/resources/event,
 * /contact, /graph/delta-query-overview.
 */

export type Json = Record<string, unknown>;

function malformed(what: string): SyncError {
  return new SyncError('Transient', `Graph answered with an unexpected ${what}`, { code: 'MalformedResponse' });
}

export function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** An optional string property; anything else than a string or null/absent is malformed. */
export function optString(o: Json, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw malformed(`${what}.${key}`);
  return v;
}

export function reqString(o: Json, key: string, what: string): string {
  const v = optString(o, key, what);
  if (v === undefined) throw malformed(`${what} without ${key}`);
  return v;
}

export interface DeltaPage {
  value: Json[];
  nextLink?: string;
  deltaLink?: string;
}

/** One page of a delta round: `value[]` of objects with an `id`, and exactly one of nextLink/deltaLink. */
export function parseDeltaPage(body: unknown): DeltaPage {
  if (!isObject(body) || !Array.isArray(body.value)) throw malformed('delta page');
  for (const v of body.value) if (!isObject(v) || typeof v.id !== 'string') throw malformed('delta entry');
  const nextLink = optString(body, '@odata.nextLink', 'delta page');
  const deltaLink = optString(body, '@odata.deltaLink', 'delta page');
  if (!nextLink === !deltaLink) throw malformed('delta page (neither or both of nextLink and deltaLink)');
  return { value: body.value as Json[], nextLink, deltaLink };
}

/** A collection answer `{ value: [...] , @odata.nextLink? }`. */
export function parseCollection(body: unknown): { value: Json[]; nextLink?: string } {
  if (!isObject(body) || !Array.isArray(body.value)) throw malformed('collection');
  for (const v of body.value) if (!isObject(v)) throw malformed('collection entry');
  return { value: body.value as Json[], nextLink: optString(body, '@odata.nextLink', 'collection') };
}

/**
 * An item answer: an object with `id` and `changeKey` (or an etag to read it from). The parsed
 * body itself is returned (no copy), with `changeKey` filled in from the etag when it came only there.
 */
export function parseItem(body: unknown, what: string): Json & { id: string; changeKey: string } {
  if (!isObject(body)) throw malformed(what);
  reqString(body, 'id', what);
  const changeKey = optString(body, 'changeKey', what) ?? changeKeyFromEtag(optString(body, '@odata.etag', what));
  if (!changeKey) throw malformed(`${what} without changeKey`);
  body.changeKey = changeKey;
  return body as Json & { id: string; changeKey: string };
}

/** `W/"<changeKey>"` -> changeKey (GRAPH-NOTES, "Writes"). */
export function changeKeyFromEtag(etag: string | undefined): string | undefined {
  const m = etag ? /^W\/"(.*)"$/.exec(etag) : null;
  return m ? m[1] : undefined;
}

/** The value of a `singleValueExtendedProperties` entry with `id` (case-insensitive id match). */
export function extendedValue(item: Json, id: string): string | undefined {
  const list = item.singleValueExtendedProperties;
  if (!Array.isArray(list)) return undefined;
  for (const p of list) {
    if (isObject(p) && typeof p.id === 'string' && p.id.toLowerCase() === id.toLowerCase() && typeof p.value === 'string') return p.value;
  }
  return undefined;
}
