import { newChangeKey, occurrenceId } from '../ids';
import { applyItemChange, itemFromXml, ItemWriteError, snapAllDay } from '../itemWrite';
import { isoUtc, refId, type ItemRef } from '../itemView';
import type { ItemKind, OccurrenceException } from '../store';
import { errorMessage, responseClose, responseOpen, successClose, successOpen } from '../soap';
import { child, type El } from '../xml';
import { fieldTexts, ItemError, RequestFault, resolveFolder, resolveItem, type OpContext } from './context';

function itemErrorOf(e: unknown): ItemError | undefined {
  if (e instanceof ItemError) return e;
  if (e instanceof ItemWriteError) return new ItemError(e.code, e.message);
  return undefined;
}

function errorText(e: ItemError): string | undefined {
  return e.message === e.code ? undefined : e.message;
}

const SEND_INVITATIONS = new Set(['SendToNone', 'SendOnlyToAll', 'SendToAllAndSaveCopy']);
const CONFLICT_RESOLUTION = new Set(['NeverOverwrite', 'AutoResolve', 'AlwaysOverwrite']);

/**
 * The error ResponseMessage of one item's failed write (`items`: the empty Items element the
 * operation's schema wants there); anything that is not an item-level error is rethrown and fails
 * the whole request, as Exchange does.
 */
function itemFailure(op: string, e: unknown, items?: string): string {
  const ie = itemErrorOf(e);
  if (!ie) throw e;
  return errorMessage(op, { code: ie.code, text: errorText(ie), messageXml: ie.messageXml }, items);
}

export function createItem(ctx: OpContext): string {
  const op = 'CreateItem';
  const req = ctx.request;
  const items = child(req, 'Items')?.children ?? [];
  const send = req.attrs.SendMeetingInvitations;
  if (send !== undefined && !SEND_INVITATIONS.has(send)) {
    throw new RequestFault('ErrorSchemaValidation', `The request failed schema validation: invalid SendMeetingInvitations ${send}.`);
  }
  const savedIn = child(req, 'SavedItemFolderId')?.children[0];
  const out: string[] = [responseOpen(op)];
  for (const itemEl of items) {
    try {
      ctx.throwIfBusy();
      if (itemEl.name !== 'CalendarItem' && itemEl.name !== 'Contact') {
        throw new ItemError('ErrorInvalidRequest', `The simulator stores calendar items and contacts, not ${itemEl.name}.`);
      }
      const kind: ItemKind = itemEl.name;
      if (kind === 'CalendarItem' && send === undefined) throw new ItemError('ErrorSendMeetingInvitationsRequired');
      const folder = savedIn ? resolveFolder(ctx, savedIn) : ctx.store.folder(ctx.mb, kind === 'CalendarItem' ? 'calendar' : 'contacts');
      if (kind === 'Contact' && folder.itemKind !== 'Contact') throw new ItemError('ErrorCannotCreateContactInNonContactFolder');
      if (kind === 'CalendarItem' && folder.itemKind !== 'CalendarItem') throw new ItemError('ErrorCannotCreateCalendarItemInNonCalendarFolder');
      const input = itemFromXml(kind, itemEl, ctx.contextTz);
      ctx.throwIfRefused(() => fieldTexts(input.fields.values()));
      const hasAttendees = ['RequiredAttendees', 'OptionalAttendees', 'Resources'].some((n) => (input.fields.get(n)?.children.length ?? 0) > 0);
      if (kind === 'CalendarItem' && hasAttendees && send !== 'SendToNone') {
        input.fields.set('MeetingRequestWasSent', { name: 'MeetingRequestWasSent', attrs: {}, children: [], text: 'true' });
      }
      const item = ctx.store.createItem(ctx.mb, folder, input);
      out.push(successOpen(op), `<m:Items><t:${kind}><t:ItemId Id="${item.id}" ChangeKey="${item.changeKey}"/></t:${kind}></m:Items>`, successClose(op));
    } catch (e) {
      out.push(itemFailure(op, e, '<m:Items/>'));
    }
  }
  out.push(responseClose(op));
  return out.join('');
}

