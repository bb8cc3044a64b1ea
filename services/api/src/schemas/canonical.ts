/**
 * JSON schemas of the canonical appointment and contact (CONTRACT.md, "CRM items API"), shared by
 * the CRM items routes, the change feed and OpenAPI. Unknown fields are refused. Read-only
 * fields Exchange reports (organizer, attendees, iCalUId) appear in answers only.
 */

import { Type, type Static, type TSchema, type TProperties } from '@sinclair/typebox';
import { StringEnum } from './common';

/** The all-day representation (README, "All-day items, birthdays and field fidelity"). */
const ALL_DAY =
  "All-day items: start and end name dates (end exclusive), given either as midnights of the item's timeZone (what Exchange holds, e.g. 2027-05-09T12:00:00Z for 10 May in Pacific/Auckland) or as UTC midnights (2027-05-10T00:00:00Z); both are accepted. " +
  'Reads return the form the CRM last wrote for as long as the dates are unchanged; dates changed in Outlook come back in that form too.';

const INSTANT = 'ISO 8601 instant, YYYY-MM-DDTHH:MM:SS[.fff] with Z or a full offset (+01:00); no leap seconds (23:59:60), no hour-only offsets (+01)';
const isoInstant = (description = INSTANT) => Type.String({ format: 'date-time', description });
const isoDate = (description = 'YYYY-MM-DD') => Type.String({ format: 'date', description });
const shortText = () => Type.String({ maxLength: 1000 });
const longText = () => Type.String({ maxLength: 200_000 });
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const days = () => Type.Array(StringEnum(DAYS), { minItems: 1, maxItems: 7, uniqueItems: true });
const weekIndex = () => StringEnum(['first', 'second', 'third', 'fourth', 'last'] as const);
const interval = () => Type.Integer({ minimum: 1, maximum: 999 });
const month = () => Type.Integer({ minimum: 1, maximum: 12 });
const dayOfMonth = () => Type.Integer({ minimum: 1, maximum: 31 });

/** One variant of a tagged union: `type` names it; unknown fields are refused. */
function variant<const K extends string, P extends TProperties>(type: K, properties: P) {
  return Type.Object({ type: StringEnum([type] as const), ...properties }, { additionalProperties: false });
}

/** Exactly one of `schemas` (JSON Schema oneOf, as OpenAPI shows it). */
function OneOf<T extends TSchema[]>(schemas: [...T]) {
  return Type.Unsafe<Static<T[number]>>({ oneOf: schemas });
}

const recurrencePattern = OneOf([
  variant('daily', { interval: interval() }),
  variant('weekly', { interval: interval(), daysOfWeek: days(), firstDayOfWeek: Type.Optional(StringEnum(DAYS)) }),
  variant('absoluteMonthly', { interval: interval(), dayOfMonth: dayOfMonth() }),
  variant('relativeMonthly', { interval: interval(), daysOfWeek: days(), index: weekIndex() }),
  variant('absoluteYearly', { month: month(), dayOfMonth: dayOfMonth() }),
  variant('relativeYearly', { month: month(), daysOfWeek: days(), index: weekIndex() }),
]);

const recurrenceRange = OneOf([
  variant('endDate', { startDate: isoDate(), endDate: isoDate() }),
  variant('numbered', { startDate: isoDate(), numberOfOccurrences: Type.Integer({ minimum: 1, maximum: 999 }) }),
  variant('noEnd', { startDate: isoDate() }),
]);

const modifiedOccurrence = Type.Object(
  {
    originalStart: isoInstant(),
    subject: Type.Optional(shortText()),
    body: Type.Optional(longText()),
    location: Type.Optional(shortText()),
    start: isoInstant(),
    end: isoInstant(),
  },
  { additionalProperties: false },
);

export const Recurrence = Type.Object(
  {
    pattern: recurrencePattern,
    range: recurrenceRange,
    modifiedOccurrences: Type.Optional(Type.Array(modifiedOccurrence, { maxItems: 1000 })),
    deletedOccurrences: Type.Optional(Type.Array(isoInstant(), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

const appointmentProperties = {
  subject: Type.String({ maxLength: 1000 }),
  body: Type.Optional(longText()),
  location: Type.Optional(shortText()),
  start: isoInstant(`${INSTANT}. ${ALL_DAY}`),
  end: isoInstant(`${INSTANT}; exclusive. ${ALL_DAY}`),
  timeZone: Type.String({
    minLength: 1,
    maxLength: 100,
    description:
      'IANA time zone, e.g. Europe/Berlin; one with no Windows time zone (Antarctica/Troll) answers 400. An Exchange item in a "Customized Time Zone" reports the IANA zone whose rules match its definition (a fixed-offset Etc/GMT zone when none does); its zone is rewritten only when the CRM changes the times or the zone.',
  }),
  isAllDay: Type.Boolean({ description: ALL_DAY }),
  recurrence: Type.Optional(Recurrence),
  reminderMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 40_320 })),
  sensitivity: Type.Optional(StringEnum(['normal', 'personal', 'private', 'confidential'] as const)),
  showAs: Type.Optional(StringEnum(['free', 'tentative', 'busy', 'oof', 'workingElsewhere'] as const)),
  categories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50 })),
};

