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
import { configFrom, createIsolatedDatabase, isolatedRedisPrefix, stackEnv, testLogger, type IsolatedDatabase } from '../support/stack';
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
