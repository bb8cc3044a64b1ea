/**
 * The change feed (CONTRACT.md): Exchange-originated changes in commit order, resumable by cursor.
 * A CRM polls with the `next` it was given; an empty page returns the same cursor.
 */
import type { FastifyPluginAsync } from 'fastify';
import { readChanges } from '@exsync/db';
import { assertOrgAccess } from '../auth';
import { errorResponses, itemKind, orgParams } from '../schemas';
import { badRequest } from '../httpError';
import { CURSOR_PATTERN, decodeCursor, encodeCursor } from '../changeCursor';
import { anyItemOutput } from '../schemas/canonical';

const cursor = {
  type: 'string',
  pattern: CURSOR_PATTERN,
  description: 'Opaque cursor: the `next` of the previous answer (valid for this organisation only)',
} as const;

export const changeRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { orgId: string }; Querystring: { after?: string; limit: number } }>(
    '/v1/orgs/:orgId/changes',
    {
      schema: {
        tags: ['changes'],
        summary: 'Exchange-originated changes, in order',
        description: 'Upserts carry the item as the engine now holds it; deletes carry `item: null`. Start without `after`, then pass `next`.',
        params: orgParams,
        querystring: {
          type: 'object',
          properties: { after: cursor, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              changes: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    cursor: { type: 'string' },
                    userId: { type: 'string', format: 'uuid' },
                    kind: itemKind,
                    crmId: { type: 'string' },
                    op: { type: 'string', enum: ['upsert', 'delete'] },
                    item: anyItemOutput,
                  },
                  required: ['cursor', 'userId', 'kind', 'crmId', 'op', 'item'],
                },
              },
              next: { type: 'string', nullable: true, description: 'Pass as `after`; null only when there has never been a change' },
            },
            required: ['changes', 'next'],
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const { after, limit } = request.query;
      const { config } = app.deps;
      const position =
        after === undefined ? undefined : decodeCursor([config.encryptionKey.key, ...config.previousEncryptionKeys.map((k) => k.key)], orgId, after);
      if (after !== undefined && position === undefined)
        throw badRequest('query parameter "after" is not a cursor of this organisation: pass the `next` of a previous answer', 'after');
      const rows = await readChanges(app.deps.pool, orgId, position, limit);
      const opaque = (seq: string) => encodeCursor(config.encryptionKey.key, orgId, seq);
      return {
        changes: rows.map((r) => ({ cursor: opaque(r.cursor), userId: r.userId, kind: r.kind, crmId: r.crmId, op: r.op, item: r.item })),
        next: rows.length ? opaque(rows[rows.length - 1].cursor) : (after ?? null),
      };
    },
  );
};
