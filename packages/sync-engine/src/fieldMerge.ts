/**
 * Three-way merge of one item against the snapshot both sides agreed on at the last sync
 * (DESIGN.md invariant 2). Works on normalised items, unit by unit:
 * - appointments: the time fields (start, end, timeZone, isAllDay) form one unit, because taking
 *   `start` from one side and `end` from the other can produce an event that ends before it
 *   starts; `recurrence` is one unit (pattern, range and exceptions only make sense together);
 *   every other field is its own unit.
 * - contacts: `emails` is one unit (an ordered list of at most three); phones and addresses merge
 *   per kind (`phones.mobile`, `addresses.home`), so a new mobile number in the CRM and a new home
 *   number in Outlook both survive.
 * Units are compared in comparableContent form (an all-day item's bounds as dates), so a CRM's
 * UTC-midnight bounds and Exchange's local midnights are no change; values come from the synced
 * form, and an all-day item keeps the bound form the CRM last wrote (inAllDayFormOf).
 * A unit changed on one side takes that side's value; changed on both sides to different values
 * follows the policy and is reported as a conflict.
 */
import type { Appointment, Contact, ItemKind } from '@exsync/canonical';
import { normalizeItem, READ_ONLY_APPOINTMENT_FIELDS, sameValue } from '@exsync/canonical';
import { comparableContent, inAllDayFormOf } from './syncedContent';
import type { ConflictPolicy } from './syncTypes';

export type Side = 'crm' | 'exchange';

export interface MergeInput<T> {
  kind: ItemKind;
  /** the snapshot; null when two items are paired for the first time (first-sync matching) */
  base: T | null;
  crm: T;
  exchange: T;
  policy: ConflictPolicy;
  /** CRM updated_at (ISO) */
  crmModified?: string;
  /** Exchange LastModifiedTime (ISO) */
  exchangeModified?: string;
}

export interface MergeResult<T> {
  /** the CRM's item with Exchange's changed units applied (unchanged units keep the CRM's form) */
  merged: T;
  /** names of units changed on both sides to different values */
  conflicts: string[];
  /** the side the policy picked for the conflicting units (undefined when none) */
  resolvedTo?: Side;
}

type Unit = { name: string; get: (item: Record<string, unknown>) => unknown; set: (item: Record<string, unknown>, v: unknown) => void };

function field(name: string): Unit {
  return {
    name,
    get: (item) => item[name],
    set: (item, v) => {
      if (v === undefined) delete item[name];
      else item[name] = v;
    },
  };
}

function group(name: string, names: string[]): Unit {
  return {
    name,
    get: (item) => names.map((n) => item[n]),
    set: (item, v) =>
      names.forEach((n, i) => {
        const x = (v as unknown[])[i];
        if (x === undefined) delete item[n];
        else item[n] = x;
      }),
  };
}

function keyed(container: 'phones' | 'addresses', key: string): Unit {
  return {
    name: `${container}.${key}`,
    get: (item) => (item[container] as Record<string, unknown> | undefined)?.[key],
    set: (item, v) => {
      const rec = { ...((item[container] as Record<string, unknown>) ?? {}) };
      if (v === undefined) delete rec[key];
      else rec[key] = v;
      item[container] = rec;
    },
  };
}

const TIME_FIELDS = ['start', 'end', 'timeZone', 'isAllDay'];
const APPOINTMENT_UNITS: Unit[] = [
  field('subject'),
  field('body'),
  field('location'),
  group('time', TIME_FIELDS),
  field('recurrence'),
  field('reminderMinutes'),
  field('sensitivity'),
  field('showAs'),
  field('categories'),
];
const CONTACT_FIELDS = ['givenName', 'middleName', 'surname', 'displayName', 'companyName', 'jobTitle', 'department', 'emails', 'notes', 'birthday'];

function contactUnits(items: Record<string, unknown>[]): Unit[] {
  const units = CONTACT_FIELDS.map(field);
  for (const container of ['phones', 'addresses'] as const) {
    const keys = new Set<string>();
    for (const it of items) for (const k of Object.keys((it?.[container] as object) ?? {})) keys.add(k);
    for (const k of [...keys].sort()) units.push(keyed(container, k));
  }
  return units;
}

/** Which side wins a unit changed on both sides. Ties and unknown times go to the CRM. */
export function policyWinner(policy: ConflictPolicy, crmModified?: string, exchangeModified?: string): Side {
  if (policy === 'crm-wins') return 'crm';
  if (policy === 'exchange-wins') return 'exchange';
  const c = crmModified ? Date.parse(crmModified) : NaN;
  const e = exchangeModified ? Date.parse(exchangeModified) : NaN;
  if (!Number.isNaN(e) && (Number.isNaN(c) || e > c)) return 'exchange';
  return 'crm';
}

export function mergeItems<T extends Appointment | Contact>(input: MergeInput<T>): MergeResult<T> {
  const { kind } = input;
  const view = (x: T) => comparableContent(kind, x) as unknown as Record<string, unknown>;
  const base = input.base ? view(input.base) : null;
  const crm = view(input.crm);
  const ex = view(input.exchange);
  // Comparisons use the comparable forms (all-day dates, lower-cased addresses); the result is
  // the CRM's own item with the units taken from Exchange in normal form, so every unit nobody
  // changed keeps exactly the form the CRM wrote (its UTC midnights, its email entries).
  const crmValue = withoutReadOnly(kind, input.crm);
  const exValue = normalizeItem(kind, input.exchange) as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = structuredClone(crmValue);
  const units = kind === 'appointment' ? APPOINTMENT_UNITS : contactUnits([crm, ex, ...(base ? [base] : [])]);
  const winner = policyWinner(input.policy, input.crmModified, input.exchangeModified);
  const conflicts: string[] = [];
  const takeExchange = (unit: Unit) => unit.set(merged, structuredClone(unit.get(exValue)));

  for (const unit of units) {
    const c = unit.get(crm);
    const e = unit.get(ex);
    if (sameValue(c, e)) continue;
    if (base) {
      const b = unit.get(base);
      if (sameValue(c, b)) {
        takeExchange(unit);
        continue;
      }
      if (sameValue(e, b)) continue;
    } else {
      // First pairing: nothing to compare against, so a value only one side has fills the gap.
      if (isEmpty(c)) {
        takeExchange(unit);
        continue;
      }
      if (isEmpty(e)) continue;
    }
    conflicts.push(unit.name);
    if (winner === 'exchange') takeExchange(unit);
  }
  let result = merged as unknown as T;
  if (kind === 'appointment') result = inAllDayFormOf(crmValue as unknown as Appointment, result as Appointment) as T;
  return {
    merged: result,
    conflicts,
    resolvedTo: conflicts.length ? winner : undefined,
  };
}

/** The CRM item without the fields Exchange alone reports (they never merge). */
function withoutReadOnly(kind: ItemKind, item: Appointment | Contact): Record<string, unknown> {
  const out = { ...(item as unknown as Record<string, unknown>) };
  if (kind === 'appointment') for (const f of READ_ONLY_APPOINTMENT_FIELDS) delete out[f];
  return out;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.every((x) => x === undefined) || v.length === 0;
  return false;
}
