import { seededRandom } from './seededRandom';
import { newChangeKey, occurrenceId } from './ids';
import { displayName, isoUtc, occurrenceByIndex, seriesOccurrences } from './itemView';
import { ItemWriteError, normalizeDateTime, snapAllDay } from './itemWrite';
import { DAY_NAMES, formatXsDate, parseRecurrence, type Recurrence } from './recurrence';
import { extendedPropertyKey, MailboxStore, StoreError, type ItemKind, type Mailbox, type StoredItem } from './store';
import { knownTimeZone, UTC_ZONE, type TimeZoneDef } from './timeZones';
import { cloneEl, el, textEl, type El } from './xml';

/**
 * JSON shapes of the control API (and of `sim.store` in-process). Times are ISO 8601 with an offset.
 */
export interface ExtendedPropertyJson {
  propertySetId: string;
  propertyName: string;
  propertyType?: string;
  /** null (in an edit): remove the property */
  value: string | null;
}

export interface RecurrenceJson {
  pattern: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
  interval?: number;
  daysOfWeek?: string[];
  firstDayOfWeek?: string;
  dayOfMonth?: number;
  month?: string;
  index?: 'First' | 'Second' | 'Third' | 'Fourth' | 'Last';
  startDate?: string;
  endDate?: string;
  numberOfOccurrences?: number;
}

export interface AppointmentJson {
  subject?: string;
  start?: string;
  end?: string;
  body?: string;
  bodyType?: 'Text' | 'HTML';
  location?: string;
  isAllDay?: boolean;
  /** Windows time zone id of the series (default UTC). */
  timeZone?: string;
  /**
   * A zone given by its rules instead of an id, as Outlook sends a "Customized Time Zone": biases in
   * minutes with the Windows sign (UTC = local + bias). Wins over `timeZone`.
   */
  timeZoneDefinition?: TimeZoneDefinitionJson;
  attendees?: string[];
  recurrence?: RecurrenceJson | null;
  extendedProperties?: ExtendedPropertyJson[];
}

export interface TimeZoneRuleJson {
  month: number;
  /** 0 = Sunday */
  dayOfWeek: number;
  /** 1..4, -1 = last */
  occurrence: number;
  /** local wall time of the switch, minutes after midnight */
  timeOffsetMinutes: number;
}

export interface TimeZoneDefinitionJson {
  id?: string;
  name?: string;
  standardBias: number;
  daylight?: { bias: number; start: TimeZoneRuleJson; end: TimeZoneRuleJson };
}

/** One email slot: a plain address, or an address with its display name and slot (1..3). */
export type ContactEmailJson = string | { address: string; name?: string; slot?: number };

export interface ContactAddressJson {
  street?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  countryOrRegion?: string;
}

export interface ContactJson {
  givenName?: string;
  surname?: string;
  displayName?: string;
  companyName?: string;
  jobTitle?: string;
  /**
   * Up to three addresses: EmailAddress1..3 in order, or in the slot each names (slots left out
   * stay empty, as when a person fills only "E-mail 2" in Outlook).
   */
  emails?: ContactEmailJson[];
  /** Phone numbers by EWS key (BusinessPhone, MobilePhone, HomePhone, ...), or a list (business, mobile, home). */
  phones?: Record<string, string> | string[];
  /** Postal addresses by EWS key (Business, Home, Other). */
  addresses?: Record<string, ContactAddressJson>;
  /**
   * The birthday as Outlook stores it: `birthday` is the instant of local midnight (ISO with an
   * offset, e.g. `1980-01-18T00:00:00+13:00`); `birthdayLocal` (YYYY-MM-DD) is also written to
   * PidLidBirthdayLocal, as Outlook does. `null` removes both.
   */
  birthday?: string | null;
  birthdayLocal?: string;
  body?: string;
  bodyType?: 'Text' | 'HTML';
  extendedProperties?: ExtendedPropertyJson[];
}

export interface ItemJson {
  id: string;
  changeKey: string;
  kind: ItemKind;
  uid?: string;
  lastModifiedTime: string;
  fields: Record<string, unknown>;
  extendedProperties: ExtendedPropertyJson[];
  recurrence?: Recurrence & { timeZone: string };
  exceptions?: { id: string; changeKey: string; originalStart: string; fields: Record<string, unknown> }[];
  deletedOccurrences?: string[];
}

