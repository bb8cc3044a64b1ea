/**
 * The canonical items exsync syncs, independent of any transport (EWS today, Graph later).
 * These are the shapes of the CRM items API (CONTRACT.md) and of the link table's snapshots.
 * Optional fields are omitted (never `null`) when absent so that snapshots compare by value.
 */

export const ITEM_KINDS = ['appointment', 'contact'] as const;
/** The kinds of item exsync syncs: the CRM items API's and the link table's `kind`. */
export type ItemKind = (typeof ITEM_KINDS)[number];

export type Sensitivity = 'normal' | 'personal' | 'private' | 'confidential';
export type ShowAs = 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere';
export type DayOfWeek = 'sunday' | 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday';
export type WeekIndex = 'first' | 'second' | 'third' | 'fourth' | 'last';

export type RecurrencePattern =
  | { type: 'daily'; interval: number }
  | { type: 'weekly'; interval: number; daysOfWeek: DayOfWeek[]; firstDayOfWeek?: DayOfWeek }
  | { type: 'absoluteMonthly'; interval: number; dayOfMonth: number }
  | { type: 'relativeMonthly'; interval: number; daysOfWeek: DayOfWeek[]; index: WeekIndex }
  | { type: 'absoluteYearly'; month: number; dayOfMonth: number }
  | { type: 'relativeYearly'; month: number; daysOfWeek: DayOfWeek[]; index: WeekIndex };

export type RecurrenceRange =
  | { type: 'endDate'; startDate: string; endDate: string } // dates as YYYY-MM-DD in the event's time zone
  | { type: 'numbered'; startDate: string; numberOfOccurrences: number }
  | { type: 'noEnd'; startDate: string };

/** One occurrence of a series that was changed; `originalStart` identifies it (ISO instant). */
export interface ModifiedOccurrence {
  originalStart: string;
  subject?: string;
  body?: string;
  location?: string;
  start: string;
  end: string;
}

export interface Recurrence {
  pattern: RecurrencePattern;
  range: RecurrenceRange;
  modifiedOccurrences?: ModifiedOccurrence[];
  /** original start instants (ISO) of deleted occurrences */
  deletedOccurrences?: string[];
}

export interface Attendee {
  email: string;
  name?: string;
  type?: 'required' | 'optional' | 'resource';
  response?: 'unknown' | 'organizer' | 'tentative' | 'accept' | 'decline' | 'noResponseReceived';
}

export interface Appointment {
  subject: string;
  body?: string;
  location?: string;
  /** ISO 8601 instant (with Z or an offset) */
  start: string;
  end: string;
  /** IANA time zone the event was created in, e.g. "Europe/Berlin" */
  timeZone: string;
  isAllDay: boolean;
  recurrence?: Recurrence;
  reminderMinutes?: number;
  sensitivity?: Sensitivity;
  showAs?: ShowAs;
  categories?: string[];
  /** read-only: reported from Exchange, never written by the sync */
  organizer?: { email: string; name?: string };
  attendees?: Attendee[];
  /** read-only: Exchange's iCalUId, kept so items can be re-linked across transports */
  iCalUId?: string;
}

export type PhoneKind =
  | 'business'
  | 'business2'
  | 'businessFax'
  | 'mobile'
  | 'home'
  | 'home2'
  | 'homeFax'
  | 'other'
  | 'otherFax'
  | 'pager'
  | 'assistant'
  | 'car'
  | 'companyMain'
  | 'callback'
  | 'isdn'
  | 'primary'
  | 'radio'
  | 'telex'
  | 'ttyTdd';

export type AddressKind = 'business' | 'home' | 'other';

export interface PostalAddress {
  street?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  countryOrRegion?: string;
}

/**
 * One of a contact's three email slots (EWS EmailAddress1..3, Outlook "E-mail", "E-mail 2",
 * "E-mail 3"). `name` is the slot's display name ("Pat (Work)"); `slot` keeps an address in the
 * slot it has in Exchange, so a contact with only "E-mail 2" filled keeps it there. Without a
 * slot an entry takes the lowest slot no other entry names.
 */
export interface ContactEmail {
  address: string;
  name?: string;
  slot?: 1 | 2 | 3;
}

export interface Contact {
  givenName?: string;
  middleName?: string;
  surname?: string;
  displayName?: string;
  companyName?: string;
  jobTitle?: string;
  department?: string;
  /** at most three (EmailAddress1..3); the API also accepts a plain string per entry on input */
  emails: ContactEmail[];
  phones: Partial<Record<PhoneKind, string>>;
  addresses: Partial<Record<AddressKind, PostalAddress>>;
  notes?: string;
  /** YYYY-MM-DD */
  birthday?: string;
}

export type CanonicalItem = Appointment | Contact;

/** Fields the sync never writes to Exchange (reported by Exchange only). */
export const READ_ONLY_APPOINTMENT_FIELDS = ['organizer', 'attendees', 'iCalUId'] as const;
