import { defaultDisplayName, type AddressKind, type Contact, type PhoneKind, type PostalAddress } from '@exsync/canonical';
import { isObject, type Json } from './wireShapes';

/**
 * Canonical Contact <-> Graph v1.0 `contact` (learn.microsoft.com/graph/api/resources/contact).
 * v1.0 holds three email slots, two business and two home phones, one mobile and three postal
 * addresses; the other phone kinds need MAPI extended properties (issue 16 point 6, a later slice):
 * they are neither read nor written here.
 */

/** The `$select` of the contacts delta and of contact reads. */
export const CONTACT_SELECT = [
  'id', 'changeKey', 'lastModifiedDateTime', 'givenName', 'middleName', 'surname', 'displayName', 'companyName', 'jobTitle',
  'department', 'emailAddresses', 'businessPhones', 'homePhones', 'mobilePhone', 'homeAddress', 'businessAddress',
  'otherAddress', 'personalNotes', 'birthday',
].join(',');

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
  if (Array.isArray(c.emailAddresses)) {
    // Graph v1.0 lists the filled slots in order (no gaps); a display name equal to the address is
    // none, as the EWS mapper reads it.
    for (const e of c.emailAddresses.slice(0, 3)) {
      const address = isObject(e) ? clean(e.address) : undefined;
      if (address === undefined) continue;
      const name = isObject(e) ? clean(e.name) : undefined;
      const slot = (out.emails.length + 1) as 1 | 2 | 3;
      out.emails.push(name !== undefined && name.toLowerCase() !== address.toLowerCase() ? { address, name, slot } : { address, slot });
    }
  }
  const [business, business2] = strings(c.businessPhones);
  const [home, home2] = strings(c.homePhones);
  const phones: [PhoneKind, string | undefined][] = [['business', business], ['business2', business2], ['home', home], ['home2', home2], ['mobile', clean(c.mobilePhone)]];
  for (const [kind, number] of phones) if (number !== undefined) out.phones[kind] = number;
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
  if (typeof c.birthday === 'string' && /^\d{4}-\d{2}-\d{2}/.test(c.birthday)) out.birthday = c.birthday.slice(0, 10);
  return out;
}

/** The writable Graph body of a contact (every synced field, cleared ones as empty). */
export function toGraphContact(c: Contact): Json {
  const phone = (k: PhoneKind) => c.phones[k];
  const out: Json = {
    givenName: c.givenName ?? '',
    middleName: c.middleName ?? '',
    surname: c.surname ?? '',
    displayName: c.displayName ?? defaultDisplayName(c) ?? '',
    companyName: c.companyName ?? '',
    jobTitle: c.jobTitle ?? '',
    department: c.department ?? '',
    emailAddresses: [...c.emails].sort((x, y) => (x.slot ?? 4) - (y.slot ?? 4)).slice(0, 3).map((e) => ({ address: e.address, name: e.name ?? e.address })),
    businessPhones: [phone('business'), phone('business2')].filter((p): p is string => !!p),
    homePhones: [phone('home'), phone('home2')].filter((p): p is string => !!p),
    mobilePhone: phone('mobile') ?? '',
    personalNotes: c.notes ?? '',
    // a local date: midnight UTC carries the day unchanged (GRAPH-NOTES "Contacts": a timestamp)
    birthday: c.birthday ? `${c.birthday}T00:00:00Z` : null,
  };
  for (const [kind, field] of Object.entries(ADDRESS_FIELDS) as [AddressKind, string][]) {
    const a = c.addresses[kind] ?? {};
    out[field] = Object.fromEntries(ADDRESS_PARTS.map((p) => [p, a[p] ?? '']));
  }
  return out;
}