/** What `readStored` answers. */
export interface StoredItemJson {
  id: string;
  changeKey: string;
  kind: ItemKind;
  fields: Record<string, El>;
  extended: El[];
  startTimeZone: TimeZoneDef;
  endTimeZone: TimeZoneDef;
}

/** PidLidBirthdayLocal ([MS-OXPROPS] 2.51): PSETID_Address, id 0x80DE, the birthday's local date. */
export const PID_LID_BIRTHDAY_LOCAL = 0x80de;

const EMAIL_KEYS = ['EmailAddress1', 'EmailAddress2', 'EmailAddress3'];
const ADDRESS_PARTS: [keyof ContactAddressJson, string][] = [
  ['street', 'Street'],
  ['city', 'City'],
  ['state', 'State'],
  ['countryOrRegion', 'CountryOrRegion'],
  ['postalCode', 'PostalCode'],
];

function emailsEl(list: ContactEmailJson[]): El {
  if (!Array.isArray(list) || list.length > 3) throw new InputError('emails must be a list of at most three addresses');
  const bySlot = new Map<number, El>();
  list.forEach((entry, i) => {
    const e = typeof entry === 'string' ? { address: entry } : entry;
    if (!e || typeof e !== 'object') throw new InputError('emails[] must be strings or {address, name?, slot?}');
    const slot = e.slot ?? i + 1;
    if (![1, 2, 3].includes(slot) || bySlot.has(slot)) throw new InputError('emails[].slot must be 1, 2 or 3, each at most once');
    const attrs: Record<string, string> = { Key: EMAIL_KEYS[slot - 1] };
    if (e.name !== undefined) attrs.Name = str(e.name, 'emails[].name');
    bySlot.set(slot, textEl('Entry', str(e.address, 'emails[].address'), attrs));
  });
  return el(
    'EmailAddresses',
    {},
    [...bySlot.keys()].sort().map((k) => bySlot.get(k)!),
  );
}

function addressesEl(map: Record<string, ContactAddressJson>): El {
  if (!map || typeof map !== 'object') throw new InputError('addresses must be an object keyed by Business, Home or Other');
  return el(
    'PhysicalAddresses',
    {},
    Object.entries(map).map(([key, a]) => {
      if (!['Business', 'Home', 'Other'].includes(key)) throw new InputError(`unknown address key ${key}`);
      return el(
        'Entry',
        { Key: key },
        ADDRESS_PARTS.filter(([k]) => a[k] !== undefined).map(([k, name]) => textEl(name, str(a[k], `addresses.${key}.${k}`))),
      );
    }),
  );
}

function zoneFromJson(d: TimeZoneDefinitionJson): TimeZoneDef {
  if (!d || typeof d !== 'object' || typeof d.standardBias !== 'number') throw new InputError('timeZoneDefinition needs a numeric standardBias');
  const rule = (r: TimeZoneRuleJson, what: string) => {
    if (!r || ![r.month, r.dayOfWeek, r.occurrence, r.timeOffsetMinutes].every((n) => Number.isInteger(n)))
      throw new InputError(`timeZoneDefinition.daylight.${what} needs integer month, dayOfWeek, occurrence and timeOffsetMinutes`);
    return { month: r.month, dayOfWeek: r.dayOfWeek, occurrence: r.occurrence, timeOffsetMinutes: r.timeOffsetMinutes };
  };
  const id = d.id ?? 'Customized Time Zone';
  return {
    id,
    name: d.name ?? id,
    standardBias: d.standardBias,
    daylight: d.daylight ? { bias: d.daylight.bias, start: rule(d.daylight.start, 'start'), end: rule(d.daylight.end, 'end') } : undefined,
  };
}

const PHONE_KEYS = ['BusinessPhone', 'MobilePhone', 'HomePhone', 'BusinessPhone2', 'HomePhone2', 'OtherTelephone'];
const PHONE_KEY_SET = new Set([
  'AssistantPhone',
  'BusinessFax',
  'BusinessPhone',
  'BusinessPhone2',
  'Callback',
  'CarPhone',
  'CompanyMainPhone',
  'HomeFax',
  'HomePhone',
  'HomePhone2',
  'Isdn',
  'MobilePhone',
  'OtherFax',
  'OtherTelephone',
  'Pager',
  'PrimaryPhone',
  'RadioPhone',
  'Telex',
  'TtyTddPhone',
]);

export class InputError extends Error {}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new InputError(`${what} must be a string`);
  return v;
}

