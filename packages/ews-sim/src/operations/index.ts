import type { OpContext } from './context';
import { findItem } from './findItem';
import { findFolder, getFolder } from './folders';
import { getItem } from './getItem';
import { convertId, getServerTimeZones, getUserConfiguration, resolveNames } from './directory';
import { syncFolderItems } from './syncFolderItems';
import { createItem, deleteItem, updateItem } from './writeItems';

export type Operation = (ctx: OpContext) => string;

/** Dispatch table: the first element inside soap:Body names the operation (there is no SOAPAction). */
export const OPERATIONS: Record<string, Operation> = {
  GetFolder: getFolder,
  FindFolder: findFolder,
  SyncFolderItems: syncFolderItems,
  GetItem: getItem,
  CreateItem: createItem,
  UpdateItem: updateItem,
  DeleteItem: deleteItem,
  FindItem: findItem,
  ResolveNames: resolveNames,
  GetServerTimeZones: getServerTimeZones,
  ConvertId: convertId,
  GetUserConfiguration: getUserConfiguration,
};
