/**
 * Per-item failures of a sync run (issue 12: one item never stops the others): how each kind of
 * failure is described, and how it is recorded on the item's link (packages/db
 * itemErrorRepository) so the run goes on without the item until its back-off ends or it changes.
 * Codes: `InvalidItem` (cannot be mapped: fix it in the CRM), Exchange's response code (Exchange
 * refused or could not read it), `StorageRefused` (Postgres refused Exchange's data).
 */
import type { Appointment, Contact, CrmItemRow, ItemFailure, ItemKind, LinkRow, MailboxError, SyncStoreSession, UnreadableItem } from '@exsync/canonical';
import { MEETING_DELETE_REFUSED, SyncError, adminMessage, isMeetingDeleteRefusal } from '@exsync/canonical';
import { syncedContent } from './syncedContent';
import type { SyncRun } from './syncTypes';

type Item = Appointment | Contact;

/** The synced content of a CRM item, or why it cannot be synced (an instant or zone the engine refuses). */
export function contentOf(kind: ItemKind, item: Item): { ok: true; value: Item } | { ok: false; message: string } {
  try {
    return { ok: true, value: syncedContent(kind, item) };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** A CRM item the engine cannot turn into an Exchange item (bad data from before the API's checks). */
export function unmappable(row: CrmItemRow, message: string): ItemFailure {
  return {
    crmId: row.crmId,
    crmVersion: row.version,
    kind: 'mapping',
    code: 'InvalidItem',
    message: `The item cannot be synced: ${message}. Correct it in the CRM.`,
  };
}

/** A per-item refusal from the mailbox (or the mapper behind the port) for the CRM item at `crmVersion`. */
export function refused(kind: ItemKind, crmId: string, crmVersion: number, e: MailboxError): ItemFailure {
  if (e.code === 'MappingFailed') {
    return {
      crmId,
      crmVersion,
      kind: 'mapping',
      code: 'InvalidItem',
      message: `The item cannot be synced: ${e.message.replace(/^Item could not be mapped: /, '')}. Correct it in the CRM.`,
    };
  }
  if (isMeetingDeleteRefusal(e))
    return {
      crmId,
      crmVersion,
      kind: 'exchange',
      code: MEETING_DELETE_REFUSED,
      message: adminMessage(new SyncError(e.kind, e.message, { code: e.code, scope: 'item' })).message,
    };
  const code = e.code ?? e.kind;
  return {
    crmId,
    crmVersion,
    kind: 'exchange',
    code,
    message: `Exchange refused the ${kind} (${code}); it is tried again after a back-off, or at once when the CRM item changes.`,
  };
}

/** Records per-item failures so the run goes on without them. */
export async function recordFailures(ctx: SyncRun, q: SyncStoreSession, failures: ItemFailure[]): Promise<void> {
  if (failures.length === 0) return;
  ctx.log?.warn(
    { mailboxId: ctx.mailboxId, kind: ctx.kind, failing: failures.map((f) => ({ crmId: f.crmId, code: f.code })) },
    'items failed; the run goes on without them',
  );
  await q.recordItemFailures(failures, ctx.itemBackoff);
}

/** The code and message of an Exchange item that could not be read (a per-item error, or the mapper failed on it). */
function readFailure(kind: ItemKind, itemId: string | null, error: MailboxError): { kind: 'mapping' | 'exchange'; code: string; message: string } {
  const mapping = error.code === 'MappingFailed';
  const code = mapping ? 'InvalidItem' : (error.code ?? error.kind);
  const cause = mapping ? 'could not be turned into a CRM item' : `could not be read from Exchange (${code})`;
  const which = itemId ? `The ${kind} with Exchange id ${itemId} (not in the CRM yet)` : 'The item';
  return {
    kind: mapping ? 'mapping' : 'exchange',
    code,
    message:
      `${which} ${cause}. Open it in Outlook and correct or delete it; ` +
      'exsync reads it again after a back-off (5 minutes, doubling) and as soon as it changes in Exchange.',
  };
}

/** A linked Exchange item that Exchange answered with a per-item error when it was read. */
export function unreadableItem(link: LinkRow, error: MailboxError): ItemFailure {
  return { crmId: link.crmId, crmVersion: link.crmVersion, ...readFailure(link.kind, null, error) };
}

/**
 * The record of an Exchange item that could not be read (linked or new), which keeps it on the
 * mailbox's status and has it read again after a back-off; a new item is named by its Exchange id.
 */
export function unreadableRecord(kind: ItemKind, itemId: string, link: LinkRow | undefined, error: MailboxError): UnreadableItem {
  return { itemId, crmId: link?.crmId ?? null, ...readFailure(kind, link ? null : itemId, error) };
}

/** A linked Exchange item whose data Postgres refused (SQLSTATE `sqlState`). */
export function storageRefused(link: LinkRow, sqlState: string | undefined): ItemFailure {
  return {
    crmId: link.crmId,
    crmVersion: link.crmVersion,
    kind: 'postgres',
    code: 'StorageRefused',
    message: `Postgres refused the item from Exchange (SQLSTATE ${sqlState}); it is read again when it changes in Exchange.`,
  };
}

/**
 * True for a Postgres refusal of the data itself (SQLSTATE class 22, data exception, e.g. text
 * it cannot store; class 54, a program limit), as opposed to a connection or server failure.
 */
export function isDataRefusal(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}