function isoInput(v: unknown, what: string, tz: TimeZoneDef): string {
  const s = str(v, what);
  try {
    return normalizeDateTime(s, tz);
  } catch (e) {
    if (e instanceof ItemWriteError) throw new InputError(`${what} must be an ISO 8601 date-time`);
    throw e;
  }
}

function extendedEl(p: ExtendedPropertyJson): El {
  if (!p || typeof p !== 'object') throw new InputError('extendedProperties entries must be objects');
  const uri = el('ExtendedFieldURI', {
    PropertySetId: str(p.propertySetId, 'propertySetId').toLowerCase(),
    PropertyName: str(p.propertyName, 'propertyName'),
    PropertyType: p.propertyType ?? 'String',
  });
  return el('ExtendedProperty', {}, [uri, textEl('Value', String(p.value))]);
}

/** Converts an element to plain JSON: text for leaves, dictionaries by Key, arrays for repeats. */
export function elToJson(e: El): unknown {
  if (e.children.length === 0) return Object.keys(e.attrs).length > 0 && e.text === '' ? { ...e.attrs } : e.text;
  if (e.children.every((c) => c.name === 'Entry' && c.attrs.Key)) {
    return Object.fromEntries(e.children.map((c) => [c.attrs.Key, elToJson(c)]));
  }
  const out: Record<string, unknown> = {};
  for (const c of e.children) {
    const v = elToJson(c);
    if (c.name in out) {
      const prev = out[c.name];
      out[c.name] = Array.isArray(prev) ? [...prev, v] : [prev, v];
    } else out[c.name] = v;
  }
  return out;
}

function recurrenceFromJson(r: RecurrenceJson, defaultStart: string, tz: TimeZoneDef): Recurrence {
  const kids: El[] = [];
  const interval = textEl('Interval', String(r.interval ?? 1));
  const days = (r.daysOfWeek ?? []).join(' ');
  const startLocal = new Date(Date.parse(defaultStart) - tz.standardBias * 60_000);
  switch (r.pattern) {
    case 'daily':
      kids.push(el('DailyRecurrence', {}, [interval]));
      break;
    case 'weekly':
      kids.push(
        el('WeeklyRecurrence', {}, [
          interval,
          textEl('DaysOfWeek', days || DAY_NAMES[startLocal.getUTCDay()]),
          textEl('FirstDayOfWeek', r.firstDayOfWeek ?? 'Sunday'),
        ]),
      );
      break;
    case 'absoluteMonthly':
      kids.push(el('AbsoluteMonthlyRecurrence', {}, [interval, textEl('DayOfMonth', String(r.dayOfMonth ?? startLocal.getUTCDate()))]));
      break;
    case 'relativeMonthly':
      kids.push(el('RelativeMonthlyRecurrence', {}, [interval, textEl('DaysOfWeek', days || 'Monday'), textEl('DayOfWeekIndex', r.index ?? 'First')]));
      break;
    case 'absoluteYearly':
      kids.push(el('AbsoluteYearlyRecurrence', {}, [textEl('DayOfMonth', String(r.dayOfMonth ?? 1)), textEl('Month', r.month ?? 'January')]));
      break;
    case 'relativeYearly':
      kids.push(
        el('RelativeYearlyRecurrence', {}, [
          textEl('DaysOfWeek', days || 'Monday'),
          textEl('DayOfWeekIndex', r.index ?? 'First'),
          textEl('Month', r.month ?? 'January'),
        ]),
      );
      break;
    default:
      throw new InputError('recurrence.pattern must be daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly or relativeYearly');
  }
  const startDate = textEl('StartDate', r.startDate ?? formatXsDate(Date.UTC(startLocal.getUTCFullYear(), startLocal.getUTCMonth(), startLocal.getUTCDate())));
  if (r.endDate) kids.push(el('EndDateRecurrence', {}, [startDate, textEl('EndDate', r.endDate)]));
  else if (r.numberOfOccurrences) kids.push(el('NumberedRecurrence', {}, [startDate, textEl('NumberOfOccurrences', String(r.numberOfOccurrences))]));
  else kids.push(el('NoEndRecurrence', {}, [startDate]));
  try {
    return parseRecurrence(el('Recurrence', {}, kids));
  } catch (e) {
    throw new InputError(`invalid recurrence: ${(e as Error).message}`);
  }
}

