import { isoUtc, newChangeKey, refId, textEl, UTC_ZONE, type El, type ItemRef } from '@exsync/ews-sim';
import { calendarView, seriesInstances } from '../calendarInstances';
import { json, type GraphResponse, type Route, type RouteContext } from '../context';
import { param, serveDelta } from '../delta';
import { parseQueryInstant } from '../dateTimes';
import { errors } from '../errors';
import { writeExtended } from '../extendedProperties';
import { readEventBody } from '../eventWrite';
import { EVENT_PROPERTIES, renderEvent } from '../eventView';
import { checkIfMatch } from '../etag';
import { outputId, resolveId, restId } from '../ids';
import { expandedExtended, list, passesFilter, shape, type Entry } from '../listing';
import { parseQuery, type QueryOptions, type ResourceRules } from '../odata/query';

/**
 * Calendar routes: events CRUD (learn.microsoft.com/graph/api/resources/event), instances, calendarView
 * and calendarView/delta. Writes go through the shared store exactly as EWS writes do: a new ChangeKey
 * and a sync-log entry, so an EWS SyncFolderItems sees a Graph edit and the other way round.
 */
const READ = { resource: 'Calendars', write: false } as const;
const WRITE = { resource: 'Calendars', write: true } as const;

const ENTITY_RULES: ResourceRules = { type: 'event', properties: EVENT_PROPERTIES, allow: ['$select', '$expand'] };
const LIST_RULES: ResourceRules = { type: 'event', properties: EVENT_PROPERTIES, allow: ['$select', '$expand', '$filter', '$top', '$skip', '$orderby'] };
const VIEW_RULES: ResourceRules = { type: 'event', properties: EVENT_PROPERTIES, allow: ['$select', '$filter', '$top', '$skip', '$orderby'] };
const DELTA_RULES: ResourceRules = {
  type: 'event',
  properties: EVENT_PROPERTIES,
  allow: [],
  refuse: (opts) =>
    errors.unsupportedQuery(`The following parameters are not supported with change tracking over the 'CalendarView' resource: '${opts.join(', ')}'.`),
};

function calendar(ctx: RouteContext) {
  return ctx.deps.store.folder(ctx.mb, 'calendar');
}

function full(ctx: RouteContext, ref: ItemRef): Record<string, unknown> {
  return renderEvent(ctx.mb, ref, { idType: ctx.prefs.idType, timeZone: ctx.prefs.timeZone, transactionId: ctx.deps.state.transactionOf.get(ref.item) });
}

function view(ctx: RouteContext, ref: ItemRef, q: QueryOptions): Record<string, unknown> {
  return shape(full(ctx, ref), expandedExtended(ref, q), q.select);
}

/** The list answer for some events: `$filter`, then `$orderby`, `$select`/`$expand`, paging. */
function listRefs(ctx: RouteContext, refs: ItemRef[], q: QueryOptions): GraphResponse {
  const entries: Entry[] = [];
  for (const ref of refs) {
    const f = full(ctx, ref);
    if (passesFilter(f, ref, q)) entries.push({ full: f, shown: shape(f, expandedExtended(ref, q), q.select) });
  }
  return list(ctx, 'event', entries, q);
}

/** An event by id; items outside the calendar (deleted to Deleted Items) are not found, as in Outlook. */
function eventRef(ctx: RouteContext, id: string): ItemRef {
  const ref = resolveId(ctx.mb, id);
  if (ref.item.kind !== 'CalendarItem' || ref.item.folderId !== calendar(ctx).id) throw errors.itemNotFound();
  return ref;
}

function windowOf(ctx: RouteContext): { start: number; end: number } {
  return {
    start: parseQueryInstant(param(ctx.req.query, 'startDateTime'), 'startDateTime'),
    end: parseQueryInstant(param(ctx.req.query, 'endDateTime'), 'endDateTime'),
  };
}

function attendeeAddresses(fields: Map<string, El>): string[] {
  return ['RequiredAttendees', 'OptionalAttendees', 'Resources']
    .flatMap((n) =>
      (fields.get(n)?.children ?? []).map((a) => a.children.find((c) => c.name === 'Mailbox')?.children.find((c) => c.name === 'EmailAddress')?.text ?? ''),
    )
    .filter(Boolean);
}

