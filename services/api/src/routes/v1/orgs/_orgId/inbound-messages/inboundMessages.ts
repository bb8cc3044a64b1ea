/**
 * The CRM's inbound-message feed (CONTRACT.md `.../inbound-messages`): messages in the order the
 * monitor read them, attachments on request, and the CRM's "failed" verdict (forward + failed
 * folder, done by the worker that holds the mailbox's IMAP session).
 */
import { getInboundMessage, getInboundRaw, getMonitorSettings, listInboundMessages, requestInboundFail, type InboundMessage } from '@exsync/db';
import { extractAttachment } from '@exsync/mailbox-monitor';
import type { ResolvedDeps } from '../../../../../app';
import { feedCursors } from '../../../../../changeCursor';
import { HttpError, notFound } from '../../../../../httpError';

/** A message as the feed shows it: its opaque cursor, attachments listed with their index. */
function feedItem(m: InboundMessage, cursor: (seq: string) => string) {
  return { ...m, cursor: cursor(m.cursor), attachments: m.attachments.map((a, index) => ({ index, ...a })) };
}

/**
 * The messages after `after` (none: from the start), at most `limit`; an empty page returns the same
 * cursor. Cursors are opaque per organisation (changeCursor.ts): the position behind them is one
 * sequence for every organisation, which a plain number would show. 400 naming `after` for a
 * cursor of another organisation or feed.
 */
export async function readInboundPage(deps: ResolvedDeps, orgId: string, after: string | undefined, limit: number) {
  const cursors = feedCursors(deps.config, orgId, 'inbound-messages');
  const rows = await listInboundMessages(deps.pool, orgId, cursors.position(after), limit);
  return {
    messages: rows.map((m) => feedItem(m, cursors.cursor)),
    next: rows.length ? cursors.cursor(rows[rows.length - 1].cursor) : (after ?? null),
  };
}

/** One message as the feed shows it; 404 for an unknown id or another organisation's. */
export async function readInboundMessage(deps: ResolvedDeps, orgId: string, id: string) {
  const m = await getInboundMessage(deps.pool, orgId, id);
  if (!m) throw notFound('inbound message not found');
  return feedItem(m, feedCursors(deps.config, orgId, 'inbound-messages').cursor);
}

/** One attachment's bytes and the headers that serve it as a download (never rendered by the browser). */
export async function readAttachment(deps: ResolvedDeps, orgId: string, id: string, index: number) {
  const raw = await getInboundRaw(deps.pool, orgId, id);
  if (!raw) throw notFound('inbound message not found');
  const a = await extractAttachment(raw, index);
  if (!a) throw notFound(`the message has no attachment ${index}`);
  const name = (a.filename ?? `attachment-${index}`).replace(/["\\\r\n]/g, '_');
  return {
    content: a.content,
    headers: {
      'content-type': a.contentType,
      'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      'x-content-type-options': 'nosniff',
    },
  };
}

/** Asks for the message to be forwarded and moved to the failed folder; 409 naming forwardFailedTo when there is nowhere to forward it. */
export async function failInboundMessage(deps: ResolvedDeps, orgId: string, id: string, reason: string) {
  const settings = await getMonitorSettings(deps.pool, deps.secretBox, orgId);
  if (!settings?.forwardFailedTo) {
    throw new HttpError(409, 'set forwardFailedTo in PUT /v1/orgs/:orgId/mailbox-monitor before marking messages failed', 'forwardFailedTo');
  }
  const state = await requestInboundFail(deps.pool, orgId, id, reason);
  if (!state) throw notFound('inbound message not found');
  return { id, state };
}
