/**
 * A whole exsync against both simulators, for the end-to-end sign-in tests: an isolated database
 * and Redis prefix (so the worker claims only this stack's mailboxes), the worker in process, and
 * the API listening on a real loopback port that EXSYNC_PUBLIC_URL names (a browser follows the
 * redirects for real).
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '@exsync/config';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { startWorker, type RunningWorker } from '@exsync/worker';
import { buildApp } from '../../services/api/src/app';
import { expect } from 'vitest';
import { configFrom, createIsolatedDatabase, isolatedRedisPrefix, stackEnv, testLogger, waitFor, type IsolatedDatabase } from '../support/stack';
import { freePort } from '../support/freePort';

export interface E2eStack {
  baseUrl: string;
  config: Config;
  db: IsolatedDatabase;
  entra: EntraSim;
  ews: EwsSim;
  app: FastifyInstance;
  worker: RunningWorker;
  /** calls the API as the platform admin */
  platform(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startE2eStack(): Promise<E2eStack> {
  const entra = await startEntraSim();
  const ews = await startEwsSim({ jwksUrl: entra.jwksUrl });
  for (const u of DEFAULT_SEED.users) ews.store.createMailbox({ email: u.email, tenantId: DEFAULT_SEED.tenantId, displayName: u.name });
  const db = await createIsolatedDatabase();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = configFrom(stackEnv(db.url, isolatedRedisPrefix(), { EXSYNC_PUBLIC_URL: baseUrl, PORT: String(port) }));
  const worker = await startWorker({ config, pool: db.pool, logger: testLogger, schedulerTickMs: 500, shutdownTimeoutMs: 5_000 });
  const app = await buildApp({ config, pool: db.pool, enqueueSync: (id, reason) => worker.enqueueSync(id, reason) });
  await app.listen({ port, host: '127.0.0.1' });

  async function platform(method: string, path: string, body?: unknown) {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${config.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  return {
    baseUrl,
    config,
    db,
    entra,
    ews,
    app,
    worker,
    platform,
    async close() {
      await app.close().catch(() => {});
      await worker.close().catch(() => {});
      await db.drop().catch(() => {});
      await ews.close().catch(() => {});
      await entra.close().catch(() => {});
    },
  };
}

/**
 * The user opens the one-time sign-in link: exsync -> Microsoft -> exsync, the cookie carried as a
 * browser would. Answers the Microsoft authorize URL exsync redirected to.
 */
export async function signInThroughLink(s: E2eStack, orgId: string, userId: string): Promise<URL> {
  const link = await s.platform('POST', `/v1/orgs/${orgId}/users/${userId}/microsoft-login`);
  const start = await fetch(link.json.url, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0];
  const authorizeUrl = new URL(start.headers.get('location')!);
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const callback = await fetch(authorize.headers.get('location')!, { headers: { cookie } });
  expect(callback.status).toBe(200);
  expect(await callback.text()).toContain('data-outcome="signed-in"');
  return authorizeUrl;
}

/** Waits for a mailbox's sync-status `state` (failing at once on `error` while waiting for `healthy`); answers the status. */
export async function waitForMailboxState(s: E2eStack, orgId: string, userId: string, state: 'healthy' | 'error'): Promise<any> {
  return waitFor(
    `the mailbox to become ${state}`,
    async () => {
      const st = await s.platform('GET', `/v1/orgs/${orgId}/users/${userId}/sync-status`);
      if (state === 'healthy' && st.json?.state === 'error') throw new Error(`sync failed: ${JSON.stringify(st.json)}`);
      return st.json?.state === state ? st.json : undefined;
    },
    45_000,
    200,
  );
}