function attendeesEl(list: string[]): El {
  return el(
    'RequiredAttendees',
    {},
    list.map((a) => el('Attendee', {}, [el('Mailbox', {}, [textEl('EmailAddress', str(a, 'attendees[]'))])])),
  );
}

const GIVEN = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'John', 'Radia', 'Leslie'];
const FAMILY = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Backus', 'Perlman', 'Lamport'];
const TOPICS = ['Pipeline review', 'Quarterly planning', 'Customer call', 'Demo', 'One-on-one', 'Contract renewal', 'Site visit', 'Kick-off'];

/**
 * The mailbox store plus the edits a person makes in Outlook (each one moves the ChangeKey and the
 * sync log, exactly like an EWS write) and JSON read-back for tests.
 */
export class SimStore extends MailboxStore {
  createAppointment(email: string, input: AppointmentJson, folderName = 'calendar'): ItemJson {
    const mb = this.requireMailbox(email);
    const tz = this.zoneOf(input);
    if (input.start === undefined || input.end === undefined) throw new InputError('start and end are required');
    const fields = this.appointmentFields(new Map(), input, tz);
    const extended = new Map<string, El>();
    for (const p of input.extendedProperties ?? []) {
      const e = extendedEl(p);
      extended.set(extendedPropertyKey(e.children[0]), e);
    }
    const recurrence = input.recurrence ? recurrenceFromJson(input.recurrence, fields.get('Start')!.text, tz) : undefined;
    const item = this.createItem(mb, this.folder(mb, folderName), {
      kind: 'CalendarItem',
      fields,
      extended,
      startTimeZone: tz,
      endTimeZone: tz,
      recurrence,
    });
    return this.itemJson(mb, item);
  }

  createContact(email: string, input: ContactJson, folderName = 'contacts'): ItemJson {
    const mb = this.requireMailbox(email);
    const fields = this.contactFields(new Map(), input);
    const extended = new Map<string, El>();
    for (const p of input.extendedProperties ?? []) {
      const e = extendedEl(p);
      extended.set(extendedPropertyKey(e.children[0]), e);
    }
    this.contactBirthday({ fields, extended }, input);
    const item = this.createItem(mb, this.folder(mb, folderName), { kind: 'Contact', fields, extended });
    return this.itemJson(mb, item);
  }

  /** Edits a stored item; fields left out are kept. `null` recurrence turns a series into a single item. */
  editItem(email: string, id: string, input: AppointmentJson & ContactJson): ItemJson {
    const mb = this.requireMailbox(email);
    const item = this.requireItem(mb, id);
    const fields = new Map(item.fields);
    if (item.kind === 'CalendarItem') {
      const zoneGiven = input.timeZone !== undefined || input.timeZoneDefinition !== undefined;
      const tz = zoneGiven ? this.zoneOf(input) : item.startTimeZone;
      this.appointmentFields(fields, input, tz);
      if (zoneGiven) {
        item.startTimeZone = tz;
        item.endTimeZone = tz;
      }
      if (input.recurrence === null) {
        item.recurrence = undefined;
        item.exceptions.clear();
        item.deletedOccurrences.clear();
      } else if (input.recurrence) {
        item.recurrence = recurrenceFromJson(input.recurrence, fields.get('Start')!.text, tz);
        item.exceptions.clear();
        item.deletedOccurrences.clear();
      }
    } else {
      this.contactFields(fields, input);
      this.contactBirthday({ fields, extended: item.extended }, input);
    }
    for (const p of input.extendedProperties ?? []) {
      // a null value removes the property (an add-in or a person clearing it)
      const e = extendedEl(p.value === null ? { ...p, value: '' } : p);
      if (p.value === null) item.extended.delete(extendedPropertyKey(e.children[0]));
      else item.extended.set(extendedPropertyKey(e.children[0]), e);
    }
    item.fields = fields;
    this.touch(mb, item);
    return this.itemJson(mb, item);
  }

  /** Changes one occurrence of a series (making it an exception), as dragging it in Outlook does. */
  editOccurrence(email: string, seriesId: string, index: number, input: AppointmentJson): ItemJson {
    const mb = this.requireMailbox(email);
    const item = this.requireItem(mb, seriesId);
    const o = occurrenceByIndex(item, index);
    if (!o) throw new StoreError('NotFound', `series has no occurrence ${index}`);
    const existing = item.exceptions.get(o.originalStart);
    const fields = new Map(existing?.fields ?? []);
    this.appointmentFields(fields, input, item.startTimeZone);
    item.exceptions.set(o.originalStart, {
      id: existing?.id ?? occurrenceId(item.id, o.originalStart),
      changeKey: newChangeKey('CalendarItem'),
      originalStart: o.originalStart,
      fields,
      modified: this.clock.now(),
    });
    this.touch(mb, item);
    return this.itemJson(mb, item);
  }

