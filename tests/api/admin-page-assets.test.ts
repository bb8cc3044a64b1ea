import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/api';

/** The admin page's files come from @fastify/static with the page's security headers, and nothing else under /admin does. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('GET /admin', () => {
  it.each([
    ['/admin', 'text/html', '<script src="/admin/admin.js" defer></script>'],
    ['/admin/admin.js', 'javascript', 'exsync.admin'],
    ['/admin/admin.css', 'text/css', '.steps li.ok'],
  ])('%s is served with the CSP and nosniff', async (url, type, content) => {
    const res = await h.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(type);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.body).toContain(content);
  });

  it('bundles the typed page for the browser: no import statements and no TypeScript left', async () => {
    const js = (await h.app.inject({ method: 'GET', url: '/admin/admin.js' })).body;
    expect(js).not.toMatch(/^\s*import\s/m);
    expect(js).not.toMatch(/:\s*Session\b/);
    expect(js).toContain('The admin token is wrong or has expired');
  });

  it.each(['/admin/index.ts', '/admin/main.ts', '/admin/../package.json', '/admin/%2e%2e/package.json', '/admin/.hidden', '/admin/page/main.ts'])(
    '%s is not served',
    async (url) => {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
    },
  );

  it('/admin/ redirects to /admin', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/admin/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/admin');
  });
});
