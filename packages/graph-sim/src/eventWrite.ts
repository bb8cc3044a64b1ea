import { el, isoUtc, snapAllDay, textEl, utcToLocal, type El, type Recurrence, type TimeZoneDef } from '@exsync/ews-sim';
import { fromDateTimeTimeZone } from './dateTimes';
import { errors } from './errors';
import { fromPatternedRecurrence } from './recurrence';

/**
 * A Graph `event` body (POST or PATCH) as changes to the shared store's fields, the same elements an
 * EWS CreateItem/UpdateItem writes, so either protocol reads what the other wrote.
 */
export interface EventChanges {
  fields: Map<string, El>;
  startZone?: TimeZoneDef;
  endZone?: TimeZoneDef;
  /** undefined: unchanged; null: removed (a series becomes a single event). */
  recurrence?: Recurrence | null;
  extended?: unknown;
  transactionId?: string;
}

/** Read-only or computed properties a client may echo back; Graph ignores them on writes. */
const IGNORED = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'iCalUId',
  'hasAttachments',
  'bodyPreview',
  'isCancelled',
  'isOrganizer',
  'seriesMasterId',
  'type',
  'webLink',
  'onlineMeetingUrl',
  'responseStatus',
  'organizer',
  'originalStart',
  'originalStartTimeZone',
  'originalEndTimeZone',
  'isDraft',
  'locations',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'allowNewTimeProposals',
  'hideAttendees',
  'responseRequested',
  'multiValueExtendedProperties',
]);

const SHOW_AS: Record<string, string> = {
  free: 'Free',
  tentative: 'Tentative',
  busy: 'Busy',
  oof: 'OOF',
  workingelsewhere: 'WorkingElsewhere',
  unknown: 'NoData',
};
const LEVELS: Record<string, string> = { low: 'Low', normal: 'Normal', high: 'High' };
const SENSITIVITY: Record<string, string> = { normal: 'Normal', personal: 'Personal', private: 'Private', confidential: 'Confidential' };

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw errors.badRequest(`Cannot convert a value of '${name}' to 'Edm.String'.`);
  return v;
}

function enumValue(v: unknown, map: Record<string, string>, name: string): string {
  const out = typeof v === 'string' ? map[v.toLowerCase()] : undefined;
  if (!out) throw errors.badRequest(`Requested value '${String(v)}' was not found for ${name}.`);
  return out;
}

function attendeesEl(list: unknown): Map<string, El> {
  if (!Array.isArray(list)) throw errors.badRequest('attendees must be a collection.');
  const by: Record<string, El[]> = { RequiredAttendees: [], OptionalAttendees: [], Resources: [] };
  for (const a of list) {
    const e = a as { type?: unknown; emailAddress?: { address?: unknown; name?: unknown } };
    const address = e?.emailAddress?.address;
    if (typeof address !== 'string' || !address.includes('@')) throw errors.badRequest('Each attendee needs emailAddress.address.');
    const type = String(e.type ?? 'required').toLowerCase();
    const target = type === 'optional' ? 'OptionalAttendees' : type === 'resource' ? 'Resources' : 'RequiredAttendees';
    const kids = [textEl('Name', typeof e.emailAddress?.name === 'string' ? e.emailAddress.name : address), textEl('EmailAddress', address)];
    by[target].push(el('Attendee', {}, [el('Mailbox', {}, kids)]));
  }
  return new Map(Object.entries(by).map(([k, v]) => [k, el(k, {}, v)]));
}

/**
 * Reads a request body into changes. `current` is what the item holds (for PATCH: an all-day flag or
 * a zone set earlier still counts). Unknown properties answer 400 RequestBodyRead, as Graph does.
 */
