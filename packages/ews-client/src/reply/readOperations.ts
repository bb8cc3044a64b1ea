/**
 * The hot read operations on the one-pass reader: each answer is parsed once (xmlTree) and read
 * straight into what the engine sees. `post` sends a request body through the session's guarded
 * transport (EwsTransport: token, endpoint policy, size limits, SOAP faults and HTTP errors typed
 * there) and returns the SOAP 200 text.
 */
import type { Appointment, ChangePage, Contact, FolderName, ItemKind, ItemResult } from '@exsync/canonical';
import { EwsError } from '../errors';
import { identityOf, lastModifiedOf, tagOf } from './itemFields';
import { readAppointment, readException, modifiedOccurrenceRefs, type ExceptionFields } from './readAppointment';
import { contactNeedsMailboxTimeZone, readContact } from './readContact';
import { readSyncPage } from './readSyncChanges';
import { APPOINTMENT_SHAPE, CONTACT_SHAPE, OCCURRENCE_SHAPE, getItemBody, syncFolderItemsBody } from './requests';
import { itemOf, responseMessages } from './responseMessages';
import type { XNode } from './xmlTree';

export type Post = (body: string) => Promise<string>;

/** One SyncFolderItems page; throws the classified error of an error answer (ErrorInvalidSyncStateData: SyncStateInvalid). */
export async function syncFolderPage(post: Post, folder: FolderName, syncState: string | undefined, max: number): Promise<ChangePage> {
  const [first] = responseMessages(await post(syncFolderItemsBody(folder, syncState, max)), 'SyncFolderItems');
  if (!first) throw new EwsError('Permanent', "Exchange's SyncFolderItems answer held no response message", { code: 'ResponseNotUnderstood', httpStatus: 200 });
  if (!first.ok) throw first.error;
  return readSyncPage(first.message, folder);
}

/**
 * One GetItem batch: the item element per id, in order, or its error. A batch Exchange answers
 * with one error message for several ids fails as a whole with that error (thrown), as on the
 * library path; ids without any message get a Transient MissingResponse.
 */
export async function getItemBatch(post: Post, shape: string, ids: { id: string; changeKey?: string }[]): Promise<ItemResult<XNode>[]> {
  const messages = responseMessages(await post(getItemBody(shape, ids)), 'GetItem');
  if (messages.length < ids.length && messages.length === 1 && !messages[0].ok) throw messages[0].error;
  return ids.map((_, i): ItemResult<XNode> => {
    const m = messages[i];
    if (!m)
      return { ok: false, error: new EwsError('Transient', 'Exchange sent fewer response messages than items in the batch', { code: 'MissingResponse' }) };
    if (!m.ok) return { ok: false, error: m.error };
    const item = itemOf(m.message);
    return item
      ? { ok: true, value: item }
      : { ok: false, error: new EwsError('Permanent', 'A GetItem answer held no item', { code: 'ResponseNotUnderstood', httpStatus: 200 }) };
  });
}

export const SHAPE_OF_KIND: Record<ItemKind, string> = { appointment: APPOINTMENT_SHAPE, contact: CONTACT_SHAPE };

/** Exception items per GetItem: small items, but a request may run one minute at most (EWS-NOTES). */
export const OCCURRENCE_BATCH = 100;

/**
 * The exception items of these masters' modified occurrences, per master. `runBatches` sends the
 * batches (the session runs them a few at a time). An exception that vanished meanwhile is not
 * overridden; its times still come from the master.
 */
export async function loadExceptions(
  masters: XNode[],
  runBatches: (
    batches: { id: string; changeKey?: string }[][],
    run: (b: { id: string; changeKey?: string }[]) => Promise<ItemResult<XNode>[]>,
  ) => Promise<ItemResult<XNode>[][]>,
  post: Post,
): Promise<Map<XNode, ExceptionFields[]>> {
  const refs = masters.flatMap((m) => modifiedOccurrenceRefs(m).map((ref) => ({ master: m, ref })));
  const out = new Map<XNode, ExceptionFields[]>(masters.map((m) => [m, []]));
  const batches: (typeof refs)[] = [];
  for (let i = 0; i < refs.length; i += OCCURRENCE_BATCH) batches.push(refs.slice(i, i + OCCURRENCE_BATCH));
  const answers = await runBatches(
    batches.map((b) => b.map((x) => x.ref)),
    (b) => getItemBatch(post, OCCURRENCE_SHAPE, b),
  );
  batches.forEach((batch, i) =>
    answers[i].forEach((r, j) => {
      const ex = r.ok ? readException(r.value) : undefined;
      if (ex) out.get(batch[j].master)!.push(ex);
    }),
  );
  return out;
}

export interface ReadItem<T> {
  itemId: string;
  changeKey: string;
  tag?: string;
  lastModified?: string;
  item: T;
}

/** The FetchedItem of one loaded item element; throws (a mapping failure) when it cannot be read. */
export function readItem(kind: ItemKind, item: XNode, context: { exceptions?: ExceptionFields[]; mailboxTimeZone?: string }): ReadItem<Appointment | Contact> {
  const identity = identityOf(item);
  if (!identity) throw new Error('the item has no ItemId');
  const value = kind === 'appointment' ? readAppointment(item, context.exceptions) : readContact(item, context.mailboxTimeZone);
  return { ...identity, tag: tagOf(item), lastModified: lastModifiedOf(item), item: value };
}

export { contactNeedsMailboxTimeZone };
