/**
 * Canonical Contact <-> EWS Contact. Indexed fields (EmailAddress1..3, phones, physical addresses)
 * go through the library's dictionaries: setting a key to null deletes it, and a changed physical
 * address is written as null-then-entry in the same update (EWS-NOTES "Contacts").
 */
import * as ews from 'ews-javascript-api';
import { defaultDisplayName, type AddressKind, type Contact, type PhoneKind, type PostalAddress } from '@exsync/canonical';
import { EXSYNC_LINK_ID_PROPERTY } from '../exsyncTag';
import { loaded, propertyBag } from './propertyAccess';
import { xmlText } from './xmlText';

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

/**
 * Exchange stores a birthday as an instant: midnight in the writer's zone or UTC. The nearest UTC
 * midnight is the intended day for any zone within +-12 hours.
 */
function birthdayOf(d: ews.DateTime | undefined): string | undefined {
  if (!d) return undefined;
  const ms = Date.parse(d.ToISOString());
  if (Number.isNaN(ms)) return undefined;
  return new Date(Math.round(ms / 86400000) * 86400000).toISOString().slice(0, 10);
}

export function toCanonicalContact(c: ews.Contact): Contact {
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
  const emails = loaded<ews.EmailAddressDictionary>(c, C.EmailAddresses);
  for (const key of EMAIL_KEYS) {
    const address = clean(tryGet<ews.EmailAddressKey, ews.EmailAddress>(emails, key)?.Address);
    if (address !== undefined) out.emails.push(address);
  }
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
  const birthday = birthdayOf(loaded<ews.DateTime>(c, C.Birthday));
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
  if (c.emails.filter((e) => e.trim() !== '').length > 3) throw new InvalidContactError('at most three emails');
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
 * `c` lacks are deleted on Exchange.
 */
export function applyContact(target: ews.Contact, c: Contact): void {
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

  const current = isNew ? undefined : toCanonicalContact(target);

  const emails = c.emails.map((e) => e.trim()).filter((e) => e !== '');
  // compare slot by slot: Outlook may leave EmailAddress1 empty and fill EmailAddress2
  const loadedEmails = isNew ? undefined : loaded<ews.EmailAddressDictionary>(target, C.EmailAddresses);
  EMAIL_KEYS.forEach((key, i) => {
    const next = emails[i];
    const before = clean(tryGet<ews.EmailAddressKey, ews.EmailAddress>(loadedEmails, key)?.Address);
    if (next === before) return;
    if (next === undefined) {
      if (before !== undefined) target.EmailAddresses._setItem(key, null as unknown as ews.EmailAddress);
      return;
    }
    target.EmailAddresses._setItem(key, new ews.EmailAddress(xmlText(next)));
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
      target.Birthday = ews.DateTime.Parse(`${birthday}T00:00:00Z`, ews.DateTimeKind.Utc);
    } else if (!isNew) {
      propertyBag(target)._setItem(C.Birthday, null);
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
