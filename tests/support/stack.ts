/**
 * The end-to-end harness: real Postgres, Redis, Entra ID and EWS simulators, the API (buildApp)
 * and the worker (startWorker in-process, or `npx tsx services/worker/src/main.ts` as a child
 * process). Every stack gets its own database and Redis prefix, so test files running in parallel
 * never claim each other's mailboxes or jobs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '@exsync/config';
import { createPool, createScratchDatabase, recordUserSignIn } from '@exsync/db';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { startGraphSim, type GraphSim } from '@exsync/graph-sim';
import { createSyncProducer, startWorker, type RunningWorker, type SyncProducer } from '@exsync/worker';
import { createEnabledUser, createOrg, simExchangeSettings, startTestApi } from './api';
import { freePort } from './freePort';

const REPO_ROOT = path.resolve(__dirname, '../..');

export interface IsolatedDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database beside the run's one (globalSetup provides the admin URL). */
export async function createIsolatedDatabase(): Promise<IsolatedDatabase> {
  const adminUrl = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await createScratchDatabase(adminUrl, 'exsync_stack');
  const pool = createPool(db.url, { max: 20 });
  return {
    url: db.url,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      if (process.env.EXSYNC_KEEP_TEST_DB) return;
      await db.drop();
    },
  };
}

/** A Redis key prefix of its own (no ':'), under the run's prefix. */
export function isolatedRedisPrefix(): string {
  return `${process.env.EXSYNC_REDIS_PREFIX ?? 'exsync-test'}-${randomBytes(4).toString('hex')}`;
}

/** The environment a stack's processes share: its database, its prefix, generated secrets. */
export function stackEnv(databaseUrl: string, redisPrefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    EXSYNC_REDIS_PREFIX: redisPrefix,
    EXSYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    EXSYNC_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    EXSYNC_ALLOW_INSECURE_AUTHORITY: 'true',
    EXSYNC_MODE: 'test',
    EXSYNC_SYNC_INTERVAL_SECONDS: '300',
    EXSYNC_WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'warn',
    TZ: 'UTC',
    ...extra,
  };
}

export function configFrom(env: Record<string, string>): Config {
  return loadConfig({ ...process.env, ...env });
}

/** A logger that keeps quiet unless EXSYNC_TEST_LOG is set. */
export const testLogger = {
  info: (fields: Record<string, unknown>, msg?: string) => process.env.EXSYNC_TEST_LOG && console.log('info', msg, fields),
  warn: (fields: Record<string, unknown>, msg?: string) => process.env.EXSYNC_TEST_LOG && console.log('warn', msg, fields),
  error: (fields: Record<string, unknown>, msg?: string) => process.env.EXSYNC_TEST_LOG && console.log('error', msg, fields),
};

/** Polls until `check` returns a value other than undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** resolves with the exit code (or signal) once the process ended */
  readonly exited: Promise<number | string | null>;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * The worker's main (`npm run start:worker` runs the same file through tsx) as a child process, for
 * SIGKILL and restart tests. It runs in its own process group and `kill` signals the whole group,
 * so a SIGKILL reaches the node process doing the work, not just a launcher in front of it.
 */
export function spawnWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/worker/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    exited,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          child.kill(signal);
        }
      }
      return exited;
    },
  };
}

export interface StackUser {
  userId: string;
  mailboxId: string;
  /** the simulator mailbox (and Exchange address) bound to the user */
  email: string;
  crmUserId: string;
}