  deleteOccurrence(email: string, seriesId: string, index: number): ItemJson {
    const mb = this.requireMailbox(email);
    const item = this.requireItem(mb, seriesId);
    const o = occurrenceByIndex(item, index);
    if (!o) throw new StoreError('NotFound', `series has no occurrence ${index}`);
    item.exceptions.delete(o.originalStart);
    item.deletedOccurrences.add(o.originalStart);
    this.touch(mb, item);
    return this.itemJson(mb, item);
  }

  /**
   * Moves an item to another folder (`calendar`, `contacts`, `deleteditems`, `inbox`) as a person
   * does in Outlook; it gets a new EWS id, as in Exchange, unless `newId` is false. Answers the item.
   */
  moveToFolder(email: string, id: string, folderName: string, newId = true): ItemJson {
    const mb = this.requireMailbox(email);
    const item = this.requireItem(mb, id);
    this.moveItem(mb, item, this.folder(mb, folderName), { newId });
    return this.itemJson(mb, item);
  }

  removeItem(email: string, id: string): void {
    const mb = this.requireMailbox(email);
    this.deleteItem(mb, this.requireItem(mb, id));
  }

  /** Sets the mailbox's own time zone (a Windows id; null clears it), as a person does in Outlook's options. */
  setMailboxTimeZone(email: string, timeZone: string | null): void {
    const mb = this.requireMailbox(email);
    if (timeZone !== null && !knownTimeZone(str(timeZone, 'timeZone'))) throw new InputError(`unknown Windows time zone ${timeZone}`);
    mb.timeZone = timeZone ?? undefined;
  }

  /** Every item of a folder as JSON, in creation order. */
  readFolder(email: string, folderName: string): ItemJson[] {
    const mb = this.requireMailbox(email);
    const folder = this.folder(mb, folderName);
    return [...folder.items].map((id) => this.itemJson(mb, mb.items.get(id)!));
  }

  /**
   * The item exactly as stored: every element with its attributes (email display names, body
   * type, dictionary keys), extended properties and the zone definitions. What tests compare
   * field by field, independent of any client's mapping.
   */
  readStored(email: string, id: string): StoredItemJson {
    const mb = this.requireMailbox(email);
    const item = this.requireItem(mb, id);
    return {
      id: item.id,
      changeKey: item.changeKey,
      kind: item.kind,
      fields: Object.fromEntries([...item.fields].map(([k, v]) => [k, cloneEl(v)])),
      extended: [...item.extended.values()].map(cloneEl),
      startTimeZone: { ...item.startTimeZone },
      endTimeZone: { ...item.endTimeZone },
    };
  }

  readItem(email: string, id: string): ItemJson {
    const mb = this.requireMailbox(email);
    return this.itemJson(mb, this.requireItem(mb, id));
  }

