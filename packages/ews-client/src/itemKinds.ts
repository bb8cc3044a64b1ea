import type { Appointment, Contact, FolderName, ItemKind } from '@exsync/canonical';
import {
  Appointment as EwsAppointment,
  BasePropertySet,
  Contact as EwsContact,
  ItemSchema,
  PropertySet,
  WellKnownFolderName,
  type ExchangeService,
  type Item,
} from 'ews-javascript-api';
import { EXSYNC_LINK_ID_PROPERTY } from './exsyncTag';
import { APPOINTMENT_FETCH_PROPERTIES, applyAppointment, toCanonicalAppointment } from './mappers/appointmentMapper';
import { readAppointments } from './mappers/appointmentSeries';
import { CONTACT_FETCH_PROPERTIES, applyContact, needsMailboxTimeZone, toCanonicalContact } from './mappers/contactMapper';

/** What mapping may need to know about the mailbox, learned once per session when needed. */
export interface MappingContext {
  /** the mailbox's own IANA zone (OWA.UserOptions), which dates a birthday Outlook wrote without its local date */
  mailboxTimeZone?: string;
}

/** Everything the session needs to know about one item kind, so its operations stay kind-agnostic. */
export interface ItemKindAdapter<T> {
  folder: WellKnownFolderName;
  /** the mapper's full property set plus our tag */
  fetchProperties: PropertySet;
  newItem(service: ExchangeService): Item;
  toCanonical(item: Item, context?: MappingContext): T;
  /**
   * Canonical items for items loaded with `fetchProperties`, in order; a mapping failure is
   * returned in its item's place. Series need their exception items, fetched in one batch.
   */
  readMany(service: ExchangeService, items: Item[], context?: MappingContext): Promise<({ ok: true; value: T } | { ok: false; error: unknown })[]>;
  apply(target: Item, value: T, context?: MappingContext): void;
  /** true when mapping these loaded items needs the mailbox's time zone (MappingContext) */
  needsMailboxTimeZone(items: Item[]): boolean;
  /** appointments are written with SendToNone so a sync never mails attendees */
  isCalendar: boolean;
}

export const WELL_KNOWN_FOLDER: Record<FolderName, WellKnownFolderName> = {
  calendar: WellKnownFolderName.Calendar,
  contacts: WellKnownFolderName.Contacts,
};

/**
 * The request settings a PropertySet carries besides its properties. A copy must keep them all:
 * dropping RequestedBodyType made Exchange answer HTML bodies as markup (issue 14).
 */
const PROPERTY_SET_SETTINGS = [
  'RequestedBodyType',
  'RequestedUniqueBodyType',
  'RequestedNormalizedBodyType',
  'FilterHtmlContent',
  'ConvertHtmlCodePageToUTF8',
  'InlineImageUrlTemplate',
  'BlockExternalImages',
  'AddBlankTargetToLinks',
  'MaximumBodySize',
] as const;

/** A copy of `base` (properties and request settings) that also names our extended property (they come back only when asked for). */
export function withExsyncTag(base: PropertySet): PropertySet {
  const ps = new PropertySet(base.BasePropertySet);
  for (const p of base.GetEnumerator()) ps.Add(p);
  const from = base as unknown as Record<string, unknown>;
  const to = ps as unknown as Record<string, unknown>;
  for (const setting of PROPERTY_SET_SETTINGS) {
    if (from[setting] !== null && from[setting] !== undefined) to[setting] = from[setting];
  }
  if (!ps.Contains(EXSYNC_LINK_ID_PROPERTY)) ps.Add(EXSYNC_LINK_ID_PROPERTY);
  return ps;
}

/** What SyncFolderItems and FindItem ask for: ids plus the cheap properties and our tag. */
export function cheapProperties(): PropertySet {
  return new PropertySet(BasePropertySet.IdOnly, [ItemSchema.LastModifiedTime, ItemSchema.ItemClass, EXSYNC_LINK_ID_PROPERTY]);
}

let adapters: { appointment: ItemKindAdapter<Appointment>; contact: ItemKindAdapter<Contact> } | undefined;

export function adapterFor<K extends ItemKind>(kind: K): ItemKindAdapter<K extends 'appointment' ? Appointment : Contact> {
  adapters ??= {
    appointment: {
      folder: WellKnownFolderName.Calendar,
      fetchProperties: withExsyncTag(APPOINTMENT_FETCH_PROPERTIES),
      newItem: (service) => new EwsAppointment(service),
      toCanonical: (item) => toCanonicalAppointment(item as EwsAppointment),
      readMany: (service, items) => readAppointments(service, items as EwsAppointment[]),
      apply: (target, value) => applyAppointment(target as EwsAppointment, value),
      needsMailboxTimeZone: () => false,
      isCalendar: true,
    },
    contact: {
      folder: WellKnownFolderName.Contacts,
      fetchProperties: withExsyncTag(CONTACT_FETCH_PROPERTIES),
      newItem: (service) => new EwsContact(service),
      toCanonical: (item, context) => toCanonicalContact(item as EwsContact, context?.mailboxTimeZone),
      readMany: async (_service, items, context) =>
        items.map((item) => {
          try {
            return { ok: true as const, value: toCanonicalContact(item as EwsContact, context?.mailboxTimeZone) };
          } catch (error) {
            return { ok: false as const, error };
          }
        }),
      apply: (target, value, context) => applyContact(target as EwsContact, value, context?.mailboxTimeZone),
      needsMailboxTimeZone: (items) => items.some((item) => needsMailboxTimeZone(item as EwsContact)),
      isCalendar: false,
    },
  };
  const a = kind === 'appointment' ? adapters.appointment : kind === 'contact' ? adapters.contact : undefined;
  if (!a) throw new TypeError(`Unknown item kind ${String(kind)}`);
  return a as unknown as ItemKindAdapter<K extends 'appointment' ? Appointment : Contact>;
}
