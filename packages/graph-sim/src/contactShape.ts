import { child, displayName, el, textEl, type El, type ItemRef, type Mailbox } from '@exsync/ews-sim';
import { graphTimestamp } from './dateTimes';
import { errors } from './errors';
import { changeKeyOf, outputId, restId, type IdType } from './ids';

/**
 * Graph's `contact` (learn.microsoft.com/graph/api/resources/contact, v1.0) over the shared store's
 * contact elements, both ways: emailAddresses <-> EmailAddresses EmailAddress1..3, businessPhones <->
 * BusinessPhone/BusinessPhone2, homePhones <-> HomePhone/HomePhone2, mobilePhone <-> MobilePhone,
 * home/business/otherAddress <-> PhysicalAddresses Home/Business/Other, personalNotes <-> Body.
 */
export const CONTACT_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'parentFolderId',
  'birthday',
  'fileAs',
  'displayName',
  'givenName',
  'initials',
  'middleName',
  'nickName',
  'surname',
  'title',
  'generation',
  'emailAddresses',
  'imAddresses',
  'jobTitle',
  'companyName',
  'department',
  'officeLocation',
  'profession',
  'businessHomePage',
  'assistantName',
  'manager',
  'homePhones',
  'mobilePhone',
  'businessPhones',
  'homeAddress',
  'businessAddress',
  'otherAddress',
  'spouseName',
  'personalNotes',
  'children',
] as const;

const SIMPLE: [string, string][] = [
  ['givenName', 'GivenName'],
  ['middleName', 'MiddleName'],
  ['surname', 'Surname'],
  ['nickName', 'Nickname'],
  ['initials', 'Initials'],
  ['title', 'Title'],
  ['generation', 'Generation'],
  ['jobTitle', 'JobTitle'],
  ['companyName', 'CompanyName'],
  ['department', 'Department'],
  ['officeLocation', 'OfficeLocation'],
  ['profession', 'Profession'],
  ['businessHomePage', 'BusinessHomePage'],
  ['assistantName', 'AssistantName'],
  ['manager', 'Manager'],
  ['spouseName', 'SpouseName'],
  ['fileAs', 'FileAs'],
  ['displayName', 'DisplayName'],
];
const ADDRESS_KEYS: [string, string][] = [
  ['homeAddress', 'Home'],
  ['businessAddress', 'Business'],
  ['otherAddress', 'Other'],
];
const ADDRESS_PARTS: [string, string][] = [
  ['street', 'Street'],
  ['city', 'City'],
  ['state', 'State'],
  ['countryOrRegion', 'CountryOrRegion'],
  ['postalCode', 'PostalCode'],
];

function entries(f: El | undefined): Map<string, El> {
  return new Map((f?.children ?? []).map((c) => [c.attrs.Key ?? '', c]));
}

export function renderContact(mb: Mailbox, ref: ItemRef, idType: IdType): Record<string, unknown> {
  const item = ref.item;
  const f = item.fields;
  const t = (name: string) => f.get(name)?.text;
  const emails = entries(f.get('EmailAddresses'));
  const phones = entries(f.get('PhoneNumbers'));
  const addresses = entries(f.get('PhysicalAddresses'));
  const ims = entries(f.get('ImAddresses'));
  const folder = mb.folders.get(item.folderId);
  const json: Record<string, unknown> = {
    '@odata.etag': `W/"${changeKeyOf(ref)}"`,
    id: outputId(mb, ref, idType),
    createdDateTime: graphTimestamp(item.created),
    lastModifiedDateTime: graphTimestamp(item.modified),
    changeKey: changeKeyOf(ref),
    categories: (f.get('Categories')?.children ?? []).map((c) => c.text),
    parentFolderId: folder ? restId(folder.id) : null,
    birthday: t('Birthday') ? new Date(Date.parse(t('Birthday')!)).toISOString().replace('.000Z', 'Z') : null,
  };
  for (const [g, e] of SIMPLE) json[g] = t(e) ?? null;
  json.displayName = displayName(item);
  json.fileAs = t('FileAs') ?? '';
  json.emailAddresses = ['EmailAddress1', 'EmailAddress2', 'EmailAddress3']
    .map((k) => emails.get(k))
    .filter((e): e is El => !!e && !!e.text)
    .map((e) => ({ name: e.attrs.Name ?? e.text, address: e.text }));
  json.imAddresses = ['ImAddress1', 'ImAddress2', 'ImAddress3'].map((k) => ims.get(k)?.text).filter(Boolean);
  json.businessPhones = ['BusinessPhone', 'BusinessPhone2'].map((k) => phones.get(k)?.text).filter(Boolean);
  json.homePhones = ['HomePhone', 'HomePhone2'].map((k) => phones.get(k)?.text).filter(Boolean);
  json.mobilePhone = phones.get('MobilePhone')?.text ?? null;
  for (const [g, key] of ADDRESS_KEYS) {
    const a = addresses.get(key);
    json[g] = Object.fromEntries(ADDRESS_PARTS.filter(([, e]) => child(a, e)).map(([p, e]) => [p, child(a, e)!.text]));
  }
  json.personalNotes = t('Body') ?? '';
  json.children = (f.get('Children')?.children ?? []).map((c) => c.text);
  return json;
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw errors.badRequest(`Cannot convert a value of '${name}' to 'Edm.String'.`);
  return v;
}