  /**
   * Deterministic seed data: appointments one hour long on working days from `startDate`, every
   * `recurringEvery`-th one a weekly series of 10 with its 2nd occurrence moved and its 3rd deleted;
   * contacts with emails, phones, a company and a business address.
   */
  seed(
    email: string,
    opts: { calendarItems?: number; contacts?: number; seed?: number; startDate?: string; recurringEvery?: number },
  ): { calendarItems: number; contacts: number } {
    const mb = this.requireMailbox(email);
    const rnd = seededRandom(opts.seed ?? 42);
    const base = Date.parse(opts.startDate ?? '2026-01-05T00:00:00Z');
    if (Number.isNaN(base)) throw new InputError('startDate must be an ISO date');
    const every = opts.recurringEvery ?? 10;
    const nCal = opts.calendarItems ?? 0;
    const nCon = opts.contacts ?? 0;
    if (!Number.isInteger(nCal) || !Number.isInteger(nCon) || nCal < 0 || nCon < 0 || nCal + nCon > 1_000_000) {
      throw new InputError('calendarItems and contacts must be non-negative integers');
    }
    for (let i = 0; i < nCal; i++) {
      const day = Math.floor(i / 6);
      const start = base + day * 86_400_000 + (8 + (i % 6) + Math.floor(rnd() * 2)) * 3_600_000;
      const recurring = every > 0 && i % every === every - 1;
      const json = this.createAppointment(email, {
        subject: `${TOPICS[Math.floor(rnd() * TOPICS.length)]} #${i + 1}`,
        start: isoUtc(start),
        end: isoUtc(start + 3_600_000),
        body: `Seeded appointment ${i + 1}`,
        location: rnd() < 0.5 ? `Room ${1 + Math.floor(rnd() * 20)}` : undefined,
        recurrence: recurring ? { pattern: 'weekly', numberOfOccurrences: 10 } : undefined,
      });
      if (recurring) {
        this.editOccurrence(email, json.id, 2, {
          subject: `Moved: occurrence 2 of #${i + 1}`,
          start: isoUtc(start + 7 * 86_400_000 + 3_600_000),
          end: isoUtc(start + 7 * 86_400_000 + 7_200_000),
        });
        this.deleteOccurrence(email, json.id, 3);
      }
    }
    for (let i = 0; i < nCon; i++) {
      const given = GIVEN[Math.floor(rnd() * GIVEN.length)];
      const family = FAMILY[Math.floor(rnd() * FAMILY.length)];
      const mbItem = this.createContact(email, {
        givenName: given,
        surname: `${family}${i + 1}`,
        companyName: `${family} Industries`,
        jobTitle: rnd() < 0.5 ? 'Buyer' : 'Director',
        emails: [`${given}.${family}${i + 1}@example.net`.toLowerCase()],
        phones: { BusinessPhone: `+1 555 ${String(1000 + i).padStart(4, '0')}`, MobilePhone: `+1 555 ${String(9000 - (i % 9000)).padStart(4, '0')}` },
      });
      const item = mb.items.get(mbItem.id)!;
      item.fields.set(
        'PhysicalAddresses',
        el('PhysicalAddresses', {}, [
          el('Entry', { Key: 'Business' }, [
            textEl('Street', `${i + 1} Main Street`),
            textEl('City', 'Springfield'),
            textEl('CountryOrRegion', 'USA'),
            textEl('PostalCode', '12345'),
          ]),
        ]),
      );
    }
    return { calendarItems: nCal, contacts: nCon };
  }

