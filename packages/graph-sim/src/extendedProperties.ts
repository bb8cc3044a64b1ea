import { DISTINGUISHED_PROPERTY_SETS, el, extendedPropertyKey, textEl, type El, type StoredItem } from '@exsync/ews-sim';
import { errors } from './errors';
import { isMapiAlias, readMapiAliases, writeMapiAliases } from './mapiAliases';

/**
 * `singleValueExtendedProperties` ids (learn.microsoft.com/graph/api/resources/extended-properties-overview):
 * `{type} {guid} Name {name}`, `{type} {guid} Id {0xhex}` or `{type} {0xtag}`. The first is the
 * property EWS writes with a PropertySetId (or a distinguished set, whose GUID is the same property)
 * and a PropertyName: both protocols read and write the same stored ExtendedProperty element.
 */
const TYPES = [
  'Binary',
  'Boolean',
  'CLSID',
  'Currency',
  'Double',
  'Float',
  'Integer',
  'Long',
  'Short',
  'String',
  'SystemTime',
  'ApplicationTime',
  'Error',
  'Null',
  'Object',
];
const TYPE_BY_LOWER = new Map(TYPES.map((t) => [t.toLowerCase(), t]));
const GUID_BY_SET_NAME = new Map(Object.entries(DISTINGUISHED_PROPERTY_SETS).map(([k, v]) => [k.toLowerCase(), v]));

export interface ExtendedPropertyId {
  type: string;
  set?: string;
  name?: string;
  propId?: number;
  tag?: number;
}

/** Parses an id; undefined when it is not one (the caller decides the error). */
export function parseExtendedId(id: string): ExtendedPropertyId | undefined {
  const m = /^\s*(\w+)\s+(?:\{([0-9a-fA-F-]{36})\}\s+(Name|Id)\s+(.+?)|(0x[0-9a-fA-F]{1,4}))\s*$/i.exec(id);
  if (!m) return undefined;
  const type = TYPE_BY_LOWER.get(m[1].toLowerCase());
  if (!type) return undefined;
  if (m[5]) return { type, tag: parseInt(m[5], 16) };
  const set = m[2].toLowerCase();
  if (m[3].toLowerCase() === 'name') return { type, set, name: m[4] };
  const n = /^0x[0-9a-f]+$/i.test(m[4]) ? parseInt(m[4], 16) : Number(m[4]);
  if (!Number.isInteger(n)) return undefined;
  return { type, set, propId: n };
}

/** The id as Graph writes it back: GUID lower case, ids and tags in hex; the name as written (case-sensitive). */
export function formatExtendedId(p: ExtendedPropertyId): string {
  if (p.tag !== undefined) return `${p.type} 0x${p.tag.toString(16)}`;
  if (p.name !== undefined) return `${p.type} {${p.set}} Name ${p.name}`;
  return `${p.type} {${p.set}} Id 0x${p.propId!.toString(16)}`;
}

export function canonicalExtendedId(id: string): string | undefined {
  const p = parseExtendedId(id);
  return p ? formatExtendedId(p) : undefined;
}

/** The EWS ExtendedFieldURI of a Graph id. */
export function extendedFieldUri(p: ExtendedPropertyId): El {
  const attrs: Record<string, string> = { PropertyType: p.type };
  if (p.tag !== undefined) attrs.PropertyTag = `0x${p.tag.toString(16)}`;
  else {
    attrs.PropertySetId = p.set!;
    if (p.name !== undefined) attrs.PropertyName = p.name;
    else attrs.PropertyId = String(p.propId);
  }
  return el('ExtendedFieldURI', attrs);
}

/** The Graph id of a stored ExtendedProperty element (written over EWS or Graph). */
export function graphIdOf(prop: El): string | undefined {
  const uri = prop.children.find((c) => c.name === 'ExtendedFieldURI');
  if (!uri) return undefined;
  const a = uri.attrs;
  const type = TYPE_BY_LOWER.get((a.PropertyType ?? 'String').toLowerCase()) ?? a.PropertyType ?? 'String';
  if (a.PropertyTag) return formatExtendedId({ type, tag: Number(a.PropertyTag) });
  const set = (a.PropertySetId ?? GUID_BY_SET_NAME.get((a.DistinguishedPropertySetId ?? '').toLowerCase()) ?? '').toLowerCase();
  if (!set) return undefined;
  if (a.PropertyName !== undefined) return formatExtendedId({ type, set, name: a.PropertyName });
  if (a.PropertyId !== undefined) return formatExtendedId({ type, set, propId: Number(a.PropertyId) });
  return undefined;
}

/**
 * `[{id, value}]` of every single-valued extended property an item holds: the ones stored as
 * ExtendedProperty elements and the MAPI properties Exchange keeps as fields (mapiAliases.ts).
 */
export function readExtended(item: StoredItem): { id: string; value: string }[] {
  const out: { id: string; value: string }[] = readMapiAliases(item);
  for (const prop of item.extended.values()) {
    const id = graphIdOf(prop);
    const value = prop.children.find((c) => c.name === 'Value');
    if (id && value) out.push({ id, value: value.text });
  }
  return out;
}

/**
 * Writes `singleValueExtendedProperties` of a POST/PATCH body into the item. A bad id answers 400
 * `ErrorInvalidProperty`, as Graph does.
 */
export function writeExtended(item: StoredItem, input: unknown): void {
  if (!Array.isArray(input)) throw errors.badRequest('singleValueExtendedProperties must be a collection.');
  const aliased: { id: string; value: string }[] = [];
  for (const entry of input) {
    const e = entry as { id?: unknown; value?: unknown };
    if (!e || typeof e !== 'object' || typeof e.id !== 'string') throw errors.invalidProperty('Each extended property needs an id.');
    const parsed = parseExtendedId(e.id);
    if (!parsed) throw errors.invalidProperty(`The extended property id '${e.id}' is not valid.`);
    if (e.value === null || e.value === undefined) throw errors.invalidProperty(`The extended property '${e.id}' needs a value.`);
    const id = formatExtendedId(parsed);
    if (isMapiAlias(item, id)) {
      aliased.push({ id, value: String(e.value) });
      continue;
    }
    const uri = extendedFieldUri(parsed);
    const prop = el('ExtendedProperty', {}, [uri, textEl('Value', String(e.value))]);
    item.extended.set(extendedPropertyKey(uri), prop);
  }
  writeMapiAliases(item, aliased);
}
