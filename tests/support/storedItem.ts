/**
 * The EWS simulator's stored form of an item (`GET /_sim/mailboxes/:mb/items/:id/stored`): every
 * element with its attributes, the extended properties and the zone definitions. Field fidelity
 * tests compare these, element by element, so that what they check does not depend on exsync's own
 * mapper.
 */
import type { Stack } from './stack';

export interface StoredEl {
  name: string;
  attrs: Record<string, string>;
  children: StoredEl[];
  text: string;
}

export interface StoredItem {
  id: string;
  changeKey: string;
  kind: 'CalendarItem' | 'Contact';
  fields: Record<string, StoredEl>;
  extended: StoredEl[];
  startTimeZone: { id: string; standardBias: number; daylight?: unknown };
  endTimeZone: { id: string; standardBias: number; daylight?: unknown };
}

/** Elements Exchange itself maintains on every write; never a person's field. */
const BOOKKEEPING = new Set(['LastModifiedTime', 'DateTimeStamp']);

export async function readStored(stack: Stack, mailbox: string, itemId: string): Promise<StoredItem> {
  const res = await stack.sim('GET', `/_sim/mailboxes/${encodeURIComponent(mailbox)}/items/${encodeURIComponent(itemId)}/stored`);
  if (res.status !== 200) throw new Error(`stored item ${itemId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as StoredItem;
}

/** A stable text of an element tree (attributes sorted), for comparing elements. */
export function elText(e: StoredEl | undefined): string {
  if (!e) return '(absent)';
  const attrs = Object.keys(e.attrs)
    .sort()
    .map((k) => `${k}=${JSON.stringify(e.attrs[k])}`)
    .join(' ');
  return `<${e.name}${attrs ? ` ${attrs}` : ''}>${e.children.length ? e.children.map(elText).join('') : JSON.stringify(e.text)}</${e.name}>`;
}

function extendedName(e: StoredEl): string {
  const uri = e.children.find((c) => c.name === 'ExtendedFieldURI');
  const a = uri?.attrs ?? {};
  return `ExtendedProperty(${a.PropertyName ?? a.PropertyId ?? a.PropertyTag ?? '?'})`;
}

/**
 * The names of what differs between two stored versions of an item: element names, the
 * `ExtendedProperty(<name or id>)` of extended properties, `StartTimeZone` / `EndTimeZone`.
 */
export function storedDiff(before: StoredItem, after: StoredItem): string[] {
  const out: string[] = [];
  const names = new Set([...Object.keys(before.fields), ...Object.keys(after.fields)]);
  for (const n of [...names].sort()) {
    if (BOOKKEEPING.has(n)) continue;
    if (elText(before.fields[n]) !== elText(after.fields[n])) out.push(n);
  }
  const ext = (s: StoredItem) => new Map(s.extended.map((e) => [extendedName(e), elText(e)]));
  const eb = ext(before);
  const ea = ext(after);
  for (const k of new Set([...eb.keys(), ...ea.keys()])) if (eb.get(k) !== ea.get(k)) out.push(k);
  if (JSON.stringify(before.startTimeZone) !== JSON.stringify(after.startTimeZone)) out.push('StartTimeZone');
  if (JSON.stringify(before.endTimeZone) !== JSON.stringify(after.endTimeZone)) out.push('EndTimeZone');
  return out;
}

/** The entries of an indexed field (`EmailAddresses`, `PhoneNumbers`, `PhysicalAddresses`) by Key. */
export function entries(item: StoredItem, field: string): Record<string, StoredEl> {
  return Object.fromEntries((item.fields[field]?.children ?? []).map((e) => [e.attrs.Key, e]));
}

/** The sim's item whose Subject (calendar) or GivenName (contacts) is `value`. */
export async function findSimItem(stack: Stack, mailbox: string, folder: 'calendar' | 'contacts', field: string, value: string): Promise<string> {
  const res = await stack.sim('GET', `/_sim/mailboxes/${encodeURIComponent(mailbox)}/folders/${folder}`);
  const hit = (res.body as { id: string; fields: Record<string, unknown> }[]).find((i) => i.fields[field] === value);
  if (!hit) throw new Error(`no ${folder} item with ${field} ${value}`);
  return hit.id;
}

/** A CRM item as a CRM writes it back: without the fields Exchange alone reports (read-only). */
export function writable<T extends object>(item: T): T {
  const { organizer: _o, attendees: _a, iCalUId: _i, ...rest } = item as Record<string, unknown>;
  return structuredClone(rest) as T;
}
