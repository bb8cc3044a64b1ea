import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** OpenAPI 3 generated from the route schemas: UI at /docs, document at /docs/json. */
export async function installSwagger(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'exsync admin and CRM API',
        version: '0.1.0',
        description:
          'Two-way sync of CRM calendar items and contacts with Exchange mailboxes. Every /v1 route needs ' +
          '`Authorization: Bearer <token>`: the platform token reaches every organisation, an org-admin token only ' +
          "its own; another organisation's resources answer 404. Errors answer `{error, message, field?}`; " +
          '400 names the offending field. Client secrets and certificates are write-only. Requests past a rate limit ' +
          '(per client address, per token, and for the sign-in redirects; see the README "Security" section) answer 429 ' +
          'with `Retry-After` in seconds.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'organisations', description: 'Organisations and their admin tokens' },
        { name: 'exchange', description: "An organisation's Exchange app registration and consent" },
        { name: 'users', description: 'CRM users, their sync settings and status' },
        { name: 'sync', description: 'Microsoft sign-in and sync control' },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // A CSP on every /docs answer, and never framed: /docs shares its origin with /admin.
    staticCSP: true,
    transformStaticCSP: (header) => header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(/\s*upgrade-insecure-requests;?/, ''),
    uiHooks: {
      onRequest: (_request, reply, done) => {
        reply.header('x-frame-options', 'DENY');
        done();
      },
    },
  });
}
