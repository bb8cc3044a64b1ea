import type { FastifyPluginAsync } from 'fastify';
import { getSyncStatus, markDueNow, requestManualSync, summarizeItemErrors } from '@exsync/db';
import { assertOrgAccess } from '../auth';
import { HttpError, notFound } from '../httpError';
import { errorResponses, isoDateTime, itemErrorsSummary, itemKind, syncStatus, userParams } from '../schemas';
import { mailboxTransportSwitchSchema } from '../transportSwitch';

const nullable = <T extends object>(schema: T) => ({ ...schema, nullable: true }) as const;

const syncStatusResponse = {
  ...syncStatus,
  description: 'What the last run did, what went wrong and when the next run is due',
  properties: {
    ...syncStatus.properties,
    mailboxId: { type: 'string', format: 'uuid' },
    smtpAddress: nullable({ type: 'string' }),
    lastStartedAt: nullable(isoDateTime),
    progress: nullable({
      type: 'object',
      description: 'While the state is `syncing`: what the run has done so far, per folder (null otherwise)',
      properties: {
        folders: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              folder: { type: 'string', enum: ['calendar', 'contacts'] },
              listed: { type: 'integer', description: 'changes Exchange has listed so far' },
              applied: { type: 'integer', description: 'listed changes applied (read and written to the CRM side)' },
              pages: { type: 'integer', description: 'pages of changes read' },
              estimatedTotal: nullable({
                type: 'integer',
                description: "the folder's item count when it is listed from the start (GetFolder TotalCount); null when unknown",
              }),
            },
            required: ['folder', 'listed', 'applied', 'pages', 'estimatedTotal'],
          },
        },
      },
      required: ['folders'],
    }),
    totals: {
      type: 'object',
      description: 'Items linked between the CRM and Exchange, per kind',
      properties: { appointment: { type: 'integer' }, contact: { type: 'integer' } },
      required: ['appointment', 'contact'],
    },
    itemErrors: itemErrorsSummary,
    transportSwitch: mailboxTransportSwitchSchema,
    conflicts: {
      type: 'object',
      description: 'Items changed on both sides; fields changed on both were resolved by the conflict policy',
      properties: {
        total: { type: 'integer' },
        recent: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kind: itemKind,
              crmId: { type: 'string' },
              fields: { type: 'array', items: { type: 'string' } },
              resolution: { type: 'string' },
              at: isoDateTime,
            },
          },
        },
      },
    },
  },
  required: [...syncStatus.required, 'conflicts', 'throttledUntil', 'progress', 'totals', 'itemErrors', 'transportSwitch'],
} as const;

const NOT_READY: Record<'not-enabled' | 'awaiting-user-login', string> = {
  'not-enabled': 'sync is not enabled for this user: turn on mobileAccess, useOAuthForExchange and syncCalendar or syncContacts',
  'awaiting-user-login': 'the user has not signed in with Microsoft yet: send the sign-in link (POST .../microsoft-login)',
};

export const syncRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  app.post<{ Params: { orgId: string; userId: string } }>(
    '/v1/orgs/:orgId/users/:userId/sync',
    {
      schema: {
        tags: ['sync'],
        summary: "Sync the user's mailbox now",
        description:
          'Marks the mailbox due and queues a sync that starts within seconds. A mailbox stopped by an error is tried again; a throttled one waits for the back-off Exchange asked for. 409 when the user is not enabled or not signed in; 503 when the queue is unreachable (the scheduler still runs the sync once it is back).',
        params: userParams,
        response: {
          202: { type: 'object', properties: { mailboxId: { type: 'string', format: 'uuid' }, queued: { type: 'boolean' } } },
          ...errorResponses(400, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const { orgId, userId } = request.params;
      assertOrgAccess(request, orgId);
      const outcome = await requestManualSync(pool, orgId, userId, app.deps.config.syncIntervalSeconds);
      if (!outcome.ok) {
        if (outcome.reason === 'not-found') throw notFound('user not found');
        throw new HttpError(409, NOT_READY[outcome.reason]);
      }
      const enqueue = app.deps.enqueueSync;
      if (!enqueue) {
        await markDueNow(pool, outcome.mailboxId);
        return reply.code(202).send({ mailboxId: outcome.mailboxId, queued: false });
      }
      try {
        await enqueue(outcome.mailboxId, 'manual');
      } catch (err) {
        await markDueNow(pool, outcome.mailboxId);
        request.log.warn({ mailboxId: outcome.mailboxId, err: (err as Error).message }, 'enqueue for sync now failed');
        throw new HttpError(503, 'the sync queue is unreachable; the mailbox is marked due and the scheduler will sync it once the queue is back');
      }
      return reply.code(202).send({ mailboxId: outcome.mailboxId, queued: true });
    },
  );

  app.get<{ Params: { orgId: string; userId: string } }>(
    '/v1/orgs/:orgId/users/:userId/sync-status',
    {
      schema: {
        tags: ['sync'],
        summary: "The user's mailbox sync status",
        params: userParams,
        response: { 200: syncStatusResponse, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { orgId, userId } = request.params;
      assertOrgAccess(request, orgId);
      const status = await getSyncStatus(pool, orgId, userId);
      if (!status) throw notFound('user not found');
      return { ...status, itemErrors: await summarizeItemErrors(pool, status.mailboxId) };
    },
  );
};