function currentChangeKey(ref: ItemRef): string {
  return refId(ref).changeKey;
}

export function updateItem(ctx: OpContext): string {
  const op = 'UpdateItem';
  const req = ctx.request;
  const resolution = req.attrs.ConflictResolution ?? 'AutoResolve';
  if (!CONFLICT_RESOLUTION.has(resolution)) {
    throw new RequestFault('ErrorSchemaValidation', `The request failed schema validation: invalid ConflictResolution ${resolution}.`);
  }
  const changes = child(req, 'ItemChanges')?.children ?? [];
  const out: string[] = [responseOpen(op)];
  for (const change of changes) {
    try {
      ctx.throwIfBusy();
      const idEl = change.children.find((c) => c.name === 'ItemId' || c.name === 'OccurrenceItemId' || c.name === 'RecurringMasterItemId');
      if (!idEl) throw new RequestFault('ErrorSchemaValidation', 'The request failed schema validation: ItemChange needs an item id.');
      const ref = resolveItem(ctx, idEl);
      if (ref.item.kind === 'CalendarItem' && req.attrs.SendMeetingInvitationsOrCancellations === undefined) {
        throw new ItemError('ErrorSendMeetingInvitationsOrCancellationsRequired');
      }
      const sentKey = idEl.attrs.ChangeKey;
      if (sentKey && resolution !== 'AlwaysOverwrite' && sentKey !== currentChangeKey(ref)) {
        throw new ItemError('ErrorIrresolvableConflict');
      }
      ctx.throwIfRefused(() => fieldTexts(child(change, 'Updates')?.children ?? []));
      applyUpdates(ctx, ref, child(change, 'Updates')?.children ?? []);
      const id = refId(
        ref.occurrence ? { item: ref.item, occurrence: { ...ref.occurrence, exception: ref.item.exceptions.get(ref.occurrence.originalStart) } } : ref,
      );
      out.push(
        successOpen(op),
        `<m:Items><t:${ref.item.kind}><t:ItemId Id="${id.id}" ChangeKey="${id.changeKey}"/></t:${ref.item.kind}></m:Items>`,
        '<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>',
        successClose(op),
      );
    } catch (e) {
      out.push(itemFailure(op, e, '<m:Items/>'));
    }
  }
  out.push(responseClose(op));
  return out.join('');
}

/**
 * Applies all changes of one ItemChange atomically: on a copy first, so a bad field leaves the
 * item untouched, then one ChangeKey and one sync-log entry for the whole change.
 */
