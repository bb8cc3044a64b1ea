/** Everything under /v1/orgs/:orgId belongs to that organisation: an org admin of another one gets 404 (auth.ts `scopeToOrganisation`). */
import type { FastifyInstance } from 'fastify';
import { scopeToOrganisation } from '../../../../auth';

export default async function organisationHooks(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', scopeToOrganisation);
}
