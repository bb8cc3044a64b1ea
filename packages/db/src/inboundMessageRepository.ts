import type pg from 'pg';
import type { Queryable } from './queryable';

export interface InboundAddress {
  name: string;
  address: string;
}

export interface InboundAttachmentMeta {
  filename: string | null;
  contentType: string;
  size: number;
}

/** What the CRM reads in the feed (`GET /v1/orgs/:orgId/inbound-messages`). */
export interface InboundMessage {
  cursor: string;
  id: string;
  mailboxId: string;
  messageId: string | null;
  from: InboundAddress[];
  to: InboundAddress[];
  cc: InboundAddress[];
  subject: string | null;
  date: string | null;
  text: string | null;
  html: string | null;
  attachments: InboundAttachmentMeta[];
  state: InboundMessageState;
  failReason: string | null;
}

export type InboundMessageState = 'stored' | 'processed' | 'fail-requested' | 'forwarded' | 'failed';

export interface NewInboundMessage {
  orgId: string;
  mailboxId: string;
  dedupKey: string;
  messageId: string | null;
  uidValidity: bigint;
  uid: number;
  envelope: { from: InboundAddress[]; to: InboundAddress[]; cc: InboundAddress[]; subject: string | null; date: string | null };
  text: string | null;
  html: string | null;
  attachments: InboundAttachmentMeta[];
  raw: Buffer;
}

type Row = Record<string, any>;

const FEED_COLUMNS = `cursor, id, mailbox_id, message_id, envelope, body_text, body_html, attachments, state, fail_reason`;

function messageFrom(r: Row): InboundMessage {
  const e = r.envelope ?? {};
  return {
    cursor: String(r.cursor),
    id: r.id,
    mailboxId: r.mailbox_id,
    messageId: r.message_id,
    from: e.from ?? [],
    to: e.to ?? [],
    cc: e.cc ?? [],
    subject: e.subject ?? null,
    date: e.date ?? null,
    text: r.body_text,
    html: r.body_html,
    attachments: r.attachments ?? [],
    state: r.state,
    failReason: r.fail_reason,
  };
}

/**
 * Stores one message read at (uidValidity, uid) and moves the mailbox's read position past it, in
 * one transaction, so a crash leaves either both or neither. A message already stored under the
 * same de-duplication key (Message-ID, else SHA-256 of the raw message) is not stored again; its
 * row then records where it was seen last, so the move that follows can find it.
 */
export async function storeInboundMessage(client: pg.PoolClient, m: NewInboundMessage): Promise<{ id: string; inserted: boolean }> {
  const ins = await client.query(
    `INSERT INTO inbound_messages (org_id, mailbox_id, dedup_key, message_id, uid_validity, uid, envelope, body_text, body_html, attachments, raw)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (mailbox_id, dedup_key) DO NOTHING RETURNING id`,
    [
      m.orgId,
      m.mailboxId,
      m.dedupKey,
      m.messageId,
      m.uidValidity.toString(),
      m.uid,
      JSON.stringify(m.envelope),
      m.text,
      m.html,
      JSON.stringify(m.attachments),
      m.raw,
    ],
  );
  let id: string;
  const inserted = ins.rows.length > 0;
  if (inserted) {
    id = ins.rows[0].id;
  } else {
    const seen = await client.query(
      `UPDATE inbound_messages SET uid_validity = $3, uid = $4,
          state = CASE WHEN state = 'processed' THEN 'stored' ELSE state END
        WHERE mailbox_id = $1 AND dedup_key = $2 RETURNING id`,
      [m.mailboxId, m.dedupKey, m.uidValidity.toString(), m.uid],
    );
    id = seen.rows[0].id;
  }
  await client.query(
    `UPDATE monitored_mailboxes SET uid_validity = $2, last_uid = GREATEST(last_uid, $3),
        last_message_at = CASE WHEN $4 THEN now() ELSE last_message_at END
      WHERE id = $1`,
    [m.mailboxId, m.uidValidity.toString(), m.uid, inserted],
  );
  return { id, inserted };
}

