import { isMalformedId, parseOccurrenceId } from '../ids';
import { occurrenceAt, occurrenceByIndex, type ItemRef } from '../itemView';
import type { Folder, Mailbox, MailboxStore, StoredItem } from '../store';
import type { TimeZoneDef } from '../timeZones';
import { child, childText, type El } from '../xml';

/** What an operation handler gets: the target mailbox, the operation element and header context. */
export interface OpContext {
  store: MailboxStore;
  mb: Mailbox;
  request: El;
  contextTz: TimeZoneDef | undefined;
  /** Throws a per-item ErrorServerBusy (with BackOffMilliseconds) when the fault dice say so. */
  throwIfBusy: () => void;
  /**
   * Throws the per-item refusal set for this mailbox (faults.ts, ItemRefusal) when an item's texts
   * match one; `texts` is called only when the mailbox has refusals set.
   */
  throwIfRefused: (texts: () => string[]) => void;
  /** More than Exchange's 5 concurrent SyncFolderItems calls are in flight for this mailbox. */
  syncCallsExceeded: boolean;
}

/** The text of every element under the given ones (what a per-item refusal matches against). */
export function fieldTexts(els: Iterable<El>): string[] {
  const out: string[] = [];
  const walk = (e: El) => {
    if (e.text) out.push(e.text);
    e.children.forEach(walk);
  };
  for (const e of els) walk(e);
  return out;
}

/** A per-item failure: becomes `ResponseClass="Error"` in an HTTP 200 answer. */
export class ItemError extends Error {
  constructor(
    readonly code: string,
    message?: string,
    readonly messageXml?: string,
  ) {
    super(message ?? code);
  }
}

/** A failure of the whole request: becomes a SOAP fault (HTTP 500). */
export class RequestFault extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** FolderId or DistinguishedFolderId (optionally naming the mailbox, which must be the caller's). */
export function resolveFolder(ctx: OpContext, e: El): Folder {
  if (e.name === 'DistinguishedFolderId') {
    const mbEmail = childText(child(e, 'Mailbox'), 'EmailAddress');
    if (mbEmail && mbEmail.trim().toLowerCase() !== ctx.mb.email) {
      if (!ctx.store.getMailbox(mbEmail)) throw new ItemError('ErrorNonExistentMailbox', `The SMTP address has no mailbox associated with it.`);
      throw new ItemError('ErrorAccessDenied');
    }
    const f = ctx.mb.byDistinguished.get(e.attrs.Id ?? '');
    if (!f) throw new ItemError('ErrorFolderNotFound');
    return f;
  }
  if (e.name === 'FolderId') {
    const id = e.attrs.Id ?? '';
    if (isMalformedId(id)) throw new ItemError('ErrorInvalidIdMalformed');
    const f = ctx.mb.folders.get(id);
    if (!f) throw new ItemError('ErrorFolderNotFound');
    return f;
  }
  throw new ItemError('ErrorInvalidRequest', `unexpected ${e.name}`);
}

export function storedItem(ctx: OpContext, id: string): StoredItem {
  if (isMalformedId(id)) throw new ItemError('ErrorInvalidIdMalformed');
  const item = ctx.mb.items.get(id);
  if (!item) throw new ItemError('ErrorItemNotFound');
  return item;
}

/** Finds an exception of any series in the mailbox by its own id. */
function findException(ctx: OpContext, id: string): ItemRef | undefined {
  for (const item of ctx.mb.items.values()) {
    if (item.exceptions.size === 0) continue;
    for (const ex of item.exceptions.values()) {
      if (ex.id === id) return { item, occurrence: occurrenceAt(item, ex.originalStart) };
    }
  }
  return undefined;
}

/**
 * ItemId (a stored item, an occurrence or an exception), OccurrenceItemId (series + index) or
 * RecurringMasterItemId (the series of an occurrence).
 */
export function resolveItem(ctx: OpContext, e: El): ItemRef {
  switch (e.name) {
    case 'ItemId': {
      const id = (e.attrs.Id ?? '').trim();
      const occ = parseOccurrenceId(id);
      if (occ) {
        const item = storedItem(ctx, occ.masterId);
        const exception = item.exceptions.get(occ.originalStart);
        const o = occurrenceAt(item, occ.originalStart);
        if (!o) throw new ItemError('ErrorItemNotFound');
        return { item, occurrence: { ...o, exception } };
      }
      if (!isMalformedId(id) && !ctx.mb.items.has(id)) {
        const ex = findException(ctx, id);
        if (ex?.occurrence) return ex;
      }
      return { item: storedItem(ctx, id) };
    }
    case 'OccurrenceItemId': {
      const item = storedItem(ctx, e.attrs.RecurringMasterId ?? '');
      if (!item.recurrence) throw new ItemError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange');
      const o = occurrenceByIndex(item, Number(e.attrs.InstanceIndex));
      if (!o) throw new ItemError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange');
      return { item, occurrence: o };
    }
    case 'RecurringMasterItemId': {
      const ref = resolveItem(ctx, { ...e, name: 'ItemId', attrs: { Id: e.attrs.OccurrenceId ?? '' } });
      return { item: ref.item };
    }
    default:
      throw new ItemError('ErrorInvalidRequest', `unexpected ${e.name}`);
  }
}
