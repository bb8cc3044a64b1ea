import {
  BIRTHDAY_LOCAL_GRAPH_ID,
  CONTACT_MAPI_GRAPH_IDS,
  EMAIL_SLOT_GRAPH_IDS,
  EXSYNC_LINK_ID_GRAPH_PROPERTY_ID,
  PHONE_GRAPH_IDS,
  defaultDisplayName,
  normalizeEmails,
  type AddressKind,
  type Contact,
  type ContactEmail,
  type PhoneKind,
  type PostalAddress,
} from '@exsync/canonical';
import { extendedValue, isObject, type Json } from './wireShapes';

/**
 * Canonical Contact <-> Graph v1.0 `contact` (learn.microsoft.com/graph/api/resources/contact).
 * v1.0's standard properties hold names, three postal addresses, emails without their slot, two
 * business and two home phones and one mobile, and the birthday as an instant. What they cannot
 * hold travels as the MAPI properties EWS reads and writes (issue 16 point 6; ids in
 * @exsync/canonical mapiProperties.ts), so a contact reads the same over either transport:
 * - every phone kind: its PidTag*Number property (written for all 19 kinds, '' when absent);
 * - email slots: PidLidEmail{1,2,3}EmailAddress and DisplayName (a gap stays a gap);
 * - the birthday's local date: PidLidBirthdayLocal, beside the `birthday` instant.
 * Read with `$expand=singleValueExtendedProperties($filter=...)` (CONTACT_EXPAND).
 */

/** The `$select` of the contacts delta and of contact reads. */
export const CONTACT_SELECT = [
  'id',
  'changeKey',
  'lastModifiedDateTime',
  'givenName',
  'middleName',
  'surname',
  'displayName',
  'companyName',
  'jobTitle',
  'department',
  'emailAddresses',
  'businessPhones',
  'homePhones',
  'mobilePhone',
  'homeAddress',
  'businessAddress',
  'otherAddress',
  'personalNotes',
  'birthday',
].join(',');

/** `$expand` of the link tag and every MAPI property the mapper reads. */
export const CONTACT_EXPAND = expandOf([EXSYNC_LINK_ID_GRAPH_PROPERTY_ID, ...CONTACT_MAPI_GRAPH_IDS]);

/** `singleValueExtendedProperties($filter=id eq 'a' or id eq 'b' ...)` for a set of ids. */
export function expandOf(ids: readonly string[]): string {
  return `singleValueExtendedProperties($filter=${ids.map((id) => `id eq '${id}'`).join(' or ')})`;
}

const ADDRESS_FIELDS: Record<AddressKind, string> = { business: 'businessAddress', home: 'homeAddress', other: 'otherAddress' };
const ADDRESS_PARTS: (keyof PostalAddress)[] = ['street', 'city', 'state', 'postalCode', 'countryOrRegion'];

function clean(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(clean).filter((s): s is string => s !== undefined) : [];
}

/** A Graph contact as canonical (the display name omitted when it is the default one, as over EWS). */
export function toCanonicalContact(c: Json): Contact {
  const out: Contact = { emails: [], phones: {}, addresses: {} };
  for (const key of ['givenName', 'middleName', 'surname', 'displayName', 'companyName', 'jobTitle', 'department'] as const) {
    const v = clean(c[key]);
    if (v !== undefined) out[key] = v;
  }
  if (out.displayName !== undefined && out.displayName === defaultDisplayName(out)) delete out.displayName;
  out.emails = emailsOf(c);
  out.phones = phonesOf(c);
  for (const [kind, field] of Object.entries(ADDRESS_FIELDS) as [AddressKind, string][]) {
    const a = c[field];
    if (!isObject(a)) continue;
    const address: PostalAddress = {};
    for (const part of ADDRESS_PARTS) {
      const v = clean(a[part]);
      if (v !== undefined) address[part] = v;
    }
    if (Object.keys(address).length > 0) out.addresses[kind] = address;
  }
  const notes = clean(c.personalNotes);
  if (notes !== undefined) out.notes = notes;
  const birthday = birthdayOf(c);
  if (birthday !== undefined) out.birthday = birthday;
  return out;
}

function emailEntry(address: string, name: string | undefined, slot: 1 | 2 | 3): ContactEmail {
  // a display name equal to the address is none, as the EWS mapper reads it
  return name !== undefined && name.toLowerCase() !== address.toLowerCase() ? { address, name, slot } : { address, slot };
}

/**
 * The filled slots: from the slot properties when the item has any (a slot left empty stays
 * empty), else from `emailAddresses` in order (a server that did not expand them).
 */
