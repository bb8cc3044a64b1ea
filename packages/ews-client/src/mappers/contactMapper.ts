/**
 * Canonical Contact <-> EWS Contact. Indexed fields (EmailAddress1..3, phones, physical addresses)
 * go through the library's dictionaries: setting a key to null deletes it, and a changed physical
 * address is written as null-then-entry in the same update (EWS-NOTES "Contacts").
 */
import * as ews from 'ews-javascript-api';
import {
  defaultDisplayName,
  InvalidEmailError,
  normalizeEmails,
  parseEmails,
  type AddressKind,
  type Contact,
  type ContactEmail,
  type EmailInput,
  type PhoneKind,
  type PostalAddress,
} from '@exsync/canonical';
import { EXSYNC_LINK_ID_PROPERTY } from '../exsyncTag';
import { loaded, propertyBag } from './propertyAccess';
import { xmlAttr, xmlText } from './xmlText';
import { toLocal } from '@exsync/calendar';

/**
 * PidLidBirthdayLocal ([MS-OXPROPS] 2.51; PSETID_Address, id 0x80DE, PtypTime): Outlook writes the
 * birthday's local date here unconverted (midnight UTC of that date), beside the Birthday instant
 * (local midnight in the writer's zone). The date is read from here when present.
 */
export const BIRTHDAY_LOCAL_PROPERTY = new ews.ExtendedPropertyDefinition(ews.DefaultExtendedPropertySet.Address, 0x80de, ews.MapiPropertyType.SystemTime);

const C = ews.ContactSchema;
const I = ews.ItemSchema;

export const CONTACT_FETCH_PROPERTIES = (() => {
  const set = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
    C.GivenName,
    C.MiddleName,
    C.Surname,
    C.DisplayName,
    C.FileAs,
    C.CompanyName,
    C.JobTitle,
    C.Department,
    C.EmailAddresses,
    C.PhoneNumbers,
    C.PhysicalAddresses,
    C.Birthday,
    I.Body,
    I.LastModifiedTime,
    EXSYNC_LINK_ID_PROPERTY,
    BIRTHDAY_LOCAL_PROPERTY,
  ]);
  set.RequestedBodyType = ews.BodyType.Text;
  return set;
})();

/** Every EWS phone key, by canonical kind. */
export const PHONE_KEYS: Record<PhoneKind, ews.PhoneNumberKey> = {
  assistant: ews.PhoneNumberKey.AssistantPhone,
  businessFax: ews.PhoneNumberKey.BusinessFax,
  business: ews.PhoneNumberKey.BusinessPhone,
  business2: ews.PhoneNumberKey.BusinessPhone2,
  callback: ews.PhoneNumberKey.Callback,
  car: ews.PhoneNumberKey.CarPhone,
  companyMain: ews.PhoneNumberKey.CompanyMainPhone,
  homeFax: ews.PhoneNumberKey.HomeFax,
  home: ews.PhoneNumberKey.HomePhone,
  home2: ews.PhoneNumberKey.HomePhone2,
  isdn: ews.PhoneNumberKey.Isdn,
  mobile: ews.PhoneNumberKey.MobilePhone,
  otherFax: ews.PhoneNumberKey.OtherFax,
  other: ews.PhoneNumberKey.OtherTelephone,
  pager: ews.PhoneNumberKey.Pager,
  primary: ews.PhoneNumberKey.PrimaryPhone,
  radio: ews.PhoneNumberKey.RadioPhone,
  telex: ews.PhoneNumberKey.Telex,
  ttyTdd: ews.PhoneNumberKey.TtyTddPhone,
};

const ADDRESS_KEYS: Record<AddressKind, ews.PhysicalAddressKey> = {
  business: ews.PhysicalAddressKey.Business,
  home: ews.PhysicalAddressKey.Home,
  other: ews.PhysicalAddressKey.Other,
};

const EMAIL_KEYS = [ews.EmailAddressKey.EmailAddress1, ews.EmailAddressKey.EmailAddress2, ews.EmailAddressKey.EmailAddress3];
const ADDRESS_FIELDS = ['street', 'city', 'state', 'postalCode', 'countryOrRegion'] as const;
type EwsAddressField = 'Street' | 'City' | 'State' | 'PostalCode' | 'CountryOrRegion';
const EWS_ADDRESS_FIELD: Record<(typeof ADDRESS_FIELDS)[number], EwsAddressField> = {
  street: 'Street',
  city: 'City',
  state: 'State',
  postalCode: 'PostalCode',
  countryOrRegion: 'CountryOrRegion',
};

