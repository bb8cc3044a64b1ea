/** POST /v1/orgs/:orgId/users/:userId/sync: sync the user's mailbox now. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses, Guid, UserParams } from '../../../../../../../schemas/common';
import { syncNow } from './manualSync';

const sync: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '',
    {
      schema: {
        tags: ['sync'],
        summary: "Sync the user's mailbox now",
        description:
          'Marks the mailbox due and queues a sync that starts within seconds. A mailbox stopped by an error is tried again; a throttled one waits for the back-off Exchange asked for. 409 when the user is not enabled or not signed in; 503 when the queue is unreachable (the scheduler still runs the sync once it is back).',
        params: UserParams,
        response: { 202: Type.Partial(Type.Object({ mailboxId: Guid(), queued: Type.Boolean() })), ...errorResponses(400, 404, 409, 503) },
      },
    },
    async (request, reply) => reply.code(202).send(await syncNow(app.deps, request.log, request.params.orgId, request.params.userId)),
  );
};

export default sync;
