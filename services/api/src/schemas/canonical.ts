/**
 * JSON schemas of the canonical appointment and contact (CONTRACT.md, "CRM items API"), shared by
 * the CRM items routes, the change feed and OpenAPI. Unknown fields are refused. Read-only
 * fields Exchange reports (organizer, attendees, iCalUId) appear in answers only.
 */

/** The all-day representation (README, "All-day items, birthdays and field fidelity"). */
const ALL_DAY =
  "All-day items: start and end name dates (end exclusive), given either as midnights of the item's timeZone (what Exchange holds, e.g. 2027-05-09T12:00:00Z for 10 May in Pacific/Auckland) or as UTC midnights (2027-05-10T00:00:00Z); both are accepted. " +
  'Reads return the form the CRM last wrote for as long as the dates are unchanged; dates changed in Outlook come back in that form too.';

const INSTANT = 'ISO 8601 instant, YYYY-MM-DDTHH:MM:SS[.fff] with Z or a full offset (+01:00); no leap seconds (23:59:60), no hour-only offsets (+01)';
const isoInstant = { type: 'string', format: 'date-time', description: INSTANT } as const;
const isoDate = { type: 'string', format: 'date', description: 'YYYY-MM-DD' } as const;
const shortText = { type: 'string', maxLength: 1000 } as const;
const longText = { type: 'string', maxLength: 200_000 } as const;
const dayOfWeek = { type: 'string', enum: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] } as const;
const days = { type: 'array', items: dayOfWeek, minItems: 1, maxItems: 7, uniqueItems: true } as const;
const weekIndex = { type: 'string', enum: ['first', 'second', 'third', 'fourth', 'last'] } as const;
const interval = { type: 'integer', minimum: 1, maximum: 999 } as const;
const month = { type: 'integer', minimum: 1, maximum: 12 } as const;
const dayOfMonth = { type: 'integer', minimum: 1, maximum: 31 } as const;

function variant(type: string, properties: Record<string, object>, required: string[]) {
  return {
    type: 'object',
    properties: { type: { type: 'string', enum: [type] }, ...properties },
    required: ['type', ...required],
    additionalProperties: false,
  } as const;
}

const recurrencePattern = {
  oneOf: [
    variant('daily', { interval }, ['interval']),
    variant('weekly', { interval, daysOfWeek: days, firstDayOfWeek: dayOfWeek }, ['interval', 'daysOfWeek']),
    variant('absoluteMonthly', { interval, dayOfMonth }, ['interval', 'dayOfMonth']),
    variant('relativeMonthly', { interval, daysOfWeek: days, index: weekIndex }, ['interval', 'daysOfWeek', 'index']),
    variant('absoluteYearly', { month, dayOfMonth }, ['month', 'dayOfMonth']),
    variant('relativeYearly', { month, daysOfWeek: days, index: weekIndex }, ['month', 'daysOfWeek', 'index']),
  ],
} as const;

const recurrenceRange = {
  oneOf: [
    variant('endDate', { startDate: isoDate, endDate: isoDate }, ['startDate', 'endDate']),
    variant('numbered', { startDate: isoDate, numberOfOccurrences: { type: 'integer', minimum: 1, maximum: 999 } }, ['startDate', 'numberOfOccurrences']),
    variant('noEnd', { startDate: isoDate }, ['startDate']),
  ],
} as const;

const modifiedOccurrence = {
  type: 'object',
  properties: { originalStart: isoInstant, subject: shortText, body: longText, location: shortText, start: isoInstant, end: isoInstant },
  required: ['originalStart', 'start', 'end'],
  additionalProperties: false,
} as const;

export const recurrenceSchema = {
  type: 'object',
  properties: {
    pattern: recurrencePattern,
    range: recurrenceRange,
    modifiedOccurrences: { type: 'array', items: modifiedOccurrence, maxItems: 1000 },
    deletedOccurrences: { type: 'array', items: isoInstant, maxItems: 1000 },
  },
  required: ['pattern', 'range'],
  additionalProperties: false,
} as const;