const clean = (s: string | null | undefined) => (s ?? '').trim() || undefined;

function tryGet<K, V>(dict: { TryGetValue(key: K, out: { outValue: V | null }): boolean } | undefined, key: K) {
  if (!dict) return undefined;
  const out: { outValue: V | null } = { outValue: null };
  try {
    return dict.TryGetValue(key, out) && out.outValue !== null ? out.outValue : undefined;
  } catch {
    return undefined;
  }
}

function addressOf(entry: ews.PhysicalAddressEntry | undefined): PostalAddress | undefined {
  if (!entry) return undefined;
  const out: PostalAddress = {};
  for (const field of ADDRESS_FIELDS) {
    const value = clean(entry[EWS_ADDRESS_FIELD[field]]);
    if (value !== undefined) out[field] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The YYYY-MM-DD of a SystemTime extended property, as the library hands it over (DateTime or text). */
function extendedDate(item: ews.Item, def: ews.ExtendedPropertyDefinition): string | undefined {
  const out: { outValue: unknown } = { outValue: undefined };
  try {
    if (!item.ExtendedProperties.TryGetValue(def, out)) return undefined;
  } catch {
    return undefined;
  }
  const v = out.outValue as { ToISOString?: () => string } | string | undefined;
  const text = typeof v === 'string' ? v : v?.ToISOString?.();
  const m = text ? /^(\d{4}-\d{2}-\d{2})/.exec(text) : null;
  return m ? m[1] : undefined;
}

/**
 * A birthday's date, when the contact has a Birthday. Exchange's Birthday is an instant (midnight
 * in the writer's zone), and one instant is midnight in two zones a day apart (11:00Z is midnight at UTC+13 and at UTC-11), so
 * the date comes from PidLidBirthdayLocal when Outlook wrote it; else from the instant in the
 * mailbox's zone when known; else the nearest UTC midnight (right for zones within +-12 h).
 */
function birthdayOf(c: ews.Contact, mailboxTimeZone: string | undefined): string | undefined {
  // no Birthday, no birthday: a client that clears it may leave PidLidBirthdayLocal behind (Graph
  // cannot remove an extended property), and the Graph mapper reads it the same way
  const d = loaded<ews.DateTime>(c, C.Birthday);
  if (!d) return undefined;
  const local = extendedDate(c, BIRTHDAY_LOCAL_PROPERTY);
  if (local) return local;
  const ms = Date.parse(d.ToISOString());
  if (Number.isNaN(ms)) return undefined;
  if (mailboxTimeZone) return toLocal(new Date(ms), mailboxTimeZone).date;
  return new Date(Math.round(ms / 86400000) * 86400000).toISOString().slice(0, 10);
}

/** True when the contact's birthday can only be dated with the mailbox's zone (no PidLidBirthdayLocal). */
export function needsMailboxTimeZone(c: ews.Contact): boolean {
  return loaded<ews.DateTime>(c, C.Birthday) !== undefined && extendedDate(c, BIRTHDAY_LOCAL_PROPERTY) === undefined;
}

/** The three slots as Exchange holds them (address and display name), by slot number. */
function loadedEmails(c: ews.Contact): Map<1 | 2 | 3, ContactEmail> {
  const out = new Map<1 | 2 | 3, ContactEmail>();
  const dict = loaded<ews.EmailAddressDictionary>(c, C.EmailAddresses);
  EMAIL_KEYS.forEach((key, i) => {
    const entry = tryGet<ews.EmailAddressKey, ews.EmailAddress>(dict, key);
    const address = clean(entry?.Address);
    if (address === undefined) return;
    const slot = (i + 1) as 1 | 2 | 3;
    const name = clean(entry?.Name);
    out.set(slot, name !== undefined && name.toLowerCase() !== address.toLowerCase() ? { address, name, slot } : { address, slot });
  });
  return out;
}

/**
 * The canonical form of a contact loaded with CONTACT_FETCH_PROPERTIES. `mailboxTimeZone` (IANA)
 * dates a birthday Outlook wrote without PidLidBirthdayLocal.
 */
export function toCanonicalContact(c: ews.Contact, mailboxTimeZone?: string): Contact {
  const out: Contact = { emails: [], phones: {}, addresses: {} };
  const strings: [keyof Contact, ews.PropertyDefinition][] = [
    ['givenName', C.GivenName],
    ['middleName', C.MiddleName],
    ['surname', C.Surname],
    ['displayName', C.DisplayName],
    ['companyName', C.CompanyName],
    ['jobTitle', C.JobTitle],
    ['department', C.Department],
  ];
  for (const [key, def] of strings) {
    const value = clean(loaded<string>(c, def));
    if (value !== undefined) (out as unknown as Record<string, string>)[key] = value;
  }
  if (out.displayName !== undefined && out.displayName === defaultDisplayName(out)) delete out.displayName;
  out.emails = [...loadedEmails(c).values()];
  const phones = loaded<ews.PhoneNumberDictionary>(c, C.PhoneNumbers);
  for (const [kind, key] of Object.entries(PHONE_KEYS) as [PhoneKind, ews.PhoneNumberKey][]) {
    const number = clean(tryGet<ews.PhoneNumberKey, string>(phones, key));
    if (number !== undefined) out.phones[kind] = number;
  }
  const addresses = loaded<ews.PhysicalAddressDictionary>(c, C.PhysicalAddresses);
  for (const [kind, key] of Object.entries(ADDRESS_KEYS) as [AddressKind, ews.PhysicalAddressKey][]) {
    const address = addressOf(tryGet<ews.PhysicalAddressKey, ews.PhysicalAddressEntry>(addresses, key));
    if (address) out.addresses[kind] = address;
  }
  const notes = clean(loaded<ews.MessageBody>(c, I.Body)?.Text);
  if (notes !== undefined) out.notes = notes;
  const birthday = birthdayOf(c, mailboxTimeZone);
  if (birthday) out.birthday = birthday;
  return out;
}

export class InvalidContactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidContactError';
  }
}

