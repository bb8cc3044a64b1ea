/**
 * The change feed (CONTRACT.md): Exchange-originated changes in commit order, resumable by an
 * opaque per-organisation cursor (changeCursor.ts). An empty page returns the same cursor.
 */
import type { Static } from '@sinclair/typebox';
import { readChanges } from '@exsync/db';
import type { ResolvedDeps } from '../../../../../app';
import { decodeCursor, encodeCursor } from '../../../../../changeCursor';
import { badRequest } from '../../../../../httpError';
import type { AnyItemOutput } from '../../../../../schemas/canonical';

/** The changes after `after` (none: from the start), at most `limit`; 400 naming `after` for a cursor of another organisation. */
export async function readChangePage(deps: ResolvedDeps, orgId: string, after: string | undefined, limit: number) {
  const { config } = deps;
  const position = after === undefined ? undefined : decodeCursor([config.encryptionKey.key, ...config.previousEncryptionKeys.map((k) => k.key)], orgId, after);
  if (after !== undefined && position === undefined)
    throw badRequest('query parameter "after" is not a cursor of this organisation: pass the `next` of a previous answer', 'after');
  const rows = await readChanges(deps.pool, orgId, position, limit);
  const opaque = (seq: string) => encodeCursor(config.encryptionKey.key, orgId, seq);
  return {
    changes: rows.map((r) => ({
      cursor: opaque(r.cursor),
      userId: r.userId,
      kind: r.kind,
      crmId: r.crmId,
      op: r.op,
      item: r.item as Static<typeof AnyItemOutput>,
    })),
    next: rows.length ? opaque(rows[rows.length - 1].cursor) : (after ?? null),
  };
}
