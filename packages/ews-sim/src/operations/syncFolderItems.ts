import { parseShape, renderItem, ShapeError, type Shape } from '../itemView';
import type { ChangeType, Folder } from '../store';
import { backOffXml, errorMessage, responseClose, responseOpen, successClose, successOpen } from '../soap';
import { child, childText } from '../xml';
import { ItemError, RequestFault, resolveFolder, type OpContext } from './context';

/** SyncState: opaque to clients, here base64 of the folder id and a change-log position. */
export function encodeSyncState(folder: Folder, position: number): string {
  return Buffer.from(JSON.stringify({ v: 1, f: folder.id, p: position }), 'utf8').toString('base64');
}

export function decodeSyncState(state: string, folder: Folder): number | undefined {
  try {
    const raw = JSON.parse(Buffer.from(state, 'base64').toString('utf8')) as { v?: unknown; f?: unknown; p?: unknown };
    if (raw.v !== 1 || raw.f !== folder.id || typeof raw.p !== 'number' || !Number.isInteger(raw.p)) return undefined;
    if (raw.p < 0 || raw.p > folder.log.length) return undefined;
    return raw.p;
  } catch {
    return undefined;
  }
}

interface Collapsed {
  itemId: string;
  change: ChangeType;
  changeKey: string;
  /** true when the item was created after the client's state: a later delete cancels it out. */
  createdInWindow: boolean;
}

/**
 * Walks the log from `from`, collapsing several changes of one item into its latest, until
 * `max` distinct items are collected. Returns the changes and the position reached.
 */
export function collectChanges(folder: Folder, from: number, max: number, ignore: Set<string>): { changes: Collapsed[]; position: number } {
  const byItem = new Map<string, Collapsed>();
  let pos = from;
  const log = folder.log;
  for (; pos < log.length; pos++) {
    const entry = log[pos];
    if (ignore.has(entry.itemId)) continue;
    const seen = byItem.get(entry.itemId);
    if (!seen) {
      if (byItem.size >= max) break;
      byItem.set(entry.itemId, {
        itemId: entry.itemId,
        change: entry.change,
        changeKey: entry.changeKey,
        createdInWindow: entry.change === 'Create',
      });
      continue;
    }
    seen.changeKey = entry.changeKey;
    if (entry.change === 'Delete') seen.change = 'Delete';
    else if (entry.change === 'Create') {
      seen.change = 'Create';
      seen.createdInWindow = true;
    } else if (seen.change === 'ReadFlagChange' || (seen.change === 'Delete' && entry.change === 'Update')) {
      seen.change = entry.change;
    }
  }
  const changes = [...byItem.values()].filter((c) => !(c.change === 'Delete' && c.createdInWindow));
  return { changes, position: pos };
}

export function syncFolderItems(ctx: OpContext): string {
  const op = 'SyncFolderItems';
  const req = ctx.request;
  const max = Number(childText(req, 'MaxChangesReturned'));
  if (!Number.isInteger(max) || max < 1 || max > 512) {
    throw new RequestFault('ErrorSchemaValidation', 'The request failed schema validation: MaxChangesReturned must be between 1 and 512.');
  }
  const out: string[] = [responseOpen(op)];
  const errorTrailer = '<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>';
  try {
    let shape: Shape;
    try {
      shape = parseShape(child(req, 'ItemShape'));
    } catch (e) {
      if (e instanceof ShapeError) throw new RequestFault(e.code, e.message);
      throw e;
    }
    const folderIdEl = child(req, 'SyncFolderId')?.children[0];
    if (!folderIdEl) throw new RequestFault('ErrorSchemaValidation', 'The request failed schema validation: SyncFolderId is required.');
    const folder = resolveFolder(ctx, folderIdEl);
    const stateText = (childText(req, 'SyncState') ?? '').trim();
    let from = 0;
    if (stateText) {
      const p = decodeSyncState(stateText, folder);
      if (p === undefined) throw new ItemError('ErrorInvalidSyncStateData');
      from = p;
    }
    if (ctx.syncCallsExceeded) {
      throw new ItemError(
        'ErrorServerBusy',
        "The server cannot service this request right now. Try again later., This operation exceeds the throttling budget for policy part 'ConcurrentSyncCalls', policy value '5',  Budget type: 'Ews'.  Suggested backoff time 5000 ms.",
        backOffXml(5000),
      );
    }
    ctx.throwIfBusy();
    const ignore = new Set((child(req, 'Ignore')?.children ?? []).map((e) => e.attrs.Id ?? ''));
    const { changes, position } = collectChanges(folder, from, max, ignore);
    const includesLast = position >= folder.log.length;
    out.push(
      successOpen(op),
      `<m:SyncState>${encodeSyncState(folder, position)}</m:SyncState>`,
      `<m:IncludesLastItemInRange>${includesLast}</m:IncludesLastItemInRange>`,
      '<m:Changes>',
    );
    for (const c of changes) {
      const item = ctx.mb.items.get(c.itemId);
      if (c.change === 'Delete' || !item || item.folderId !== folder.id) {
        out.push(`<t:Delete><t:ItemId Id="${c.itemId}" ChangeKey="${c.changeKey}"/></t:Delete>`);
      } else if (c.change === 'ReadFlagChange') {
        out.push(`<t:ReadFlagChange><t:ItemId Id="${item.id}" ChangeKey="${item.changeKey}"/><t:IsRead>${item.isRead}</t:IsRead></t:ReadFlagChange>`);
      } else {
        out.push(`<t:${c.change}>`);
        renderItem(ctx.mb, { item }, shape, 'sync', out);
        out.push(`</t:${c.change}>`);
      }
    }
    out.push('</m:Changes>', successClose(op));
  } catch (e) {
    if (!(e instanceof ItemError)) throw e;
    out.push(errorMessage(op, { code: e.code, text: e.message === e.code ? undefined : e.message, messageXml: e.messageXml }, errorTrailer));
  }
  out.push(responseClose(op));
  return out.join('');
}
