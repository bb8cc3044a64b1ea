/**
 * Builds the real API against the run's Postgres and Redis, with logs captured line by line so
 * tests can prove what never reaches them.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { loadConfig, type Config } from '@exsync/config';
import { buildApp } from '../../../services/api/src/app';

export interface Harness {
  app: FastifyInstance;
  pool: pg.Pool;
  config: Config;
  platformToken: string;
  logLines: string[];
  enqueued: { mailboxId: string; reason: string }[];
  call(method: string, url: string, token: string | null, body?: unknown): Promise<LightMyRequestResponse>;
  createOrg(name?: string): Promise<{ id: string; token: string }>;
  createUser(orgId: string, crmUserId: string, token?: string): Promise<{ id: string; mailboxId: string }>;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const platformToken = `platform-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    ...process.env,
    EXSYNC_MODE: 'test',
    EXSYNC_ADMIN_TOKEN: platformToken,
    EXSYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    EXSYNC_ENCRYPTION_KEY_ID: 'test-k1',
    EXSYNC_PUBLIC_URL: 'https://exsync.example.test',
    LOG_LEVEL: 'debug',
    ...env,
  });
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const enqueued: { mailboxId: string; reason: string }[] = [];
  const app = await buildApp({
    config,
    pool,
    logStream,
    enqueueSync: async (mailboxId, reason) => {
      enqueued.push({ mailboxId, reason });
    },
  });
  await app.ready();

  const call: Harness['call'] = (method, url, token, body) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body !== undefined ? { payload: body as object } : {}),
    });

  return {
    app,
    pool,
    config,
    platformToken,
    logLines,
    enqueued,
    call,
    async createOrg(name = `org-${randomBytes(3).toString('hex')}`) {
      const org = await call('POST', '/v1/orgs', platformToken, { name });
      if (org.statusCode !== 201) throw new Error(`create org: ${org.statusCode} ${org.body}`);
      const id = org.json().id as string;
      const tok = await call('POST', `/v1/orgs/${id}/admin-tokens`, platformToken);
      if (tok.statusCode !== 201) throw new Error(`mint token: ${tok.statusCode} ${tok.body}`);
      return { id, token: tok.json().token as string };
    },
    async createUser(orgId, crmUserId, token = platformToken) {
      const res = await call('POST', `/v1/orgs/${orgId}/users`, token, { crmUserId, email: `${crmUserId}@example.com` });
      if (res.statusCode !== 201) throw new Error(`create user: ${res.statusCode} ${res.body}`);
      const mb = await pool.query('SELECT id FROM mailboxes WHERE user_id = $1', [res.json().id]);
      return { id: res.json().id as string, mailboxId: mb.rows[0].id as string };
    },
    async close() {
      await app.close();
      await pool.end();
    },
  };
}