function listEvents(ctx: RouteContext): GraphResponse {
  const q = parseQuery(ctx.req.query, LIST_RULES);
  const refs = [...calendar(ctx).items]
    .map((id) => ctx.mb.items.get(id))
    .filter((i) => !!i)
    .map((item) => ({ item: item! }));
  return listRefs(ctx, refs, q);
}

function createEvent(ctx: RouteContext): GraphResponse {
  parseQuery(ctx.req.query, ENTITY_RULES);
  const { store, state } = ctx.deps;
  const body = ctx.req.body as Record<string, unknown> | undefined;
  const txn = typeof body?.transactionId === 'string' ? body.transactionId : undefined;
  if (txn) {
    const existing = ctx.mb.items.get(state.transactions.get(`${ctx.mb.email}|${txn}`) ?? '');
    if (existing) return json(201, view(ctx, { item: existing }, {}));
  }
  const ch = readEventBody(body, { fields: new Map(), startZone: UTC_ZONE, endZone: UTC_ZONE });
  // Like Exchange: a missing start is the current half hour, a missing end 30 minutes after the start.
  if (!ch.fields.has('Start')) ch.fields.set('Start', textEl('Start', isoUtc(Math.floor(store.clock.now() / 1_800_000) * 1_800_000)));
  if (!ch.fields.has('End')) ch.fields.set('End', textEl('End', isoUtc(Date.parse(ch.fields.get('Start')!.text) + 1_800_000)));
  const item = store.createItem(ctx.mb, calendar(ctx), {
    kind: 'CalendarItem',
    fields: ch.fields,
    startTimeZone: ch.startZone,
    endTimeZone: ch.endZone ?? ch.startZone,
    recurrence: ch.recurrence ?? undefined,
  });
  if (ch.extended !== undefined) writeExtended(item, ch.extended);
  if (txn) {
    state.transactions.set(`${ctx.mb.email}|${txn}`, item.id);
    state.transactionOf.set(item, txn);
  }
  const to = attendeeAddresses(item.fields);
  state.recordMessage({ kind: 'invitation', mailbox: ctx.mb.email, eventId: item.id, subject: item.fields.get('Subject')?.text ?? '', recipients: to });
  return json(201, view(ctx, { item }, {}));
}

function updateEvent(ctx: RouteContext): GraphResponse {
  const q = parseQuery(ctx.req.query, ENTITY_RULES);
  const ref = eventRef(ctx, ctx.params[0]);
  checkIfMatch(ctx.req.headers['if-match'], ref);
  const { item, occurrence: o } = ref;
  const before = attendeeAddresses(o?.exception?.fields ?? item.fields);
  if (o) {
    const current = new Map(o.exception?.fields ?? []);
    const ch = readEventBody(ctx.req.body, { fields: current, startZone: item.startTimeZone, endZone: item.endTimeZone });
    if (ch.recurrence !== undefined) throw errors.badRequest('An occurrence has no recurrence of its own.');
    item.exceptions.set(o.originalStart, {
      id: refId(ref).id,
      changeKey: newChangeKey('CalendarItem'),
      originalStart: o.originalStart,
      fields: ch.fields,
      modified: ctx.deps.store.clock.now(),
    });
    if (ch.extended !== undefined) writeExtended(item, ch.extended);
  } else {
    const ch = readEventBody(ctx.req.body, { fields: item.fields, startZone: item.startTimeZone, endZone: item.endTimeZone });
    item.fields = ch.fields;
    if (ch.startZone) item.startTimeZone = ch.startZone;
    if (ch.endZone || ch.startZone) item.endTimeZone = ch.endZone ?? ch.startZone!;
    if (ch.recurrence !== undefined) {
      item.recurrence = ch.recurrence ?? undefined;
      item.exceptions.clear();
      item.deletedOccurrences.clear();
    }
    if (ch.extended !== undefined) writeExtended(item, ch.extended);
  }
  ctx.deps.store.touch(ctx.mb, item);
  const now = o ? item.exceptions.get(o.originalStart)!.fields : item.fields;
  const added = attendeeAddresses(now).filter((a) => !before.includes(a));
  ctx.deps.state.recordMessage({
    kind: 'invitation',
    mailbox: ctx.mb.email,
    eventId: item.id,
    subject: now.get('Subject')?.text ?? item.fields.get('Subject')?.text ?? '',
    recipients: added,
  });
  const fresh = o ? resolveId(ctx.mb, outputId(ctx.mb, ref, 'rest')) : { item };
  return json(200, view(ctx, fresh, q));
}

