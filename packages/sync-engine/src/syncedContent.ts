import type { Appointment, Contact, ContactEmail, ItemKind } from '@exsync/canonical';
import { allDayDate, isUtcMidnight, normalizeItem, READ_ONLY_APPOINTMENT_FIELDS, utcMidnightOf } from '@exsync/canonical';

/**
 * The part of an item the sync writes, in normal form: what snapshots hold and what the echo
 * filter and the merge compare (email addresses lower-cased). Read-only fields (organizer, attendees, iCalUId) are Exchange's
 * alone, so they never count as an edit on either side.
 */
export function syncedContent<T extends Appointment | Contact>(kind: ItemKind, item: T): T {
  const n = normalizeItem(kind, item) as unknown as Record<string, unknown>;
  if (kind === 'appointment') for (const f of READ_ONLY_APPOINTMENT_FIELDS) delete n[f];
  // Mail systems treat addresses case-insensitively; a case-only difference is not an edit.
  else n.emails = (n.emails as ContactEmail[]).map((e) => ({ ...e, address: e.address.toLowerCase() }));
  return n as unknown as T;
}

/** The read-only fields of an Exchange item, to carry onto what the CRM stores. */
export function readOnlyPart(kind: ItemKind, item: Appointment | Contact): Partial<Appointment> {
  if (kind !== 'appointment') return {};
  const out: Record<string, unknown> = {};
  for (const f of READ_ONLY_APPOINTMENT_FIELDS) if ((item as Appointment)[f] !== undefined) out[f] = (item as Appointment)[f];
  return out as Partial<Appointment>;
}

/**
 * What the engine compares to decide whether a person changed something: the synced content, with
 * an all-day item's bounds reduced to the dates they name (`allDayDate`), so that UTC midnights
 * from a CRM and local midnights from Exchange are the same dates. Values are never written from
 * this form; the merge takes them from syncedContent.
 */
export function comparableContent<T extends Appointment | Contact>(kind: ItemKind, item: T): T {
  const n = syncedContent(kind, item);
  if (kind !== 'appointment') return n;
  const a = n as Appointment;
  if (!a.isAllDay) return n;
  return { ...a, start: allDayDate(a.start, a.timeZone), end: allDayDate(a.end, a.timeZone) } as T;
}

/**
 * An all-day item's bounds in the form `like` uses: when the CRM last wrote UTC midnights, dates
 * that came from Exchange (local midnights) go back to it as UTC midnights of the same dates.
 */
export function inAllDayFormOf(like: Appointment, item: Appointment): Appointment {
  if (!like.isAllDay || !item.isAllDay || !isUtcMidnight(like.start) || !isUtcMidnight(like.end)) return item;
  return {
    ...item,
    start: utcMidnightOf(allDayDate(item.start, item.timeZone)),
    end: utcMidnightOf(allDayDate(item.end, item.timeZone)),
  };
}
