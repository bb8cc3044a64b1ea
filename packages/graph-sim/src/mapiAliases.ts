import { EMAIL_SLOT_GRAPH_IDS, PHONE_GRAPH_IDS, TIME_ZONE_DEFINITION_START_GRAPH_ID, type PhoneKind } from '@exsync/canonical';
import { decodeTzDefinition, encodeTzDefinition } from '@exsync/calendar';
import { el, textEl, type El, type StoredItem, type TimeZoneDef } from '@exsync/ews-sim';
import { errors } from './errors';

/**
 * MAPI properties that Exchange keeps as first-class fields: EWS reads and writes them as
 * PhoneNumbers entries, EmailAddresses entries (with their slot and display name) and the item's
 * start zone, Graph only as `singleValueExtendedProperties`. Both views are of the same stored
 * property, so here they are read from and written to the shared store's fields, never kept twice
 * (ids: @exsync/canonical mapiProperties.ts).
 */

/** EWS PhoneNumbers keys by canonical phone kind (EWS PhoneNumberKeyType). */
const EWS_PHONE_KEYS: Record<PhoneKind, string> = {
  assistant: 'AssistantPhone',
  businessFax: 'BusinessFax',
  business: 'BusinessPhone',
  business2: 'BusinessPhone2',
  callback: 'Callback',
  car: 'CarPhone',
  companyMain: 'CompanyMainPhone',
  homeFax: 'HomeFax',
  home: 'HomePhone',
  home2: 'HomePhone2',
  isdn: 'Isdn',
  mobile: 'MobilePhone',
  otherFax: 'OtherFax',
  other: 'OtherTelephone',
  pager: 'Pager',
  primary: 'PrimaryPhone',
  radio: 'RadioPhone',
  telex: 'Telex',
  ttyTdd: 'TtyTddPhone',
};

type Alias = { kind: 'phone'; key: string } | { kind: 'emailAddress' | 'emailName'; key: string } | { kind: 'zoneDefinition' };

const ALIASES = new Map<string, Alias>();
for (const [kind, id] of Object.entries(PHONE_GRAPH_IDS) as [PhoneKind, string][]) ALIASES.set(id, { kind: 'phone', key: EWS_PHONE_KEYS[kind] });
for (const [slot, ids] of Object.entries(EMAIL_SLOT_GRAPH_IDS)) {
  ALIASES.set(ids.address, { kind: 'emailAddress', key: `EmailAddress${slot}` });
  ALIASES.set(ids.name, { kind: 'emailName', key: `EmailAddress${slot}` });
}
ALIASES.set(TIME_ZONE_DEFINITION_START_GRAPH_ID, { kind: 'zoneDefinition' });

/** Whether a (canonical-form) Graph id is one of the field-backed properties of this kind of item. */
export function isMapiAlias(item: StoredItem, id: string): boolean {
  const alias = ALIASES.get(id);
  if (!alias) return false;
  return alias.kind === 'zoneDefinition' ? item.kind === 'CalendarItem' : item.kind === 'Contact';
}

function entries(item: StoredItem, field: string): El[] {
  return item.fields.get(field)?.children ?? [];
}

/** `[{id, value}]` of the field-backed properties the item holds. */
export function readMapiAliases(item: StoredItem): { id: string; value: string }[] {
  const out: { id: string; value: string }[] = [];
  if (item.kind === 'CalendarItem') {
    const z = item.startTimeZone;
    out.push({ id: TIME_ZONE_DEFINITION_START_GRAPH_ID, value: encodeTzDefinition({ keyName: z.id, rules: rulesOf(z) }) });
    return out;
  }
  if (item.kind !== 'Contact') return out;
  for (const [id, alias] of ALIASES) {
    if (alias.kind === 'zoneDefinition') continue;
    const field = alias.kind === 'phone' ? 'PhoneNumbers' : 'EmailAddresses';
    const entry = entries(item, field).find((e) => e.attrs.Key === alias.key);
    if (!entry || !entry.text) continue;
    if (alias.kind === 'emailName') {
      if (entry.attrs.Name !== undefined && entry.attrs.Name !== '') out.push({ id, value: entry.attrs.Name });
    } else out.push({ id, value: entry.text });
  }
  return out;
}

/** Replaces (or with undefined removes) the entry `key` of an indexed field. */
function setEntry(item: StoredItem, field: string, key: string, entry: El | undefined): void {
  const kept = entries(item, field).filter((c) => c.attrs.Key !== key);
  const all = entry ? [...kept, { ...entry, attrs: { ...entry.attrs, Key: key } }] : kept;
  if (all.length > 0) item.fields.set(field, el(field, {}, all));
  else item.fields.delete(field);
}

/**
 * Writes field-backed properties: an empty value clears the field. Addresses are written before
 * display names, so a slot filled and named in one request keeps its name whatever the order.
 */
export function writeMapiAliases(item: StoredItem, props: { id: string; value: string }[]): void {
  const ordered = [...props].sort((a, b) => rank(a.id) - rank(b.id));
  for (const { id, value } of ordered) {
    const alias = ALIASES.get(id)!;
    if (alias.kind === 'zoneDefinition') {
      const def = decodeTzDefinition(value);
      if (!def) throw errors.invalidProperty(`The extended property '${id}' is not a TZDEFINITION.`);
      const zone = zoneDefOf(def.keyName || 'Customized Time Zone', def.rules);
      item.startTimeZone = zone;
      item.endTimeZone = zone;
      continue;
    }
    const field = alias.kind === 'phone' ? 'PhoneNumbers' : 'EmailAddresses';
    const current = entries(item, field).find((e) => e.attrs.Key === alias.key);
    if (alias.kind === 'emailName') {
      if (!current) continue; // a name without an address names nothing
      const { Name: _dropped, ...attrs } = current.attrs;
      setEntry(item, field, alias.key, { ...current, attrs: value === '' ? attrs : { ...attrs, Name: value } });
      continue;
    }
    const attrs: Record<string, string> = alias.kind === 'emailAddress' && current?.attrs.Name !== undefined ? { Name: current.attrs.Name } : {};
    setEntry(item, field, alias.key, value === '' ? undefined : textEl('Entry', value, attrs));
  }
}

function rank(id: string): number {
  return ALIASES.get(id)?.kind === 'emailName' ? 1 : 0;
}

/** The sim's Windows-bias zone as offsets east of UTC (calendar ZoneRules). */
function rulesOf(z: TimeZoneDef) {
  return {
    standardOffset: -z.standardBias,
    ...(z.daylight ? { daylight: { offset: -z.daylight.bias, start: z.daylight.start, end: z.daylight.end } } : {}),
  };
}

function zoneDefOf(id: string, r: ReturnType<typeof rulesOf>): TimeZoneDef {
  return {
    id,
    name: id,
    standardBias: -r.standardOffset,
    ...(r.daylight ? { daylight: { bias: -r.daylight.offset, start: r.daylight.start, end: r.daylight.end } } : {}),
  };
}