function deleteEvent(ctx: RouteContext): GraphResponse {
  const ref = eventRef(ctx, ctx.params[0]);
  checkIfMatch(ctx.req.headers['if-match'], ref);
  const { item, occurrence: o } = ref;
  const recipients = attendeeAddresses(o?.exception?.fields ?? item.fields);
  const subject = (o?.exception?.fields ?? item.fields).get('Subject')?.text ?? item.fields.get('Subject')?.text ?? '';
  if (o) {
    item.exceptions.delete(o.originalStart);
    item.deletedOccurrences.add(o.originalStart);
    ctx.deps.store.touch(ctx.mb, item);
    ctx.deps.state.recordMessage({ kind: 'cancellation', mailbox: ctx.mb.email, eventId: refId(ref).id, subject, recipients });
  } else {
    // Outlook's DELETE moves the event to Deleted Items and, for a meeting, sends cancellations.
    ctx.deps.store.moveItem(ctx.mb, item, ctx.deps.store.folder(ctx.mb, 'deleteditems'));
    ctx.deps.state.recordMessage({ kind: 'cancellation', mailbox: ctx.mb.email, eventId: item.id, subject, recipients });
  }
  return { status: 204, headers: {} };
}

export const EVENT_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: ['calendar'],
    need: READ,
    name: 'GET calendar',
    run: (ctx) => {
      const f = calendar(ctx);
      return json(200, {
        id: restId(f.id),
        name: f.displayName,
        changeKey: f.changeKey,
        canEdit: true,
        isDefaultCalendar: true,
        owner: { name: ctx.mb.displayName, address: ctx.mb.email },
      });
    },
  },
  {
    method: 'GET',
    pattern: ['calendarView', 'delta'],
    need: READ,
    name: 'GET calendarView/delta',
    run: (ctx) => (parseQuery(ctx.req.query, DELTA_RULES), serveDelta(ctx, 'calendarView', calendar(ctx))),
  },
  {
    method: 'GET',
    pattern: ['calendar', 'calendarView', 'delta'],
    need: READ,
    name: 'GET calendarView/delta',
    run: (ctx) => (parseQuery(ctx.req.query, DELTA_RULES), serveDelta(ctx, 'calendarView', calendar(ctx))),
  },
  ...['calendarView', 'calendar/calendarView'].map((p): Route => ({
    method: 'GET',
    pattern: p.split('/'),
    need: READ,
    name: 'GET calendarView',
    run: (ctx) => {
      const q = parseQuery(ctx.req.query, VIEW_RULES);
      return listRefs(ctx, calendarView(ctx.mb, calendar(ctx), windowOf(ctx)), q);
    },
  })),
  ...['events', 'calendar/events'].flatMap((p): Route[] => [
    { method: 'GET', pattern: p.split('/'), need: READ, name: 'GET events', run: listEvents },
    { method: 'POST', pattern: p.split('/'), need: WRITE, name: 'POST events', run: createEvent },
    {
      method: 'GET',
      pattern: [...p.split('/'), ':id'],
      need: READ,
      name: 'GET event',
      run: (ctx) => json(200, view(ctx, eventRef(ctx, ctx.params[0]), parseQuery(ctx.req.query, ENTITY_RULES))),
    },
    { method: 'PATCH', pattern: [...p.split('/'), ':id'], need: WRITE, name: 'PATCH event', run: updateEvent },
    { method: 'DELETE', pattern: [...p.split('/'), ':id'], need: WRITE, name: 'DELETE event', run: deleteEvent },
    {
      method: 'GET',
      pattern: [...p.split('/'), ':id', 'instances'],
      need: READ,
      name: 'GET instances',
      run: (ctx) => {
        const q = parseQuery(ctx.req.query, VIEW_RULES);
        const ref = eventRef(ctx, ctx.params[0]);
        if (ref.occurrence || !ref.item.recurrence)
          throw errors.invalidRequest('The instances of a single event or occurrence cannot be listed: pass the id of a series master.');
        return listRefs(ctx, seriesInstances(ref, windowOf(ctx)), q);
      },
    },
  ]),
];
