/**
 * The change feed (CONTRACT.md): Exchange-originated changes in commit order, resumable by an
 * opaque per-organisation cursor (changeCursor.ts). An empty page returns the same cursor.
 */
import type { Static } from '@sinclair/typebox';
import { readChanges } from '@exsync/db';
import type { ResolvedDeps } from '../../../../../app';
import { feedCursors } from '../../../../../changeCursor';
import type { AnyItemOutput } from '../../../../../schemas/canonical';

/** The changes after `after` (none: from the start), at most `limit`; 400 naming `after` for a cursor of another organisation. */
export async function readChangePage(deps: ResolvedDeps, orgId: string, after: string | undefined, limit: number) {
  const cursors = feedCursors(deps.config, orgId, 'changes');
  const rows = await readChanges(deps.pool, orgId, cursors.position(after), limit);
  const opaque = cursors.cursor;
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