  itemJson(mb: Mailbox, item: StoredItem): ItemJson {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of item.fields) fields[k] = elToJson(v);
    if (item.kind === 'Contact' && fields.DisplayName === undefined) fields.DisplayName = displayName(item);
    const json: ItemJson = {
      id: item.id,
      changeKey: item.changeKey,
      kind: item.kind,
      lastModifiedTime: isoUtc(item.modified),
      fields,
      extendedProperties: [...item.extended.values()].map((e) => ({
        propertySetId: e.children[0].attrs.PropertySetId ?? e.children[0].attrs.DistinguishedPropertySetId ?? '',
        propertyName: e.children[0].attrs.PropertyName ?? e.children[0].attrs.PropertyTag ?? e.children[0].attrs.PropertyId ?? '',
        propertyType: e.children[0].attrs.PropertyType ?? '',
        value: e.children.find((c) => c.name === 'Value')?.text ?? '',
      })),
    };
    if (item.kind === 'CalendarItem') {
      json.uid = item.uid;
      fields.StartTimeZone = item.startTimeZone.id;
      if (item.recurrence) {
        json.recurrence = { ...item.recurrence, timeZone: item.startTimeZone.id };
        json.exceptions = [...item.exceptions.values()].map((x) => ({
          id: x.id,
          changeKey: x.changeKey,
          originalStart: isoUtc(x.originalStart),
          fields: Object.fromEntries([...x.fields].map(([k, v]) => [k, elToJson(v)])),
        }));
        json.deletedOccurrences = [...item.deletedOccurrences].sort((a, b) => a - b).map(isoUtc);
        fields.OccurrenceCount = seriesOccurrences(item).length;
      }
    }
    void mb;
    return json;
  }

  private requireItem(mb: Mailbox, id: string): StoredItem {
    const item = mb.items.get(id);
    if (!item) throw new StoreError('NotFound', `no item ${id} in ${mb.email}`);
    return item;
  }

  private zoneOf(input: AppointmentJson): TimeZoneDef {
    if (input.timeZoneDefinition !== undefined) return zoneFromJson(input.timeZoneDefinition);
    return this.zone(input.timeZone);
  }

  private zone(id: string | undefined): TimeZoneDef {
    if (!id) return UTC_ZONE;
    const tz = knownTimeZone(id);
    if (!tz) throw new InputError(`unknown Windows time zone ${id}`);
    return tz;
  }

  private appointmentFields(fields: Map<string, El>, input: AppointmentJson, tz: TimeZoneDef): Map<string, El> {
    if (typeof input !== 'object' || input === null) throw new InputError('body must be an object');
    if (input.subject !== undefined) fields.set('Subject', textEl('Subject', str(input.subject, 'subject')));
    if (input.body !== undefined) fields.set('Body', textEl('Body', str(input.body, 'body'), { BodyType: input.bodyType ?? 'Text' }));
    if (input.location !== undefined) fields.set('Location', textEl('Location', str(input.location, 'location')));
    if (input.isAllDay !== undefined) fields.set('IsAllDayEvent', textEl('IsAllDayEvent', String(!!input.isAllDay)));
    if (input.start !== undefined) fields.set('Start', textEl('Start', isoInput(input.start, 'start', tz)));
    if (input.end !== undefined) fields.set('End', textEl('End', isoInput(input.end, 'end', tz)));
    if (input.attendees !== undefined) {
      if (!Array.isArray(input.attendees)) throw new InputError('attendees must be a list of addresses');
      fields.set('RequiredAttendees', attendeesEl(input.attendees));
    }
    const s = fields.get('Start')?.text;
    const e = fields.get('End')?.text;
    if (s && e && Date.parse(e) < Date.parse(s)) throw new InputError('end is before start');
    snapAllDay(fields, tz, tz);
    return fields;
  }

  private contactFields(fields: Map<string, El>, input: ContactJson): Map<string, El> {
    if (typeof input !== 'object' || input === null) throw new InputError('body must be an object');
    const simple: [keyof ContactJson, string][] = [
      ['givenName', 'GivenName'],
      ['surname', 'Surname'],
      ['displayName', 'DisplayName'],
      ['companyName', 'CompanyName'],
      ['jobTitle', 'JobTitle'],
    ];
    for (const [k, name] of simple) if (input[k] !== undefined) fields.set(name, textEl(name, str(input[k], k)));
    if (input.body !== undefined) fields.set('Body', textEl('Body', str(input.body, 'body'), { BodyType: input.bodyType ?? 'Text' }));
    if (input.emails !== undefined) fields.set('EmailAddresses', emailsEl(input.emails));
    if (input.addresses !== undefined) fields.set('PhysicalAddresses', addressesEl(input.addresses));
    if (input.phones !== undefined) {
      const entries: [string, string][] = Array.isArray(input.phones)
        ? input.phones.map((p, i) => [PHONE_KEYS[i] ?? 'OtherTelephone', str(p, 'phones[]')])
        : Object.entries(input.phones).map(([k, v]) => {
            if (!PHONE_KEY_SET.has(k)) throw new InputError(`unknown phone key ${k}`);
            return [k, str(v, `phones.${k}`)];
          });
      fields.set(
        'PhoneNumbers',
        el(
          'PhoneNumbers',
          {},
          entries.map(([k, v]) => textEl('Entry', v, { Key: k })),
        ),
      );
    }
    return fields;
  }

  /** Outlook's birthday: the instant of local midnight, and the local date in PidLidBirthdayLocal. */
  private contactBirthday(item: { fields: Map<string, El>; extended: Map<string, El> }, input: ContactJson): void {
    const uri = el('ExtendedFieldURI', { DistinguishedPropertySetId: 'Address', PropertyId: String(PID_LID_BIRTHDAY_LOCAL), PropertyType: 'SystemTime' });
    const key = extendedPropertyKey(uri);
    if (input.birthday === null) {
      item.fields.delete('Birthday');
      item.extended.delete(key);
      return;
    }
    if (input.birthday !== undefined) item.fields.set('Birthday', textEl('Birthday', isoInput(input.birthday, 'birthday', UTC_ZONE)));
    if (input.birthdayLocal !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(str(input.birthdayLocal, 'birthdayLocal'))) throw new InputError('birthdayLocal must be YYYY-MM-DD');
      item.extended.set(key, el('ExtendedProperty', {}, [uri, textEl('Value', `${input.birthdayLocal}T00:00:00Z`)]));
    }
  }
}