/** The stored message at (uidValidity, uid) of a mailbox's monitored folder, if any. */
export async function findInboundByUid(
  db: Queryable,
  mailboxId: string,
  uidValidity: bigint,
  uid: number,
): Promise<{ id: string; state: InboundMessageState } | null> {
  const { rows } = await db.query(`SELECT id, state FROM inbound_messages WHERE mailbox_id = $1 AND uid_validity = $2 AND uid = $3`, [
    mailboxId,
    uidValidity.toString(),
    uid,
  ]);
  return rows[0] ?? null;
}

/** After the move: where the message now sits in the processed folder (its UID there, when the server said). */
export async function markInboundProcessed(db: Queryable, id: string, processedUid: number | null): Promise<void> {
  await db.query(
    `UPDATE inbound_messages SET state = CASE WHEN state = 'stored' THEN 'processed' ELSE state END,
        processed_uid = $2, state_at = now() WHERE id = $1`,
    [id, processedUid],
  );
}

/** The CRM feed: messages after `after` (a cursor), oldest first. */
export async function listInboundMessages(db: Queryable, orgId: string, after: string | undefined, limit: number): Promise<InboundMessage[]> {
  const { rows } = await db.query(`SELECT ${FEED_COLUMNS} FROM inbound_messages WHERE org_id = $1 AND cursor > $2 ORDER BY cursor LIMIT $3`, [
    orgId,
    after ?? '0',
    limit,
  ]);
  return rows.map(messageFrom);
}

export async function getInboundMessage(db: Queryable, orgId: string, id: string): Promise<InboundMessage | null> {
  const { rows } = await db.query(`SELECT ${FEED_COLUMNS} FROM inbound_messages WHERE org_id = $1 AND id = $2`, [orgId, id]);
  return rows[0] ? messageFrom(rows[0]) : null;
}

/** The raw RFC 822 bytes of a stored message. */
export async function getInboundRaw(db: Queryable, orgId: string, id: string): Promise<Buffer | null> {
  const { rows } = await db.query(`SELECT raw FROM inbound_messages WHERE org_id = $1 AND id = $2`, [orgId, id]);
  return rows[0]?.raw ?? null;
}

/**
 * The CRM gave up on a message: the worker forwards it and moves it to the failed folder. Answers
 * the message's state after the request (a message already failed or forwarding stays as it is).
 */
export async function requestInboundFail(db: Queryable, orgId: string, id: string, reason: string): Promise<InboundMessageState | null> {
  const { rows } = await db.query(
    `UPDATE inbound_messages SET state = CASE WHEN state IN ('stored', 'processed') THEN 'fail-requested' ELSE state END,
        fail_reason = CASE WHEN state IN ('stored', 'processed') THEN $3 ELSE fail_reason END,
        state_at = CASE WHEN state IN ('stored', 'processed') THEN now() ELSE state_at END
      WHERE org_id = $1 AND id = $2 RETURNING state`,
    [orgId, id, reason],
  );
  return rows[0]?.state ?? null;
}

export interface PendingFailure {
  id: string;
  state: 'fail-requested' | 'forwarded';
  messageId: string | null;
  subject: string | null;
  failReason: string | null;
  processedUid: number | null;
  raw: Buffer;
}

/** A mailbox's messages the CRM marked failed and the worker has not finished with, oldest first. */
export async function listPendingFailures(db: Queryable, mailboxId: string, limit = 20): Promise<PendingFailure[]> {
  const { rows } = await db.query(
    `SELECT id, state, message_id, envelope->>'subject' AS subject, fail_reason, processed_uid, raw
       FROM inbound_messages WHERE mailbox_id = $1 AND state IN ('fail-requested', 'forwarded') ORDER BY cursor LIMIT $2`,
    [mailboxId, limit],
  );
  return rows.map((r: Row) => ({
    id: r.id,
    state: r.state,
    messageId: r.message_id,
    subject: r.subject,
    failReason: r.fail_reason,
    processedUid: r.processed_uid === null ? null : Number(r.processed_uid),
    raw: r.raw,
  }));
}

export async function setInboundState(db: Queryable, id: string, state: InboundMessageState): Promise<void> {
  await db.query(`UPDATE inbound_messages SET state = $2, state_at = now() WHERE id = $1`, [id, state]);
}