function validate(c: Contact): void {
  if (!Array.isArray(c.emails)) throw new InvalidContactError('emails must be an array');
  try {
    parseEmails(c.emails as EmailInput[]);
  } catch (e) {
    if (e instanceof InvalidEmailError) throw new InvalidContactError(`emails[${e.index}]: ${e.message}`);
    throw e;
  }
  for (const kind of Object.keys(c.phones ?? {})) {
    if (!(kind in PHONE_KEYS)) throw new InvalidContactError(`unknown phone kind ${JSON.stringify(kind)}`);
  }
  for (const kind of Object.keys(c.addresses ?? {})) {
    if (!(kind in ADDRESS_KEYS)) throw new InvalidContactError(`unknown address kind ${JSON.stringify(kind)}`);
  }
  if (c.birthday !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(c.birthday.trim().slice(0, 10))) {
    throw new InvalidContactError('birthday must be YYYY-MM-DD');
  }
}

function putString(target: ews.Contact, def: ews.PropertyDefinition, next: string | undefined): void {
  const current = target.IsNew ? undefined : clean(loaded<string>(target, def));
  const value = clean(next);
  if (value === current) return;
  propertyBag(target)._setItem(def, value === undefined ? null : xmlText(value));
}

/**
 * Writes `c` onto `target` (a new contact, or one loaded with CONTACT_FETCH_PROPERTIES); fields
 * `c` lacks are deleted on Exchange, and fields equal to what Exchange holds are not written.
 * `mailboxTimeZone` dates the stored birthday as toCanonicalContact does.
 */