/** What the CRM may write. */
export const AppointmentInput = Type.Object(appointmentProperties, { description: 'Canonical appointment', additionalProperties: false });

/** What the engine answers: the input fields plus what Exchange reports read-only. */
export const AppointmentOutput = Type.Partial(
  Type.Object({
    ...appointmentProperties,
    organizer: Type.Partial(Type.Object({ email: Type.String(), name: Type.String() }), { additionalProperties: false }),
    attendees: Type.Array(
      Type.Partial(
        Type.Object({
          email: Type.String(),
          name: Type.String(),
          type: StringEnum(['required', 'optional', 'resource'] as const),
          response: StringEnum(['unknown', 'organizer', 'tentative', 'accept', 'decline', 'noResponseReceived'] as const),
        }),
        { additionalProperties: false },
      ),
    ),
    iCalUId: Type.String(),
  }),
  { description: 'Canonical appointment (organizer, attendees and iCalUId are read-only, from Exchange)', additionalProperties: false },
);

const PHONE_KINDS = [
  'business',
  'business2',
  'businessFax',
  'mobile',
  'home',
  'home2',
  'homeFax',
  'other',
  'otherFax',
  'pager',
  'assistant',
  'car',
  'companyMain',
  'callback',
  'isdn',
  'primary',
  'radio',
  'telex',
  'ttyTdd',
] as const;

const postalAddress = Type.Partial(
  Type.Object({ street: shortText(), city: shortText(), state: shortText(), postalCode: Type.String({ maxLength: 100 }), countryOrRegion: shortText() }),
  { additionalProperties: false },
);

const emailEntry = Type.Object(
  {
    address: Type.String({ minLength: 3, maxLength: 320 }),
    name: Type.Optional(Type.String({ maxLength: 320 })),
    slot: Type.Optional(Type.Unsafe<1 | 2 | 3>({ type: 'integer', enum: [1, 2, 3] })),
  },
  { additionalProperties: false },
);

const phones = Object.fromEntries(PHONE_KINDS.map((k) => [k, Type.String({ maxLength: 100 })])) as Record<
  (typeof PHONE_KINDS)[number],
  ReturnType<typeof Type.String>
>;

/** Every field is optional (CONTRACT.md); emails, phones and addresses default to empty. Unknown fields are refused. */
export const Contact = Type.Partial(
  Type.Object({
    givenName: shortText(),
    middleName: shortText(),
    surname: shortText(),
    displayName: shortText(),
    companyName: shortText(),
    jobTitle: shortText(),
    department: shortText(),
    emails: Type.Array(Type.Union([Type.String({ minLength: 1, maxLength: 400 }), emailEntry]), {
      maxItems: 3,
      default: [],
      description:
        'At most three (Exchange EmailAddress1..3). Each entry is {address, name?, slot?}: name is the display name of that email, slot (1-3) the Exchange slot it is kept in (entries without a slot take the lowest free slots, in order). ' +
        'On input a plain string is accepted as {address}, and "Jane Doe <jane.doe@example.test>" as {name, address}; a string that is not an address is refused with 400 naming the entry. ' +
        "An entry without slot keeps the slot its address already has on the item (and, without name either, its display name), so a CRM that stores plain addresses does not move Exchange's slots.",
    }),
    phones: Type.Partial(Type.Object(phones), { additionalProperties: false, default: {} }),
    addresses: Type.Partial(Type.Object({ business: postalAddress, home: postalAddress, other: postalAddress }), { additionalProperties: false, default: {} }),
    notes: longText(),
    birthday: isoDate("The birthday's date (no zone). Read from Outlook's PidLidBirthdayLocal when present; written to both Birthday and PidLidBirthdayLocal."),
  }),
  { description: 'Canonical contact', additionalProperties: false },
);

/** A canonical item of either kind, as the change feed carries it. */
export const AnyItemOutput = Type.Union([AppointmentOutput, Contact, Type.Null()]);