function applyUpdates(ctx: OpContext, ref: ItemRef, updates: El[]): void {
  const item = ref.item;
  if (ref.occurrence) {
    const existing = item.exceptions.get(ref.occurrence.originalStart);
    // An occurrence keeps its id when it becomes an exception, as in Exchange.
    const exception: OccurrenceException = existing
      ? { ...existing, fields: new Map(existing.fields) }
      : {
          id: occurrenceId(item.id, ref.occurrence.originalStart),
          changeKey: '',
          originalStart: ref.occurrence.originalStart,
          fields: new Map(),
          modified: ctx.store.clock.now(),
        };
    for (const u of updates) applyItemChange(u, { kind: item.kind, fields: exception.fields, item, exception }, ctx.contextTz);
    const s = exception.fields.get('Start')?.text;
    const e = exception.fields.get('End')?.text;
    if (s && e && Date.parse(e) < Date.parse(s)) throw new ItemWriteError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
    if (exception.fields.has('Start') || exception.fields.has('IsAllDayEvent')) {
      // Snap with the occurrence's own times filled in from the series.
      const merged = new Map([...item.fields, ...exception.fields]);
      if (!exception.fields.has('Start')) merged.set('Start', { name: 'Start', attrs: {}, children: [], text: isoUtc(ref.occurrence.start) });
      if (!exception.fields.has('End')) merged.set('End', { name: 'End', attrs: {}, children: [], text: isoUtc(ref.occurrence.end) });
      snapAllDay(merged, item.startTimeZone, item.endTimeZone);
      if ((merged.get('IsAllDayEvent')?.text ?? '') === 'true') {
        exception.fields.set('Start', merged.get('Start')!);
        exception.fields.set('End', merged.get('End')!);
      }
    }
    exception.changeKey = newChangeKey('CalendarItem');
    exception.modified = ctx.store.clock.now();
    item.exceptions.set(exception.originalStart, exception);
    ctx.store.touch(ctx.mb, item);
    return;
  }
  const fields = new Map(item.fields);
  const snapshot = {
    extended: new Map(item.extended),
    recurrence: item.recurrence,
    startTimeZone: item.startTimeZone,
    endTimeZone: item.endTimeZone,
    exceptions: new Map(item.exceptions),
    deleted: new Set(item.deletedOccurrences),
  };
  try {
    for (const u of updates) applyItemChange(u, { kind: item.kind, fields, item }, ctx.contextTz);
    if (item.kind === 'CalendarItem') {
      const s = fields.get('Start')?.text;
      const e = fields.get('End')?.text;
      if (s && e && Date.parse(e) < Date.parse(s)) throw new ItemWriteError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
      snapAllDay(fields, item.startTimeZone, item.endTimeZone);
      // Moving a series drops its exceptions, as Outlook and Exchange do.
      if (item.recurrence && fields.get('Start')?.text !== item.fields.get('Start')?.text) {
        item.exceptions.clear();
        item.deletedOccurrences.clear();
      }
    }
  } catch (err) {
    item.extended = snapshot.extended;
    item.recurrence = snapshot.recurrence;
    item.startTimeZone = snapshot.startTimeZone;
    item.endTimeZone = snapshot.endTimeZone;
    item.exceptions = snapshot.exceptions;
    item.deletedOccurrences = snapshot.deleted;
    throw err;
  }
  item.fields = fields;
  ctx.store.touch(ctx.mb, item);
}

const DELETE_TYPES = new Set(['HardDelete', 'SoftDelete', 'MoveToDeletedItems']);

export function deleteItem(ctx: OpContext): string {
  const op = 'DeleteItem';
  const req = ctx.request;
  const type = req.attrs.DeleteType;
  if (!type || !DELETE_TYPES.has(type)) {
    throw new RequestFault('ErrorSchemaValidation', "The request failed schema validation: The required attribute 'DeleteType' is missing.");
  }
  const out: string[] = [responseOpen(op)];
  for (const idEl of child(req, 'ItemIds')?.children ?? []) {
    try {
      ctx.throwIfBusy();
      const ref = resolveItem(ctx, idEl);
      if (ref.item.kind === 'CalendarItem' && req.attrs.SendMeetingCancellations === undefined) {
        throw new ItemError('ErrorSendMeetingCancellationsRequired');
      }
      if (ref.occurrence) {
        ref.item.exceptions.delete(ref.occurrence.originalStart);
        ref.item.deletedOccurrences.add(ref.occurrence.originalStart);
        ctx.store.touch(ctx.mb, ref.item);
      } else if (type === 'MoveToDeletedItems' && ctx.mb.folders.get(ref.item.folderId)?.distinguishedId !== 'deleteditems') {
        ctx.store.moveItem(ctx.mb, ref.item, ctx.store.folder(ctx.mb, 'deleteditems'));
      } else {
        // HardDelete, SoftDelete (to the hidden recoverable items) and deleting from Deleted Items.
        ctx.store.deleteItem(ctx.mb, ref.item);
      }
      out.push(successOpen(op), successClose(op));
    } catch (e) {
      out.push(itemFailure(op, e));
    }
  }
  out.push(responseClose(op));
  return out.join('');
}
