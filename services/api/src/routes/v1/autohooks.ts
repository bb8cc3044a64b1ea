/** Every /v1 route needs a bearer token (auth.ts `authenticate`): 401 otherwise. */
import type { FastifyInstance } from 'fastify';
import { authenticate } from '../../auth';

export default async function v1Hooks(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', authenticate);
}
