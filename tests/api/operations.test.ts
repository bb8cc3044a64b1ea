import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig } from '@exsync/config';
import { buildApp } from '../../services/api/src/app';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('operations routes', () => {
  it('/healthz answers without auth', async () => {
    const res = await h.call('GET', '/healthz', null);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks Postgres and Redis for real', async () => {
    const res = await h.call('GET', '/readyz', null);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    expect(res.statusCode).toBe(200);
  });

  it('/readyz answers 503 naming what is down', async () => {
    // Nothing listens on port 1: Redis and Postgres are both unreachable.
    const config = loadConfig({ ...process.env, EXSYNC_MODE: 'test' });
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => {});
    const redis = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    const app = await buildApp({ config: { ...config, logLevel: 'silent' }, pool, redis });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'not-ready', checks: { postgres: 'down', redis: 'down' } });
    } finally {
      await app.close();
      redis.disconnect();
      await pool.end();
    }
  });

  it('answers a 500 with the request id in the body and no detail of the error', async () => {
    // Postgres is unreachable: the bearer token cannot be checked, which nothing turns into a 4xx.
    const config = loadConfig({ ...process.env, EXSYNC_MODE: 'test', EXSYNC_ADMIN_TOKEN: 'platform-500-test-token-0123456789' });
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => {});
    const app = await buildApp({ config: { ...config, logLevel: 'silent' }, pool });
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/orgs',
        headers: { authorization: 'Bearer exs_not-a-real-token', 'x-request-id': 'req-500.check' },
      });
      expect(res.statusCode).toBe(500);
      expect(res.headers['x-request-id']).toBe('req-500.check');
      expect(res.json()).toEqual({
        error: 'Internal Server Error',
        message: 'internal error; see the server log for this request id',
        requestId: 'req-500.check',
      });
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it('/metrics exposes the request duration histogram by route pattern', async () => {
    await h.call('GET', '/healthz', null);
    const res = await h.call('GET', '/metrics', null);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(res.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} [1-9]/);
    expect(res.body).toContain('exsync_api_process_cpu_seconds_total');
  });

  it('echoes a safe incoming request id and mints one otherwise', async () => {
    const given = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-abc.123' } });
    expect(given.headers['x-request-id']).toBe('req-abc.123');
    const evil = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a b\u0000c' } });
    expect(evil.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await h.call('GET', '/v1/nothing-here?token=abc', h.platformToken);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'Not Found', message: 'no route GET /v1/nothing-here' });
  });
});

describe('OpenAPI document', () => {
  it('lists every contract route with tags, schemas and the bearer scheme', async () => {
    const doc = (await h.call('GET', '/docs/json', null)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
    const expected: [string, string][] = [
      ['post', '/v1/orgs'],
      ['post', '/v1/orgs/{orgId}/admin-tokens'],
      ['put', '/v1/orgs/{orgId}/exchange'],
      ['get', '/v1/orgs/{orgId}/exchange'],
      ['get', '/v1/orgs/{orgId}/exchange/admin-consent-url'],
      ['post', '/v1/orgs/{orgId}/exchange/test'],
      ['post', '/v1/orgs/{orgId}/users'],
      ['get', '/v1/orgs/{orgId}/users'],
      ['get', '/v1/orgs/{orgId}/users/{userId}'],
      ['patch', '/v1/orgs/{orgId}/users/{userId}'],
      ['post', '/v1/orgs/{orgId}/users/bulk'],
      ['post', '/v1/orgs/{orgId}/users/{userId}/microsoft-login'],
      ['post', '/v1/orgs/{orgId}/users/{userId}/sync'],
      ['get', '/v1/orgs/{orgId}/users/{userId}/sync-status'],
      ['get', '/healthz'],
      ['get', '/readyz'],
      ['get', '/metrics'],
      ['get', '/oauth/callback'],
      ['get', '/oauth/admin-consent/callback'],
    ];
    for (const [method, path] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.tags?.length, `${method} ${path} tags`).toBeGreaterThan(0);
      expect(Object.keys(op.responses ?? {}).length, `${method} ${path} responses`).toBeGreaterThan(0);
      for (const param of path.match(/\{(\w+)\}/g) ?? []) {
        const name = param.slice(1, -1);
        const declared = op.parameters?.find((p: { name: string; in: string }) => p.name === name && p.in === 'path');
        expect(declared?.schema?.format, `${method} ${path} ${name}`).toBe('uuid');
      }
    }
    const put = doc.paths['/v1/orgs/{orgId}/exchange'].put;
    const bodySchema = put.requestBody.content['application/json'].schema;
    expect(bodySchema.additionalProperties).toBe(false);
    expect(bodySchema.properties.clientSecret.writeOnly).toBe(true);
    const answer = put.responses['200'].content['application/json'].schema;
    expect(answer.properties).not.toHaveProperty('clientSecret');
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('serves the UI at /docs', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger');
  });
});
