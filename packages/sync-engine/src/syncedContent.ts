import type { Appointment, Contact, ItemKind } from '@exsync/canonical';
import { normalizeItem, READ_ONLY_APPOINTMENT_FIELDS } from '@exsync/canonical';

/**
 * The part of an item the sync writes, in normal form: what snapshots hold and what the echo
 * filter and the merge compare (email addresses lower-cased). Read-only fields (organizer, attendees, iCalUId) are Exchange's
 * alone, so they never count as an edit on either side.
 */
export function syncedContent<T extends Appointment | Contact>(kind: ItemKind, item: T): T {
  const n = normalizeItem(kind, item) as unknown as Record<string, unknown>;
  if (kind === 'appointment') for (const f of READ_ONLY_APPOINTMENT_FIELDS) delete n[f];
  // Mail systems treat addresses case-insensitively; a case-only difference is not an edit.
  else n.emails = (n.emails as string[]).map((e) => e.toLowerCase());
  return n as unknown as T;
}

/** The read-only fields of an Exchange item, to carry onto what the CRM stores. */
export function readOnlyPart(kind: ItemKind, item: Appointment | Contact): Partial<Appointment> {
  if (kind !== 'appointment') return {};
  const out: Record<string, unknown> = {};
  for (const f of READ_ONLY_APPOINTMENT_FIELDS) if ((item as Appointment)[f] !== undefined) out[f] = (item as Appointment)[f];
  return out as Partial<Appointment>;
}
