/**
 * The four routes of one CRM item kind, mounted by its folder (appointments/, contacts/):
 * PUT, DELETE and GET `/:crmId`, and GET `` (the list).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import type { Appointment, Contact, CrmItemOrigin, ItemKind } from '@exsync/canonical';
import { DEFAULT_PAGE_LIMIT, errorResponses, Guid, Nullable, PageLimit, StringEnum, Timestamp, UserParams } from '../../../../../../schemas/common';
import { deleteItem, listItems, putItem, readItem } from './crmItems';

const CrmId = (description = "The CRM's own id for the item") => Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\s]+$', description });

const ItemParams = Type.Object({ orgId: Guid(), userId: Guid(), crmId: CrmId() }, { additionalProperties: false });

const ListQuery = Type.Object({ limit: PageLimit(), after: Type.Optional(CrmId('The last crmId of the previous page')) }, { additionalProperties: false });

function envelope(item: TSchema) {
  return Type.Object({
    crmId: Type.String(),
    version: Type.Integer(),
    origin: Type.Optional(StringEnum(['crm', 'exchange'] as const satisfies readonly CrmItemOrigin[], { description: 'Who made the last write' })),
    updatedAt: Type.Optional(Timestamp()),
    item,
  });
}

export interface ItemKindRoutes {
  kind: ItemKind;
  /** the folder's name, plural (`appointments`) */
  path: string;
  /** the kind in summaries and messages (`appointment`) */
  label: string;
  input: TSchema;
  output: TSchema;
}

/** The routes of one kind; `k.input` and `k.output` are the canonical item's schemas (schemas/canonical.ts). */
export function crmItemRoutes(k: ItemKindRoutes): FastifyPluginAsyncTypebox {
  return async (app) => {
    const scope = (params: { orgId: string; userId: string }) => ({ ...params, kind: k.kind, label: k.label });

    app.put(
      '/:crmId',
      {
        schema: {
          tags: [k.path],
          summary: `Create or replace a CRM ${k.label}`,
          description: `Stores the ${k.label} under the CRM's id and bumps its version; 201 when it was created (or re-created after a delete), 200 when replaced. The user's mailbox is synced soon after.`,
          params: ItemParams,
          body: k.input,
          response: { 200: envelope(k.output), 201: envelope(k.output), ...errorResponses(400, 404) },
        },
      },
      async (request, reply) => {
        const { crmId, ...user } = request.params;
        const { created, item } = await putItem(app.deps, request.log, scope(user), crmId, request.body as Appointment | Contact);
        return reply.code(created ? 201 : 200).send(item);
      },
    );

    app.delete(
      '/:crmId',
      {
        schema: {
          tags: [k.path],
          summary: `Delete a CRM ${k.label}`,
          description: 'Leaves a tombstone so the delete reaches Exchange; 404 when there is no such live item.',
          params: ItemParams,
          response: { 200: Type.Object({ crmId: Type.String(), version: Type.Integer(), deleted: Type.Boolean() }), ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const { crmId, ...user } = request.params;
        return deleteItem(app.deps, request.log, scope(user), crmId);
      },
    );

    app.get(
      '/:crmId',
      {
        schema: {
          tags: [k.path],
          summary: `Read one ${k.label} as the engine holds it`,
          params: ItemParams,
          response: { 200: envelope(k.output), ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const { crmId, ...user } = request.params;
        return readItem(app.deps, scope(user), crmId);
      },
    );

    app.get(
      '',
      {
        schema: {
          tags: [k.path],
          summary: `List the user's ${k.path}, Exchange-originated ones included`,
          description: 'Ordered by crmId; pass the last crmId as `after` for the next page. `next` is null on the last page.',
          params: UserParams,
          querystring: ListQuery,
          response: { 200: Type.Object({ items: Type.Array(envelope(k.output)), next: Nullable(Type.String()) }), ...errorResponses(400, 404) },
        },
      },
      async (request) => listItems(app.deps, scope(request.params), { limit: request.query.limit ?? DEFAULT_PAGE_LIMIT, after: request.query.after }),
    );
  };
}
