import { child, childText, isoUtc, itemEnd, itemStart, type El, type ItemRef, type Mailbox } from '@exsync/ews-sim';
import { graphTimestamp, toDateTimeTimeZone } from './dateTimes';
import { changeKeyOf, outputId, type IdType } from './ids';
import { toPatternedRecurrence } from './recurrence';

/** How a response renders items: the id type and the `outlook.timezone` preference. */
export interface ViewOptions {
  idType: IdType;
  timeZone?: string;
  transactionId?: string;
}

/** Properties of `microsoft.graph.event` in v1.0 this simulator serves (for `$select` and `$filter`). */
export const EVENT_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'transactionId',
  'originalStartTimeZone',
  'originalEndTimeZone',
  'iCalUId',
  'reminderMinutesBeforeStart',
  'isReminderOn',
  'hasAttachments',
  'subject',
  'bodyPreview',
  'importance',
  'sensitivity',
  'isAllDay',
  'isCancelled',
  'isOrganizer',
  'responseRequested',
  'seriesMasterId',
  'showAs',
  'type',
  'webLink',
  'onlineMeetingUrl',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'allowNewTimeProposals',
  'isDraft',
  'hideAttendees',
  'responseStatus',
  'body',
  'start',
  'end',
  'location',
  'locations',
  'recurrence',
  'attendees',
  'organizer',
  'originalStart',
] as const;

const SHOW_AS: Record<string, string> = {
  Free: 'free',
  Tentative: 'tentative',
  Busy: 'busy',
  OOF: 'oof',
  WorkingElsewhere: 'workingElsewhere',
  NoData: 'unknown',
};

function field(ref: ItemRef, name: string): El | undefined {
  return ref.occurrence?.exception?.fields.get(name) ?? ref.item.fields.get(name);
}

function text(ref: ItemRef, name: string): string | undefined {
  return field(ref, name)?.text;
}

function attendees(ref: ItemRef): unknown[] {
  const out: unknown[] = [];
  for (const [el, type] of [
    ['RequiredAttendees', 'required'],
    ['OptionalAttendees', 'optional'],
    ['Resources', 'resource'],
  ] as const) {
    for (const a of field(ref, el)?.children ?? []) {
      const mb = child(a, 'Mailbox');
      const address = childText(mb, 'EmailAddress') ?? '';
      const response = (childText(a, 'ResponseType') ?? 'Unknown').replace(/^Unknown$/, 'none').replace(/^NoResponseReceived$/, 'notResponded');
      out.push({
        type,
        status: { response: response[0].toLowerCase() + response.slice(1), time: '0001-01-01T00:00:00Z' },
        emailAddress: { name: childText(mb, 'Name') ?? address, address },
      });
    }
  }
  return out;
}

function bodyPreview(body: El | undefined): string {
  const t = (body?.text ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return t.slice(0, 255);
}

/** The Graph `event` JSON of a stored item, an occurrence or an exception (all properties). */
export function renderEvent(mb: Mailbox, ref: ItemRef, opts: ViewOptions): Record<string, unknown> {
  const { item, occurrence: o } = ref;
  const changeKey = changeKeyOf(ref);
  const start = o ? o.start : itemStart(item);
  const end = o ? o.end : itemEnd(item);
  const body = field(ref, 'Body');
  const isMaster = !o && !!item.recurrence;
  const type = o ? (o.exception ? 'exception' : 'occurrence') : isMaster ? 'seriesMaster' : 'singleInstance';
  const organizerMb = child(item.fields.get('Organizer'), 'Mailbox');
  const att = attendees(ref);
  const location = text(ref, 'Location') ?? '';
  const id = outputId(mb, ref, opts.idType);
  const categories = (field(ref, 'Categories')?.children ?? []).map((c) => c.text);
  const json: Record<string, unknown> = {
    '@odata.etag': `W/"${changeKey}"`,
    id,
    createdDateTime: graphTimestamp(item.created),
    lastModifiedDateTime: graphTimestamp(o?.exception ? Math.max(o.exception.modified, item.modified) : item.modified),
    changeKey,
    categories,
    transactionId: opts.transactionId ?? null,
    originalStartTimeZone: item.startTimeZone.id,
    originalEndTimeZone: item.endTimeZone.id,
    iCalUId: item.uid,
    reminderMinutesBeforeStart: Number(text(ref, 'ReminderMinutesBeforeStart') ?? 15),
    isReminderOn: (text(ref, 'ReminderIsSet') ?? 'true') === 'true',
    hasAttachments: false,
    subject: text(ref, 'Subject') ?? '',
    bodyPreview: bodyPreview(body),
    importance: (text(ref, 'Importance') ?? 'Normal').toLowerCase(),
    sensitivity: (text(ref, 'Sensitivity') ?? 'Normal').toLowerCase(),
    isAllDay: (text(ref, 'IsAllDayEvent') ?? 'false').trim() === 'true',
    isCancelled: false,
    isOrganizer: true,
    responseRequested: (text(ref, 'IsResponseRequested') ?? 'true') === 'true',
    seriesMasterId: o ? outputId(mb, { item }, opts.idType) : null,
    showAs: SHOW_AS[text(ref, 'LegacyFreeBusyStatus') ?? 'Busy'] ?? 'busy',
    type,
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    isDraft: false,
    hideAttendees: false,
    responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
    body: { contentType: body?.attrs.BodyType === 'HTML' ? 'html' : 'text', content: body?.text ?? '' },
    start: toDateTimeTimeZone(start, opts.timeZone),
    end: toDateTimeTimeZone(end, opts.timeZone),
    location: { displayName: location, locationType: 'default', uniqueIdType: location ? 'private' : 'unknown', address: {}, coordinates: {} },
    locations: location ? [{ displayName: location, locationType: 'default', uniqueIdType: 'private' }] : [],
    recurrence: isMaster ? toPatternedRecurrence(item.recurrence!, item.startTimeZone) : null,
    attendees: att,
    organizer: { emailAddress: { name: childText(organizerMb, 'Name') ?? mb.displayName, address: childText(organizerMb, 'EmailAddress') ?? mb.email } },
  };
  if (o) json.originalStart = isoUtc(o.originalStart);
  return json;
}
