import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  DuplicateCrmUserIdError,
  applyEnablement,
  createUser,
  getUser,
  getUserSettings,
  listUsers,
  updateUserSettings,
  withTransaction,
  type UserSettings,
} from '@exsync/db';
import { requestSyncSoon } from '../requestSyncSoon';
import { assertOrgAccess, assertPlatform } from '../auth';
import { HttpError, notFound } from '../httpError';
import { SYNC_STATES, errorResponses, guid, orgParams, pageQuery, settingsProperties, user, userParams, noQuery } from '../schemas';

type SettingsPatch = Partial<UserSettings>;

const MOBILE_ACCESS_RULE = 'useOAuthForExchange needs mobileAccess: turn mobileAccess on (in the same request or before), or turn useOAuthForExchange off';

/** The 422 rule: OAuth for Exchange is only offered to users with mobile access. */
function violatesMobileAccessRule(current: UserSettings, patch: SettingsPatch): boolean {
  const merged = { ...current, ...patch };
  return merged.useOAuthForExchange && !merged.mobileAccess;
}

/** Applies settings to users (one transaction) and enqueues a first sync for mailboxes that became due. */
async function applySettings(app: FastifyInstance, orgId: string, userIds: string[], patch: SettingsPatch & { email?: string; displayName?: string | null }) {
  const scheduled = await withTransaction(app.deps.pool, async (client) => {
    const updated = await updateUserSettings(client, orgId, userIds, patch);
    return { updated, scheduled: await applyEnablement(client, orgId, updated) };
  });
  for (const mailboxId of scheduled.scheduled) await requestSyncSoon(app.deps.enqueueSync, app.log, mailboxId, 'settings');
  return scheduled.updated;
}

const patchProperties = {
  ...settingsProperties,
  email: { type: 'string', format: 'email', maxLength: 320 },
  displayName: { type: 'string', maxLength: 200, nullable: true },
} as const;

export const userRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  app.post<{ Params: { orgId: string }; Body: { crmUserId: string; email: string; displayName?: string } }>(
    '/v1/orgs/:orgId/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a CRM user (and its mailbox, not enabled yet)',
        params: orgParams,
        querystring: noQuery,
        body: {
          type: 'object',
          properties: {
            crmUserId: { type: 'string', minLength: 1, maxLength: 200 },
            email: { type: 'string', format: 'email', maxLength: 320 },
            displayName: { type: 'string', maxLength: 200 },
          },
          required: ['crmUserId', 'email'],
          additionalProperties: false,
        },
        response: { 201: user, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      try {
        return reply.code(201).send(await createUser(pool, orgId, request.body));
      } catch (err) {
        if (err instanceof DuplicateCrmUserIdError) throw new HttpError(409, err.message, 'crmUserId');
        if ((err as { code?: string }).code === '23503') throw notFound('organisation not found');
        throw err;
      }
    },
  );

  app.get<{ Params: { orgId: string }; Querystring: { limit: number; after?: string; search?: string; state?: string } }>(
    '/v1/orgs/:orgId/users',
    {
      schema: {
        tags: ['users'],
        summary: "List the organisation's users with settings and status, by id; pass the last id as `after` for the next page",
        description:
          '`search` keeps users whose email, display name or CRM user id contains it (case-insensitive); `state` keeps users whose mailbox is in that sync state. Both apply to every page; `next` is null on the last one.',
        params: orgParams,
        querystring: {
          ...pageQuery,
          properties: {
            ...pageQuery.properties,
            search: { type: 'string', maxLength: 200, description: 'Substring of the email, display name or CRM user id' },
            state: { type: 'string', enum: SYNC_STATES, description: 'A sync-status state' },
          },
        },
        response: {
          200: { type: 'object', properties: { users: { type: 'array', items: user }, next: { ...guid, nullable: true } } },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      // One row more than the page tells whether another page follows, so a full last page says `next: null`.
      const { limit } = request.query;
      const rows = await listUsers(pool, request.params.orgId, { ...request.query, limit: limit + 1 });
      const users = rows.slice(0, limit);
      return { users, next: rows.length > limit ? users[users.length - 1].id : null };
    },
  );

  app.get<{ Params: { orgId: string; userId: string } }>(
    '/v1/orgs/:orgId/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: 'Read a user with settings and status',
        params: userParams,
        querystring: noQuery,
        response: { 200: user, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      const found = await getUser(pool, request.params.orgId, request.params.userId);
      if (!found) throw notFound('user not found');
      return found;
    },
  );

  app.patch<{ Params: { orgId: string; userId: string }; Body: SettingsPatch & { email?: string; displayName?: string | null } }>(
    '/v1/orgs/:orgId/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: "Change a user's sync settings; enabling moves the mailbox to awaiting-user-login (or scheduled once signed in)",
        params: userParams,
        querystring: noQuery,
        body: { type: 'object', properties: patchProperties, additionalProperties: false, minProperties: 1 },
        response: { 200: user, ...errorResponses(400, 404, 422) },
      },
    },
    async (request) => {
      const { orgId, userId } = request.params;
      assertOrgAccess(request, orgId);
      const current = (await getUserSettings(pool, orgId, [userId])).get(userId);
      if (!current) throw notFound('user not found');
      if (violatesMobileAccessRule(current, request.body)) throw new HttpError(422, MOBILE_ACCESS_RULE, 'useOAuthForExchange');
      await applySettings(app, orgId, [userId], request.body);
      const updated = await getUser(pool, orgId, userId);
      if (!updated) throw notFound('user not found');
      return updated;
    },
  );

  app.post<{ Params: { orgId: string }; Body: { userIds: string[]; settings: SettingsPatch } }>(
    '/v1/orgs/:orgId/users/bulk',
    {
      schema: {
        tags: ['users'],
        summary: 'Apply settings to many users (platform only: bulk enablement goes through support)',
        params: orgParams,
        querystring: noQuery,
        body: {
          type: 'object',
          properties: {
            userIds: { type: 'array', items: guid, minItems: 1, maxItems: 1000, uniqueItems: true },
            settings: { type: 'object', properties: settingsProperties, additionalProperties: false, minProperties: 1 },
          },
          required: ['userIds', 'settings'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              updated: { type: 'array', items: guid },
              notFound: { type: 'array', items: guid },
              rejected: {
                type: 'array',
                items: { type: 'object', properties: { userId: guid, message: { type: 'string' } } },
              },
            },
          },
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      assertPlatform(request, 'bulk enablement goes through support: ask your exsync support contact, or change users one at a time');
      const { userIds, settings } = request.body;
      const current = await getUserSettings(pool, orgId, userIds);
      const notFoundIds = userIds.filter((id) => !current.has(id));
      const rejected = [...current].filter(([, s]) => violatesMobileAccessRule(s, settings)).map(([userId]) => ({ userId, message: MOBILE_ACCESS_RULE }));
      const rejectedIds = new Set(rejected.map((r) => r.userId));
      const eligible = [...current.keys()].filter((id) => !rejectedIds.has(id));
      const updated = eligible.length ? await applySettings(app, orgId, eligible, settings) : [];
      return { updated, notFound: notFoundIds, rejected };
    },
  );
};