export interface StackOptions {
  /** start one in-process worker (default true) */
  worker?: boolean;
  /** EXSYNC_SYNC_INTERVAL_SECONDS (default 300: tests trigger syncs themselves) */
  intervalSeconds?: number;
  /** EXSYNC_WORKER_CONCURRENCY (default 4) */
  concurrency?: number;
  /** scheduler tick of in-process workers (default 1 s) */
  schedulerTickMs?: number;
  /** EXSYNC_EWS_TIMEOUT_SECONDS (default: the config's) */
  ewsTimeoutSeconds?: number;
  /** EXSYNC_GRAPH_TIMEOUT_SECONDS (default: the config's) */
  graphTimeoutSeconds?: number;
  /** more environment for the stack's configuration (e.g. EXSYNC_SYNC_ATTEMPTS, EXSYNC_RETRY_BASE_DELAY_MS) */
  env?: Record<string, string>;
  /** the organisation's transport (default ews); graph also starts the Graph simulator over the EWS simulator's mailboxes */
  transport?: 'ews' | 'graph';
  /** in-process workers take the simulators' clock (`POST /_sim/clock`) as their own (calendar window, scheduler roll) */
  followSimClock?: boolean;
  /** start the Graph simulator for an organisation on EWS too (a switch to Graph) */
  graphSim?: boolean;
  /** the API listens on a free loopback port that EXSYNC_PUBLIC_URL names, so a browser follows the redirects for real (`baseUrl`, `platform`) */
  listen?: boolean;
  /** create the stack's organisation (default true); without it `orgId` is '' and tests make their own */
  org?: boolean;
  /** create the simulator mailboxes of the Entra simulator's seeded users (alice, bob, carol) */
  seedUsers?: boolean;
}