export function readEventBody(body: unknown, current: { fields: Map<string, El>; startZone: TimeZoneDef; endZone: TimeZoneDef }): EventChanges {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const ch: EventChanges = { fields: new Map(current.fields) };
  let recurrence: unknown;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k.startsWith('@odata.') || IGNORED.has(k)) continue;
    switch (k) {
      case 'subject':
        ch.fields.set('Subject', textEl('Subject', v === null ? '' : str(v, k)));
        break;
      case 'body': {
        const b = v as { contentType?: unknown; content?: unknown } | null;
        const html = String(b?.contentType ?? 'text').toLowerCase() === 'html';
        ch.fields.set('Body', textEl('Body', typeof b?.content === 'string' ? b.content : '', { BodyType: html ? 'HTML' : 'Text' }));
        break;
      }
      case 'start':
      case 'end': {
        const { utcMs, zone } = fromDateTimeTimeZone(v, k);
        const name = k === 'start' ? 'Start' : 'End';
        ch.fields.set(name, textEl(name, isoUtc(utcMs)));
        if (k === 'start') ch.startZone = zone;
        else ch.endZone = zone;
        break;
      }
      case 'isAllDay':
        if (typeof v !== 'boolean') throw errors.badRequest("Cannot convert a value of 'isAllDay' to 'Edm.Boolean'.");
        ch.fields.set('IsAllDayEvent', textEl('IsAllDayEvent', String(v)));
        break;
      case 'location': {
        const name = (v as { displayName?: unknown } | null)?.displayName;
        if (v === null || name === '' || name === undefined) ch.fields.delete('Location');
        else ch.fields.set('Location', textEl('Location', str(name, 'location.displayName')));
        break;
      }
      case 'attendees':
        for (const [name, list] of attendeesEl(v)) {
          if (list.children.length > 0) ch.fields.set(name, list);
          else ch.fields.delete(name);
        }
        break;
      case 'categories':
        if (!Array.isArray(v)) throw errors.badRequest('categories must be a collection.');
        ch.fields.set(
          'Categories',
          el(
            'Categories',
            {},
            v.map((c) => textEl('String', str(c, 'categories'))),
          ),
        );
        break;
      case 'importance':
        ch.fields.set('Importance', textEl('Importance', enumValue(v, LEVELS, k)));
        break;
      case 'sensitivity':
        ch.fields.set('Sensitivity', textEl('Sensitivity', enumValue(v, SENSITIVITY, k)));
        break;
      case 'showAs':
        ch.fields.set('LegacyFreeBusyStatus', textEl('LegacyFreeBusyStatus', enumValue(v, SHOW_AS, k)));
        break;
      case 'isReminderOn':
        ch.fields.set('ReminderIsSet', textEl('ReminderIsSet', String(v === true)));
        break;
      case 'reminderMinutesBeforeStart':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw errors.badRequest('reminderMinutesBeforeStart must be a non-negative integer.');
        ch.fields.set('ReminderMinutesBeforeStart', textEl('ReminderMinutesBeforeStart', String(v)));
        break;
      case 'recurrence':
        recurrence = v;
        if (v === null) ch.recurrence = null;
        break;
      case 'singleValueExtendedProperties':
        ch.extended = v;
        break;
      case 'transactionId':
        if (v !== null) ch.transactionId = str(v, k);
        break;
      default:
        throw errors.unknownProperty(k, 'event');
    }
  }
  const startZone = ch.startZone ?? current.startZone;
  const endZone = ch.endZone ?? ch.startZone ?? current.endZone;
  const s = ch.fields.get('Start')?.text;
  const e = ch.fields.get('End')?.text;
  if (s && e && Date.parse(e) < Date.parse(s)) throw errors.badRequest('The end of the event is before its start.');
  if (recurrence !== undefined && recurrence !== null) {
    const localStart = utcToLocal(startZone, Date.parse(s ?? new Date().toISOString()));
    ch.recurrence = fromPatternedRecurrence(recurrence, Math.floor(localStart / 86_400_000) * 86_400_000);
  }
  snapAllDay(ch.fields, startZone, endZone);
  return ch;
}
