/** Everything under /v1/orgs/:orgId belongs to that organisation: an org admin of another one gets 404 (auth.ts `scopeToOrganisation`). */
import fp from 'fastify-plugin';
import { scopeToOrganisation } from '../../../../auth';

// fastify-plugin: the hook must reach the routes of the folders below (see routes/v1/autohooks.ts).
export default fp(async function organisationHooks(app) {
  app.addHook('onRequest', scopeToOrganisation);
});