export interface Stack {
  env: Record<string, string>;
  config: Config;
  db: IsolatedDatabase;
  pool: pg.Pool;
  entra: EntraSim;
  ews: EwsSim;
  /** the Graph simulator, when the stack's organisation is on Graph */
  graph?: GraphSim;
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` of the listening API (opts.listen), else '' */
  baseUrl: string;
  /** a call to the listening API over HTTP as the platform admin (opts.listen) */
  platform(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** the producer the API enqueues through */
  producer: SyncProducer;
  platformToken: string;
  orgId: string;
  tenantId: string;
  /** an authenticated call to the API (platform token) */
  api<T = any>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** a call to the EWS simulator's /_sim/ control API over HTTP (a person in Outlook, faults) */
  sim<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** a user with an enabled, bound mailbox in the simulator (its first sync is queued) */
  addUser(opts?: { syncCalendar?: boolean; syncContacts?: boolean; email?: string }): Promise<StackUser>;
  /** another in-process worker on the same queue (stopped at teardown) */
  startWorker(opts?: { scheduler?: boolean; name?: string; metrics?: Registry }): Promise<RunningWorker>;
  readonly workers: RunningWorker[];
  /** `services/worker/src/main.ts` as a child process with this stack's environment */
  spawnWorker(extraEnv?: Record<string, string>): WorkerProcess;
  /** POST .../sync, then wait for a run that started after the request to end; returns the sync status */
  syncNow(user: StackUser, opts?: { timeoutMs?: number }): Promise<any>;
  /** waits until a run that started after `since` (DB time) has ended */
  waitForRunAfter(user: StackUser, since: Date, timeoutMs?: number): Promise<any>;
  /** Postgres' clock, which the mailbox timestamps use */
  dbNow(): Promise<Date>;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const db = await createIsolatedDatabase();
  const env = stackEnv(db.url, isolatedRedisPrefix(), {
    EXSYNC_SYNC_INTERVAL_SECONDS: String(opts.intervalSeconds ?? 300),
    EXSYNC_WORKER_CONCURRENCY: String(opts.concurrency ?? 4),
    ...(opts.ewsTimeoutSeconds ? { EXSYNC_EWS_TIMEOUT_SECONDS: String(opts.ewsTimeoutSeconds) } : {}),
    ...(opts.graphTimeoutSeconds ? { EXSYNC_GRAPH_TIMEOUT_SECONDS: String(opts.graphTimeoutSeconds) } : {}),
    ...opts.env,
  });
  const port = opts.listen ? await freePort() : undefined;
  if (port !== undefined) Object.assign(env, { EXSYNC_PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port) });
  const config = configFrom(env);
  const entra = await startEntraSim();
  const ews = await startEwsSim({ jwksUrl: entra.jwksUrl });
  if (opts.seedUsers) for (const u of DEFAULT_SEED.users) ews.store.createMailbox({ email: u.email, tenantId: DEFAULT_SEED.tenantId, displayName: u.name });
  const graph = opts.transport === 'graph' || opts.graphSim ? await startGraphSim({ ews, jwksUrl: entra.jwksUrl }) : undefined;
  const producer = createSyncProducer({ redisUrl: config.redisUrl, prefix: config.redisPrefix, retry: config.syncRetry });
  const testApi = await startTestApi({ config, pool: db.pool, enqueueSync: (id, reason) => producer.enqueueSync(id, reason), listen: port });
  const app = testApi.app;
  const baseUrl = testApi.baseUrl ?? '';
  const workers: RunningWorker[] = [];
  const children: WorkerProcess[] = [];
  const tenantId = DEFAULT_SEED.tenantId;

  async function api<T = any>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${config.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, body: res.body ? (res.json() as T) : (undefined as T) };
  }
  function expectStatus(res: { status: number; body: unknown }, want: number, what: string): void {
    if (res.status !== want) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }

  async function platform(method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await testApi.http(method, urlPath, config.adminToken, body);
    return { status: res.status, json: res.text ? res.json() : null };
  }

  let orgId = '';
  if (opts.org ?? true) {
    orgId = await createOrg(api, 'Stack test org');
    const settings = await api(
      'PUT',
      `/v1/orgs/${orgId}/exchange`,
      simExchangeSettings({ authorityHost: entra.url, ewsUrl: ews.ewsUrl, graphUrl: graph?.url, transport: opts.transport === 'graph' ? 'graph' : undefined }),
    );
    expectStatus(settings, 200, 'put exchange settings');
  }

  async function launchWorker(o: { scheduler?: boolean; name?: string; metrics?: Registry } = {}): Promise<RunningWorker> {
    const w = await startWorker({
      config,
      pool: db.pool,
      logger: testLogger,
      scheduler: o.scheduler,
      name: o.name,
      metrics: o.metrics,
      schedulerTickMs: opts.schedulerTickMs ?? 1_000,
      shutdownTimeoutMs: 10_000,
      now: opts.followSimClock ? () => new Date(ews.store.clock.now()) : undefined,
    });
    workers.push(w);
    return w;
  }
  if (opts.worker ?? true) await launchWorker({ name: 'stack-worker-1' });

  async function dbNow(): Promise<Date> {
    return (await db.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now;
  }

  async function waitForRunAfter(user: StackUser, since: Date, timeoutMs = 30_000): Promise<any> {
    await waitFor(
      `a sync of ${user.email} started after ${since.toISOString()} to end`,
      async () => {
        const r = await db.pool.query(`SELECT state, last_started_at, last_success_at, last_error_at FROM mailboxes WHERE id = $1`, [user.mailboxId]);
        const m = r.rows[0];
        // a run still retrying has not ended: its attempts record the cause but the outcome is not known yet
        if (!m.last_started_at || m.last_started_at <= since || m.state === 'syncing' || m.state === 'retrying') return false;
        const ended =
          (m.last_success_at && m.last_success_at >= m.last_started_at) || (m.last_error_at && m.last_error_at >= m.last_started_at) || m.state === 'throttled';
        return ended ? true : false;
      },
      timeoutMs,
    );
    return (await api('GET', `/v1/orgs/${orgId}/users/${user.userId}/sync-status`)).body;
  }

  return {
    env,
    config,
    db,
    pool: db.pool,
    entra,
    ews,
    graph,
    app,
    baseUrl,
    platform,
    producer,
    platformToken: config.adminToken,
    orgId,
    tenantId,
    api,
    workers,
    dbNow,
    waitForRunAfter,
    async sim(method, simPath, body) {
      const res = await fetch(`${ews.url}${simPath}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async addUser(o = {}) {
      const email = o.email ?? `user-${randomBytes(4).toString('hex')}@${DEFAULT_SEED.tenantDomain}`;
      ews.store.createMailbox({ email, tenantId, displayName: email }); // returns the existing one if any
      const crmUserId = `crm-${randomBytes(4).toString('hex')}`;
      const { userId, mailboxId } = await createEnabledUser(api, db.pool, orgId, {
        crmUserId,
        email,
        syncCalendar: o.syncCalendar,
        syncContacts: o.syncContacts,
      });
      // Stands in for the user's Microsoft sign-in: binds the simulator mailbox and makes it due.
      await recordUserSignIn(db.pool, mailboxId, { smtpAddress: email });
      return { userId, mailboxId, email, crmUserId };
    },
    startWorker: launchWorker,
    spawnWorker(extraEnv = {}) {
      const child = spawnWorkerProcess({ ...env, ...extraEnv });
      children.push(child);
      return child;
    },
    async syncNow(user, o = {}) {
      const since = await dbNow();
      const res = await api('POST', `/v1/orgs/${orgId}/users/${user.userId}/sync`);
      expectStatus(res, 202, 'sync now');
      return waitForRunAfter(user, since, o.timeoutMs);
    },
    async close() {
      for (const c of children) await c.kill('SIGKILL');
      for (const w of workers) await w.close().catch(() => {});
      await testApi.close();
      await producer.queue.obliterate({ force: true }).catch(() => {});
      await producer.close();
      await graph?.close();
      await ews.close();
      await entra.close();
      await db.drop();
    },
  };
}

