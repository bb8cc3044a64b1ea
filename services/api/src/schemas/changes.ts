/** The change feed (CONTRACT.md, `GET /v1/orgs/:orgId/changes`). */
import { Type } from '@sinclair/typebox';
import { CURSOR_PATTERN } from '../changeCursor';
import { AnyItemOutput } from './canonical';
import { Guid, Nullable, PageLimit, StringEnum } from './common';
import { ItemKind } from './users';

const Cursor = Type.String({ pattern: CURSOR_PATTERN, description: 'Opaque cursor: the `next` of the previous answer (valid for this organisation only)' });

export const ChangesQuery = Type.Object({ after: Type.Optional(Cursor), limit: PageLimit() }, { additionalProperties: false });

export const ChangePage = Type.Object({
  changes: Type.Array(
    Type.Object({
      cursor: Type.String(),
      userId: Guid(),
      kind: ItemKind,
      crmId: Type.String(),
      op: StringEnum(['upsert', 'delete'] as const),
      item: AnyItemOutput,
    }),
  ),
  next: Nullable(Type.String(), { description: 'Pass as `after`; null only when there has never been a change' }),
});
