import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type {} from '@fastify/swagger'; // declares schema.hide
import { adminAssetsDir } from './adminAssets';

// Scripts only from our own origin: the page holds an admin token, so no inline script may run.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * GET /admin: the admin page (a plugin app.ts registers, not a route folder: the page's files are
 * found beside this module, or beside the built api.js) (HTML, CSS and the page's TypeScript bundled to admin.js; it calls the
 * JSON API only), served by @fastify/static. `wildcard: false` registers one route per file found
 * at start, so no other path under /admin ever reaches the disk.
 */
export async function adminPage(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: await adminAssetsDir(),
    prefix: '/admin/',
    wildcard: false,
    index: false,
    schemaHide: true,
    dotfiles: 'ignore',
    cacheControl: false,
    setHeaders(reply) {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cache-control', 'no-cache');
    },
  });
  app.get('/admin', { schema: { hide: true } }, async (_request, reply) => reply.sendFile('index.html'));
  app.get('/admin/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin'));
}