function emailsOf(c: Json): ContactEmail[] {
  const out: ContactEmail[] = [];
  const slots = [1, 2, 3] as const;
  if (slots.some((s) => extendedValue(c, EMAIL_SLOT_GRAPH_IDS[s].address) !== undefined)) {
    for (const slot of slots) {
      const address = clean(extendedValue(c, EMAIL_SLOT_GRAPH_IDS[slot].address));
      if (address !== undefined) out.push(emailEntry(address, clean(extendedValue(c, EMAIL_SLOT_GRAPH_IDS[slot].name)), slot));
    }
    return out;
  }
  if (!Array.isArray(c.emailAddresses)) return out;
  for (const e of c.emailAddresses.slice(0, 3)) {
    const address = isObject(e) ? clean(e.address) : undefined;
    if (address !== undefined) out.push(emailEntry(address, isObject(e) ? clean(e.name) : undefined, (out.length + 1) as 1 | 2 | 3));
  }
  return out;
}

/**
 * Every phone kind from its MAPI property when the item has any (the standard lists close gaps:
 * a lone BusinessPhone2 shows as businessPhones[0]); else from the standard properties (a server
 * that did not expand them).
 */
function phonesOf(c: Json): Contact['phones'] {
  const out: Contact['phones'] = {};
  const kinds = Object.entries(PHONE_GRAPH_IDS) as [PhoneKind, string][];
  if (kinds.some(([, id]) => extendedValue(c, id) !== undefined)) {
    for (const [kind, id] of kinds) {
      const number = clean(extendedValue(c, id));
      if (number !== undefined) out[kind] = number;
    }
    return out;
  }
  const [business, business2] = strings(c.businessPhones);
  const [home, home2] = strings(c.homePhones);
  const standard: [PhoneKind, string | undefined][] = [
    ['business', business],
    ['business2', business2],
    ['home', home],
    ['home2', home2],
    ['mobile', clean(c.mobilePhone)],
  ];
  for (const [kind, number] of standard) if (number !== undefined) out[kind] = number;
  return out;
}

/**
 * The birthday's date: PidLidBirthdayLocal when the contact has a birthday at all (Outlook writes
 * both; the instant is midnight in the writer's zone, so its UTC date may be a day off near the
 * date line), else the instant's nearest UTC midnight, the rule the EWS mapper applies without a
 * mailbox zone (right for zones within +-12 h).
 */
function birthdayOf(c: Json): string | undefined {
  if (typeof c.birthday !== 'string') return undefined;
  const ms = Date.parse(c.birthday);
  if (Number.isNaN(ms)) return undefined;
  const local = extendedValue(c, BIRTHDAY_LOCAL_GRAPH_ID);
  const m = local ? /^(\d{4}-\d{2}-\d{2})/.exec(local) : null;
  if (m) return m[1];
  return new Date(Math.round(ms / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The writable Graph body of a contact (every synced field, cleared ones as empty). Phones and
 * email slots go only as their MAPI properties (one source for each stored value); the birthday
 * goes as the instant and as PidLidBirthdayLocal, as the EWS mapper writes it.
 */
export function toGraphContact(c: Contact): Json {
  const birthday = c.birthday?.trim().slice(0, 10) || undefined;
  const out: Json = {
    givenName: c.givenName ?? '',
    middleName: c.middleName ?? '',
    surname: c.surname ?? '',
    displayName: c.displayName ?? defaultDisplayName(c) ?? '',
    companyName: c.companyName ?? '',
    jobTitle: c.jobTitle ?? '',
    department: c.department ?? '',
    personalNotes: c.notes ?? '',
    // a local date: midnight UTC carries the day unchanged (GRAPH-NOTES "Contacts": a timestamp)
    birthday: birthday ? `${birthday}T00:00:00Z` : null,
  };
  for (const [kind, field] of Object.entries(ADDRESS_FIELDS) as [AddressKind, string][]) {
    const a = c.addresses[kind] ?? {};
    out[field] = Object.fromEntries(ADDRESS_PARTS.map((p) => [p, a[p] ?? '']));
  }
  const bySlot = new Map(normalizeEmails(c.emails).map((e) => [e.slot!, e]));
  const props: { id: string; value: string }[] = [];
  for (const slot of [1, 2, 3] as const) {
    const e = bySlot.get(slot);
    props.push({ id: EMAIL_SLOT_GRAPH_IDS[slot].address, value: e?.address ?? '' }, { id: EMAIL_SLOT_GRAPH_IDS[slot].name, value: e?.name ?? '' });
  }
  for (const [kind, id] of Object.entries(PHONE_GRAPH_IDS) as [PhoneKind, string][]) props.push({ id, value: clean(c.phones[kind]) ?? '' });
  if (birthday) props.push({ id: BIRTHDAY_LOCAL_GRAPH_ID, value: `${birthday}T00:00:00Z` });
  out.singleValueExtendedProperties = props;
  return out;
}
