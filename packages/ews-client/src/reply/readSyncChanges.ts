/**
 * A SyncFolderItems response message as the engine's ChangePage: creates and updates with their
 * ids, ChangeKeys, LastModifiedTime and our tag, deletes by id, in document order; read-flag
 * changes and contact groups (ItemClass IPM.DistList) are left out, as on the library path.
 * https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitemsresponsemessage
 */
import type { ChangePage, FolderChange, FolderName } from '@exsync/canonical';
import { EwsError } from '../errors';
import { booleanOf, identityOf, lastModifiedOf, tagOf } from './itemFields';
import { child, childText, type XNode } from './xmlTree';

function changeOf(node: XNode, folder: FolderName): FolderChange | undefined {
  if (node.name === 'Delete') {
    const id = child(node, 'ItemId')?.attrs.Id;
    return id === undefined ? undefined : { type: 'delete', itemId: id };
  }
  if (node.name !== 'Create' && node.name !== 'Update') return undefined; // ReadFlagChange: nothing we sync
  const item = node.children[0];
  const identity = item && identityOf(item);
  if (!identity) return undefined;
  if (folder === 'contacts' && (childText(item, 'ItemClass') ?? '').startsWith('IPM.DistList')) return undefined;
  return {
    type: node.name === 'Create' ? 'create' : 'update',
    itemId: identity.itemId,
    changeKey: identity.changeKey,
    tag: tagOf(item),
    lastModified: lastModifiedOf(item),
  };
}

/** The page of a successful SyncFolderItemsResponseMessage; an empty SyncState is SyncStateInvalid (start over). */
export function readSyncPage(message: XNode, folder: FolderName): ChangePage {
  const syncState = (childText(message, 'SyncState') ?? '').trim();
  if (!syncState) {
    throw new EwsError('SyncStateInvalid', 'Exchange answered SyncFolderItems without a sync state', { code: 'ErrorInvalidSyncStateData' });
  }
  const changes: FolderChange[] = [];
  for (const c of child(message, 'Changes')?.children ?? []) {
    const change = changeOf(c, folder);
    if (change) changes.push(change);
  }
  return { changes, syncState, moreAvailable: booleanOf(childText(message, 'IncludesLastItemInRange')) !== true };
}
