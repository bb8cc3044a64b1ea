/**
 * CRM items (CONTRACT.md, "CRM items API"): the CRM creates, replaces, deletes and reads
 * appointments and contacts per user. Every write bumps the item's version and marks it CRM-made,
 * so the engine pushes it to the user's mailbox; items Exchange created are listed with
 * engine-minted crm ids.
 */
import type { FastifyBaseLogger } from 'fastify';
import { findWindowsZone } from '@exsync/calendar';
import {
  InvalidEmailError,
  keepEmailSlots,
  parseEmails,
  parseInstant,
  type Appointment,
  type Contact,
  type EmailInput,
  type ItemKind,
} from '@exsync/canonical';
import { getCrmItem, getMailboxByUser, getUser, listCrmItems, putCrmItem, tombstoneCrmItem, type CrmItemRow } from '@exsync/db';
import type { ResolvedDeps } from '../../../../../../app';
import { badRequest, notFound } from '../../../../../../httpError';
import { requestSyncSoon } from '../../../../../../requestSyncSoon';

/** Where a route folder's items are: the user, the kind, and the kind's name in messages. */
export interface ItemScope {
  orgId: string;
  userId: string;
  kind: ItemKind;
  label: string;
}

/** An item as the API answers it. */
export function present(row: CrmItemRow) {
  return { crmId: row.crmId, version: row.version, origin: row.origin, updatedAt: row.updatedAt, item: row.data };
}

/**
 * Checks what JSON schema cannot say, and brings contact emails to their canonical entries
 * (`"Jane Doe <jane@x.test>"` -> `{name, address}`; an address the stored item already has keeps
 * its slot and display name, see keepEmailSlots); a bad entry is a 400 naming it.
 */
function checkItem(kind: ItemKind, item: Appointment | Contact, stored: CrmItemRow | null): void {
  if (kind === 'contact') {
    const c = item as Contact;
    const previous = stored && !stored.deleted ? (stored.data as Contact | null)?.emails : undefined;
    try {
      c.emails = keepEmailSlots(parseEmails(c.emails as EmailInput[]), previous);
    } catch (e) {
      if (e instanceof InvalidEmailError) throw badRequest(`body field "emails.${e.index}" ${e.message}`, `emails.${e.index}`);
      throw e;
    }
    return;
  }
  const a = item as Appointment;
  if ((parseInstant(a.end) ?? 0) < (parseInstant(a.start) ?? 0)) throw badRequest('body field "end" must not be before "start"', 'end');
  // Exchange speaks Windows zones: a zone with none could be stored but never synced.
  if (!findWindowsZone(a.timeZone)) {
    throw badRequest(`body field "timeZone" is not an IANA time zone Exchange knows (no Windows time zone): ${a.timeZone}`, 'timeZone');
  }
}

async function requireUser(deps: ResolvedDeps, { orgId, userId }: ItemScope): Promise<void> {
  if (!(await getUser(deps.pool, orgId, userId))) throw notFound('user not found');
}

/** A CRM write wants the mailbox synced soon; the scheduler would find it anyway, so failure only delays. */
async function nudgeSync(deps: ResolvedDeps, log: FastifyBaseLogger, { orgId, userId }: ItemScope): Promise<void> {
  if (!deps.enqueueSync) return;
  const mailbox = await getMailboxByUser(deps.pool, orgId, userId);
  if (!mailbox || !mailbox.status.enabled) return;
  await requestSyncSoon(deps.enqueueSync, log, mailbox.id, 'crm-change');
}

/** Creates or replaces an item; `created` is true when there was none (or only a tombstone). */
export async function putItem(deps: ResolvedDeps, log: FastifyBaseLogger, scope: ItemScope, crmId: string, item: Appointment | Contact) {
  await requireUser(deps, scope);
  const before = await getCrmItem(deps.pool, scope.userId, scope.kind, crmId);
  checkItem(scope.kind, item, before);
  const { row } = await putCrmItem(deps.pool, { orgId: scope.orgId, userId: scope.userId, kind: scope.kind, crmId, data: item, origin: 'crm' });
  await nudgeSync(deps, log, scope);
  return { created: !before || before.deleted, item: present(row) };
}

/** Deletes an item, leaving a tombstone so the delete reaches Exchange; 404 when there is no such live item. */
export async function deleteItem(deps: ResolvedDeps, log: FastifyBaseLogger, scope: ItemScope, crmId: string) {
  await requireUser(deps, scope);
  const row = await tombstoneCrmItem(deps.pool, { userId: scope.userId, kind: scope.kind, crmId, origin: 'crm' });
  if (!row) throw notFound(`${scope.label} not found`);
  await nudgeSync(deps, log, scope);
  return { crmId: row.crmId, version: row.version, deleted: true };
}

/** One live item as the engine holds it. */
export async function readItem(deps: ResolvedDeps, scope: ItemScope, crmId: string) {
  await requireUser(deps, scope);
  const row = await getCrmItem(deps.pool, scope.userId, scope.kind, crmId);
  if (!row || row.deleted || row.orgId !== scope.orgId) throw notFound(`${scope.label} not found`);
  return present(row);
}

/** A page of live items in crmId order; `next` is null on the last page. */
export async function listItems(deps: ResolvedDeps, scope: ItemScope, page: { limit: number; after?: string }) {
  await requireUser(deps, scope);
  const rows = await listCrmItems(deps.pool, scope.userId, scope.kind, { afterCrmId: page.after, limit: page.limit });
  return { items: rows.map(present), next: rows.length === page.limit ? rows[rows.length - 1].crmId : null };
}