function strings(v: unknown, name: string, max: number): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw errors.badRequest(`${name} must be a collection of strings.`);
  if (v.length > max) throw errors.badRequest(`${name} holds at most ${max} values.`);
  return v as string[];
}

/** Replaces the entries of an indexed field whose keys are in `keys` with the given values (in order). */
function setEntries(fields: Map<string, El>, name: string, keys: string[], values: (El | undefined)[]): void {
  const kept = (fields.get(name)?.children ?? []).filter((c) => !keys.includes(c.attrs.Key ?? ''));
  const added: El[] = [];
  values.forEach((v, i) => {
    if (v) added.push({ ...v, attrs: { ...v.attrs, Key: keys[i] } });
  });
  const all = [...kept, ...added];
  if (all.length > 0) fields.set(name, el(name, {}, all));
  else fields.delete(name);
}

/** Applies a contact body (POST or PATCH) to a copy of the fields. Unknown properties answer 400. */
export function readContactBody(body: unknown, current: Map<string, El>): { fields: Map<string, El>; extended?: unknown } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const fields = new Map(current);
  let extended: unknown;
  const simple = new Map(SIMPLE);
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k.startsWith('@odata.') || ['id', 'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'parentFolderId'].includes(k)) continue;
    const e = simple.get(k);
    if (e) {
      if (v === null || v === '') fields.delete(e);
      else fields.set(e, textEl(e, str(v, k)));
      continue;
    }
    switch (k) {
      case 'emailAddresses': {
        if (!Array.isArray(v) || v.length > 3) throw errors.badRequest('emailAddresses holds at most 3 addresses.');
        const list = v.map((x) => {
          const a = x as { address?: unknown; name?: unknown };
          const address = str(a?.address, 'emailAddresses.address');
          return textEl('Entry', address, typeof a.name === 'string' ? { Name: a.name } : {});
        });
        setEntries(
          fields,
          'EmailAddresses',
          ['EmailAddress1', 'EmailAddress2', 'EmailAddress3'],
          [0, 1, 2].map((i) => list[i]),
        );
        break;
      }
      case 'imAddresses': {
        const list = strings(v, k, 3).map((s) => textEl('Entry', s));
        setEntries(
          fields,
          'ImAddresses',
          ['ImAddress1', 'ImAddress2', 'ImAddress3'],
          [0, 1, 2].map((i) => list[i]),
        );
        break;
      }
      case 'businessPhones':
      case 'homePhones': {
        const keys = k === 'businessPhones' ? ['BusinessPhone', 'BusinessPhone2'] : ['HomePhone', 'HomePhone2'];
        const list = strings(v, k, 2).map((s) => textEl('Entry', s));
        setEntries(fields, 'PhoneNumbers', keys, [list[0], list[1]]);
        break;
      }
      case 'mobilePhone':
        setEntries(fields, 'PhoneNumbers', ['MobilePhone'], [v === null || v === '' ? undefined : textEl('Entry', str(v, k))]);
        break;
      case 'homeAddress':
      case 'businessAddress':
      case 'otherAddress': {
        const key = ADDRESS_KEYS.find(([g]) => g === k)![1];
        const a = (v ?? {}) as Record<string, unknown>;
        for (const p of Object.keys(a)) if (!ADDRESS_PARTS.some(([n]) => n === p)) throw errors.unknownProperty(p, 'physicalAddress');
        const parts = ADDRESS_PARTS.filter(([p]) => typeof a[p] === 'string' && a[p] !== '').map(([p, en]) => textEl(en, a[p] as string));
        setEntries(fields, 'PhysicalAddresses', [key], [parts.length ? el('Entry', {}, parts) : undefined]);
        break;
      }
      case 'birthday': {
        if (v === null) fields.delete('Birthday');
        else {
          const ms = Date.parse(str(v, k));
          if (Number.isNaN(ms)) throw errors.badRequest(`Cannot convert the literal '${String(v)}' to the expected type 'Edm.DateTimeOffset'.`);
          fields.set('Birthday', textEl('Birthday', new Date(ms).toISOString().slice(0, 19) + 'Z'));
        }
        break;
      }
      case 'personalNotes':
        fields.set('Body', textEl('Body', v === null ? '' : str(v, k), { BodyType: 'Text' }));
        break;
      case 'categories':
        fields.set(
          'Categories',
          el(
            'Categories',
            {},
            strings(v, k, 1000).map((c) => textEl('String', c)),
          ),
        );
        break;
      case 'children':
        fields.set(
          'Children',
          el(
            'Children',
            {},
            strings(v, k, 1000).map((c) => textEl('String', c)),
          ),
        );
        break;
      case 'singleValueExtendedProperties':
        extended = v;
        break;
      default:
        throw errors.unknownProperty(k, 'contact');
    }
  }
  return { fields, extended };
}