export function applyContact(target: ews.Contact, c: Contact, mailboxTimeZone?: string): void {
  validate(c);
  const isNew = target.IsNew;
  putString(target, C.GivenName, c.givenName);
  putString(target, C.MiddleName, c.middleName);
  putString(target, C.Surname, c.surname);
  // written even when absent, so the server never derives one of its own (normalizeContact omits it)
  const displayName = clean(c.displayName) ?? defaultDisplayName(c);
  putString(target, C.DisplayName, displayName);
  // Outlook lists contacts by FileAs; keep it in step with the display name
  putString(target, C.FileAs, displayName);
  putString(target, C.CompanyName, c.companyName);
  putString(target, C.JobTitle, c.jobTitle);
  putString(target, C.Department, c.department);

  const current = isNew ? undefined : toCanonicalContact(target, mailboxTimeZone);

  // slot by slot: Outlook may leave EmailAddress1 empty and fill EmailAddress2, and each slot
  // keeps its display name; a slot whose address and name are unchanged is not written
  const wanted = new Map(normalizeEmails(c.emails).map((e) => [e.slot!, e]));
  const had = isNew ? new Map<1 | 2 | 3, ContactEmail>() : loadedEmails(target);
  EMAIL_KEYS.forEach((key, i) => {
    const slot = (i + 1) as 1 | 2 | 3;
    const next = wanted.get(slot);
    const before = had.get(slot);
    // mail systems compare addresses case-insensitively (so does the engine): case alone is no edit
    if (next?.address.toLowerCase() === before?.address.toLowerCase() && next?.name === before?.name) return;
    if (next === undefined) {
      target.EmailAddresses._setItem(key, null as unknown as ews.EmailAddress);
      return;
    }
    const address = new ews.EmailAddress(xmlText(next.address));
    if (next.name !== undefined) address.Name = xmlAttr(next.name);
    target.EmailAddresses._setItem(key, address);
  });

  for (const [kind, key] of Object.entries(PHONE_KEYS) as [PhoneKind, ews.PhoneNumberKey][]) {
    const next = clean(c.phones?.[kind]);
    const before = current?.phones[kind];
    if (next === before) continue;
    if (next === undefined) {
      if (before !== undefined) target.PhoneNumbers._setItem(key, null as unknown as string);
      continue;
    }
    target.PhoneNumbers._setItem(key, xmlText(next));
  }

  for (const [kind, key] of Object.entries(ADDRESS_KEYS) as [AddressKind, ews.PhysicalAddressKey][]) {
    const next = c.addresses?.[kind] ? cleanAddress(c.addresses[kind]!) : undefined;
    const before = current?.addresses[kind];
    if (JSON.stringify(next) === JSON.stringify(before)) continue;
    // null-then-entry marks the address changed (editing the loaded entry emits nothing)
    if (before !== undefined) target.PhysicalAddresses._setItem(key, null as unknown as ews.PhysicalAddressEntry);
    if (next !== undefined) {
      const entry = toEntry(next);
      const dropped = ADDRESS_FIELDS.filter((f) => before?.[f] !== undefined && next[f] === undefined);
      // The new entry only sets its own fields; the library deletes the fields listed in its
      // bag's RemovedItems, so list there the ones this change drops.
      const removed = (entry as unknown as { propertyBag: { RemovedItems: string[] } }).propertyBag.RemovedItems;
      for (const f of dropped) removed.push(EWS_ADDRESS_FIELD[f]);
      target.PhysicalAddresses._setItem(key, entry);
    }
  }

  const notes = clean(c.notes);
  if (notes !== current?.notes || isNew) {
    if (notes !== undefined) target.Body = new ews.MessageBody(ews.BodyType.Text, xmlText(notes));
    else if (!isNew) propertyBag(target)._setItem(I.Body, null);
  }

  const birthday = c.birthday ? c.birthday.trim().slice(0, 10) : undefined;
  if (birthday !== current?.birthday) {
    if (birthday !== undefined) {
      // both, as Outlook does: the instant (UTC midnight: exsync does not know the mailbox's
      // zone) and the local date readers should prefer
      target.Birthday = ews.DateTime.Parse(`${birthday}T00:00:00Z`, ews.DateTimeKind.Utc);
      target.SetExtendedProperty(BIRTHDAY_LOCAL_PROPERTY, ews.DateTime.Parse(`${birthday}T00:00:00Z`, ews.DateTimeKind.Utc));
    } else if (!isNew) {
      propertyBag(target)._setItem(C.Birthday, null);
      if (extendedDate(target, BIRTHDAY_LOCAL_PROPERTY)) target.RemoveExtendedProperty(BIRTHDAY_LOCAL_PROPERTY);
    }
  }
}

function cleanAddress(a: PostalAddress): PostalAddress | undefined {
  const out: PostalAddress = {};
  for (const field of ADDRESS_FIELDS) {
    const value = clean(a[field]);
    if (value !== undefined) out[field] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function toEntry(a: PostalAddress): ews.PhysicalAddressEntry {
  const entry = new ews.PhysicalAddressEntry();
  for (const field of ADDRESS_FIELDS) {
    const value = clean(a[field]);
    if (value !== undefined) entry[EWS_ADDRESS_FIELD[field]] = xmlText(value);
  }
  return entry;
}