const appointmentProperties = {
  subject: { type: 'string', maxLength: 1000 },
  body: longText,
  location: shortText,
  start: { ...isoInstant, description: `${INSTANT}. ${ALL_DAY}` },
  end: { ...isoInstant, description: `${INSTANT}; exclusive. ${ALL_DAY}` },
  timeZone: {
    type: 'string',
    minLength: 1,
    maxLength: 100,
    description:
      'IANA time zone, e.g. Europe/Berlin; one with no Windows time zone (Antarctica/Troll) answers 400. An Exchange item in a "Customized Time Zone" reports the IANA zone whose rules match its definition (a fixed-offset Etc/GMT zone when none does); its zone is rewritten only when the CRM changes the times or the zone.',
  },
  isAllDay: { type: 'boolean', description: ALL_DAY },
  recurrence: recurrenceSchema,
  reminderMinutes: { type: 'integer', minimum: 0, maximum: 40_320 },
  sensitivity: { type: 'string', enum: ['normal', 'personal', 'private', 'confidential'] },
  showAs: { type: 'string', enum: ['free', 'tentative', 'busy', 'oof', 'workingElsewhere'] },
  categories: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, maxItems: 50 },
} as const;

/** What the CRM may write. */
export const appointmentInput = {
  type: 'object',
  description: 'Canonical appointment',
  properties: appointmentProperties,
  required: ['subject', 'start', 'end', 'timeZone', 'isAllDay'],
  additionalProperties: false,
} as const;

/** What the engine answers: the input fields plus what Exchange reports read-only. */
export const appointmentOutput = {
  type: 'object',
  description: 'Canonical appointment (organizer, attendees and iCalUId are read-only, from Exchange)',
  properties: {
    ...appointmentProperties,
    organizer: { type: 'object', properties: { email: { type: 'string' }, name: { type: 'string' } }, additionalProperties: false },
    attendees: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          email: { type: 'string' },
          name: { type: 'string' },
          type: { type: 'string', enum: ['required', 'optional', 'resource'] },
          response: { type: 'string', enum: ['unknown', 'organizer', 'tentative', 'accept', 'decline', 'noResponseReceived'] },
        },
        additionalProperties: false,
      },
    },
    iCalUId: { type: 'string' },
  },
  additionalProperties: false,
} as const;

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

const postalAddress = {
  type: 'object',
  properties: { street: shortText, city: shortText, state: shortText, postalCode: { type: 'string', maxLength: 100 }, countryOrRegion: shortText },
  additionalProperties: false,
} as const;

const emailEntry = {
  type: 'object',
  properties: {
    address: { type: 'string', minLength: 3, maxLength: 320 },
    name: { type: 'string', maxLength: 320 },
    slot: { type: 'integer', enum: [1, 2, 3] },
  },
  required: ['address'],
  additionalProperties: false,
} as const;

export const contactSchema = {
  type: 'object',
  description: 'Canonical contact',
  properties: {
    givenName: shortText,
    middleName: shortText,
    surname: shortText,
    displayName: shortText,
    companyName: shortText,
    jobTitle: shortText,
    department: shortText,
    emails: {
      type: 'array',
      maxItems: 3,
      default: [],
      description:
        'At most three (Exchange EmailAddress1..3). Each entry is {address, name?, slot?}: name is the display name of that email, slot (1-3) the Exchange slot it is kept in (entries without a slot take the lowest free slots, in order). ' +
        'On input a plain string is accepted as {address}, and "Jane Doe <jane.doe@example.test>" as {name, address}; a string that is not an address is refused with 400 naming the entry. ' +
        "An entry without slot keeps the slot its address already has on the item (and, without name either, its display name), so a CRM that stores plain addresses does not move Exchange's slots.",
      items: { anyOf: [{ type: 'string', minLength: 1, maxLength: 400 }, emailEntry] },
    },
    phones: {
      type: 'object',
      properties: Object.fromEntries(PHONE_KINDS.map((k) => [k, { type: 'string', maxLength: 100 }])),
      additionalProperties: false,
      default: {},
    },
    addresses: {
      type: 'object',
      properties: { business: postalAddress, home: postalAddress, other: postalAddress },
      additionalProperties: false,
      default: {},
    },
    notes: longText,
    birthday: {
      ...isoDate,
      description: "The birthday's date (no zone). Read from Outlook's PidLidBirthdayLocal when present; written to both Birthday and PidLidBirthdayLocal.",
    },
  },
  // Every field is optional (CONTRACT.md); emails, phones and addresses default to empty.
  additionalProperties: false,
} as const;

/** A canonical item of either kind, as the change feed carries it. */
export const anyItemOutput = { anyOf: [appointmentOutput, contactSchema, { type: 'null' }] } as const;
