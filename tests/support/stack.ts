/**
 * The end-to-end harness: real Postgres, Redis, Entra ID and EWS simulators, the API (buildApp)
 * and the worker (startWorker in-process, or `npx tsx services/worker/src/main.ts` as a child
 * process). Every stack gets its own database and Redis prefix, so test files running in parallel
 * never claim each other's mailboxes or jobs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '@exsync/config';
import { createPool, migrateUp } from '@exsync/db';

const REPO_ROOT = path.resolve(__dirname, '../..');

export interface IsolatedDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database beside the run's one (globalSetup provides the admin URL). */
export async function createIsolatedDatabase(): Promise<IsolatedDatabase> {
  const adminUrl = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `exsync_stack_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`); // generated name, never input
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateUp(url.toString());
  const pool = createPool(url.toString(), { max: 20 });
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end().catch(() => {});
      if (process.env.EXSYNC_KEEP_TEST_DB) return;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
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
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
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
