import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import type { Config } from '@exsync/config';
import { badRequest } from './httpError';

/**
 * Feed cursors as handed to a CRM (the change feed and the inbound-message feed): opaque and per
 * organisation and feed. Internally the feed is
 * ordered by one global sequence; a raw sequence number would tell each tenant how many changes
 * every other tenant makes. The cursor is that number and eight zero bytes, encrypted as one AES
 * block under a key derived per organisation from EXSYNC_ENCRYPTION_KEY, so consecutive cursors
 * look unrelated, and a cursor of another organisation (or a forged one) fails the zero-byte check.
 * Plain numeric cursors from before this change are still accepted as `after`.
 */
export const CURSOR_PATTERN = '^([0-9]{1,18}|c_[A-Za-z0-9_-]{22})$';

/** Which feed a cursor belongs to: each has keys of its own, so one feed's cursor is no cursor of the other. */
export type CursorFeed = 'changes' | 'inbound-messages';
const KEY_INFO: Record<CursorFeed, string> = { changes: 'exsync change cursor v1', 'inbound-messages': 'exsync inbound-message cursor v1' };

function orgKey(secret: Buffer, orgId: string, feed: CursorFeed): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(orgId.toLowerCase()), KEY_INFO[feed], 32));
}

/** The opaque cursor of feed position `seq` (a bigint as text) for `orgId`, under the current key. */
export function encodeCursor(secret: Buffer, orgId: string, seq: string, feed: CursorFeed = 'changes'): string {
  const block = Buffer.alloc(16);
  block.writeBigUInt64BE(BigInt(seq), 0);
  const cipher = createCipheriv('aes-256-ecb', orgKey(secret, orgId, feed), null).setAutoPadding(false);
  return `c_${Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url')}`;
}

/**
 * The feed position behind `cursor` (opaque or legacy numeric), trying each key (current first,
 * then rotated ones). undefined when it is no cursor of this organisation.
 */
export function decodeCursor(secrets: Buffer[], orgId: string, cursor: string, feed: CursorFeed = 'changes'): string | undefined {
  if (/^[0-9]{1,18}$/.test(cursor)) return cursor;
  if (!cursor.startsWith('c_')) return undefined;
  const data = Buffer.from(cursor.slice(2), 'base64url');
  if (data.length !== 16) return undefined;
  for (const secret of secrets) {
    const decipher = createDecipheriv('aes-256-ecb', orgKey(secret, orgId, feed), null).setAutoPadding(false);
    const block = Buffer.concat([decipher.update(data), decipher.final()]);
    if (block.subarray(8).every((b) => b === 0)) return block.readBigUInt64BE(0).toString();
  }
  return undefined;
}

/** How a 400 names what the cursor is not a cursor of. */
const OWNER: Record<CursorFeed, string> = { changes: 'this organisation', 'inbound-messages': "this organisation's inbound messages" };

/**
 * One organisation's cursors of `feed` under the deployment's keys: `position(after)` is the feed
 * position behind a cursor a CRM passed (undefined for none; 400 naming `after` for a cursor of
 * another organisation or feed, or a forged one), `cursor(seq)` the opaque cursor of a position.
 */
export function feedCursors(config: Pick<Config, 'encryptionKey' | 'previousEncryptionKeys'>, orgId: string, feed: CursorFeed) {
  const keys = [config.encryptionKey.key, ...config.previousEncryptionKeys.map((k) => k.key)];
  return {
    position(after: string | undefined): string | undefined {
      if (after === undefined) return undefined;
      const position = decodeCursor(keys, orgId, after, feed);
      if (position === undefined)
        throw badRequest(`query parameter "after" is not a cursor of ${OWNER[feed]}: pass the \`next\` of a previous answer`, 'after');
      return position;
    },
    cursor: (seq: string): string => encodeCursor(config.encryptionKey.key, orgId, seq, feed),
  };
}