/** What a user made at a stack's start is created with (StackOptions' folders; both by default). */
type UserOptions = { syncCalendar?: boolean; syncContacts?: boolean };

function registerStack(opts: StackOptions, user: UserOptions | undefined, set: (stack: Stack, user: StackUser | undefined) => void): void {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(opts);
    let u: StackUser | undefined;
    if (user) {
      u = await stack.addUser(user);
      await stack.waitForRunAfter(u, new Date(0));
    }
    set(stack, u);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });
}

/**
 * Registers beforeAll/afterAll for the calling file: a stack started with `opts` is handed to `set`
 * before the file's tests and closed after them.
 */
export function useStack(set: (stack: Stack) => void, opts: StackOptions = {}): void {
  registerStack(opts, undefined, (stack) => set(stack));
}

/** As useStack, plus one user (made with `user`) whose first sync has run before `set` is called. */
export function useStackWithUser(set: (stack: Stack, user: StackUser) => void, opts: StackOptions = {}, user: UserOptions = {}): void {
  registerStack(opts, user, (stack, u) => set(stack, u!));
}

/** A stack with one user whose first sync has run, as most end-to-end test files use it. */
export interface UserStack {
  stack: Stack;
  user: StackUser;
  /** `/v1/orgs/:orgId/users/:userId` of that user */
  base: string;
  /** the user's mailbox, URL-encoded for /_sim/ paths */
  mb: string;
}

/** useStackWithUser's stack and user as fields (set once beforeAll has run), with the user's API base and mailbox path. */
export function useUserStack(user: UserOptions = {}): UserStack {
  const t = {} as UserStack;
  useStackWithUser(
    (stack, u) => {
      Object.assign(t, { stack, user: u, base: `/v1/orgs/${stack.orgId}/users/${u.userId}`, mb: encodeURIComponent(u.email) });
    },
    {},
    user,
  );
  return t;
}

/** Every CRM item of a kind for the user (deleted ones included), through the API's pages. */
export async function listAllCrmItems(stack: Stack, user: StackUser, kind: 'appointments' | 'contacts'): Promise<any[]> {
  const out: any[] = [];
  for (let after = ''; ;) {
    const page = (
      await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/${kind}?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`)
    ).body;
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
}
