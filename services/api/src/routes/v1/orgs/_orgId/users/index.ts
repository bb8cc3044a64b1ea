/** /v1/orgs/:orgId/users: create and list users, and the bulk settings change (platform). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listUsers } from '@exsync/db';
import { platformOnly } from '../../../../../auth';
import { DEFAULT_PAGE_LIMIT, errorResponses, Guid, NoQuery, Nullable, OrgParams } from '../../../../../schemas/common';
import { BulkResult, BulkSettings, NewUser, User, UserListQuery } from '../../../../../schemas/users';
import { addUser, changeUsers } from './userSettings';

const users: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a CRM user (and its mailbox, not enabled yet)',
        params: OrgParams,
        querystring: NoQuery,
        body: NewUser,
        response: { 201: User, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await addUser(app.deps, request.params.orgId, request.body)),
  );

  app.get(
    '',
    {
      schema: {
        tags: ['users'],
        summary: "List the organisation's users with settings and status, by id; pass the last id as `after` for the next page",
        description:
          '`search` keeps users whose email, display name or CRM user id contains it (case-insensitive); `state` keeps users whose mailbox is in that sync state. Both apply to every page; `next` is null on the last one.',
        params: OrgParams,
        querystring: UserListQuery,
        response: { 200: Type.Partial(Type.Object({ users: Type.Array(User), next: Nullable(Guid()) })), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      // One row more than the page tells whether another page follows, so a full last page says `next: null`.
      const limit = request.query.limit ?? DEFAULT_PAGE_LIMIT;
      const rows = await listUsers(app.deps.pool, request.params.orgId, { ...request.query, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { users: page, next: rows.length > limit ? page[page.length - 1].id : null };
    },
  );

  app.post(
    '/bulk',
    {
      schema: {
        tags: ['users'],
        summary: 'Apply settings to many users (platform only: bulk enablement goes through support)',
        params: OrgParams,
        querystring: NoQuery,
        body: BulkSettings,
        response: { 200: BulkResult, ...errorResponses(400, 403, 404) },
      },
      preHandler: platformOnly('bulk enablement goes through support: ask your exsync support contact, or change users one at a time'),
    },
    async (request) => changeUsers(app.deps, request.log, request.params.orgId, request.body.userIds, request.body.settings),
  );
};

export default users;
