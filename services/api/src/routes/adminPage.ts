import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger'; // declares schema.hide

const ADMIN_DIR = join(__dirname, '..', 'admin');

/** The page's own files; nothing else under /admin is served, so no path ever reaches the disk. */
const FILES: Record<string, { file: string; type: string }> = {
  '/admin': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/admin/admin.js': { file: 'admin.js', type: 'text/javascript; charset=utf-8' },
  '/admin/admin.css': { file: 'admin.css', type: 'text/css; charset=utf-8' },
};

// Scripts only from our own origin: the page holds an admin token, so no inline script may run.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** GET /admin: the admin page (plain HTML and a small script; it calls the JSON API only). */
export async function adminPageRoutes(app: FastifyInstance): Promise<void> {
  const bodies = new Map(Object.entries(FILES).map(([route, f]) => [route, readFileSync(join(ADMIN_DIR, f.file))]));
  for (const [route, f] of Object.entries(FILES)) {
    app.get(route, { schema: { hide: true } }, async (_request, reply) => {
      reply
        .header('content-type', f.type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache');
      return reply.send(bodies.get(route));
    });
  }
  app.get('/admin/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin'));
}
