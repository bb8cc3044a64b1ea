/**
 * `npm run start:api` (and `npm start` with --with-worker): checks the configuration and the
 * schema, serves the API, and shuts down cleanly on SIGTERM/SIGINT.
 */
import type { FastifyBaseLogger } from 'fastify';
import { exitOnConfigError, loadConfig, type Config } from '@exsync/config';
import { createPool, pendingMigrations } from '@exsync/db';
import { buildApp, type AppDeps } from './app';

interface WorkerHandle {
  close?: () => Promise<void>;
  stop?: () => Promise<void>;
  enqueueSync?: AppDeps['enqueueSync'];
}

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/** The worker is another package; run it in-process only when it provides startWorker. */
async function maybeStartWorker(config: Config, pool: AppDeps['pool'], log: FastifyBaseLogger): Promise<WorkerHandle | null> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('@exsync/worker')) as Record<string, unknown>;
  } catch (err) {
    log.warn({ err: (err as Error).message }, '--with-worker: @exsync/worker could not be loaded; running the API only');
    return null;
  }
  if (typeof mod.startWorker !== 'function') {
    log.warn('--with-worker: @exsync/worker has no startWorker export yet; running the API only');
    return null;
  }
  return ((await mod.startWorker({ config, pool, logger: log })) as WorkerHandle | undefined) ?? null;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    exitOnConfigError(err);
  }

  const pool = createPool(config.databaseUrl);
  let pending: string[];
  try {
    pending = await pendingMigrations(pool);
  } catch (err) {
    fail(`DATABASE_URL: cannot reach Postgres (${(err as Error).message.split('\n')[0]}): start Postgres or fix DATABASE_URL`);
  }
  if (pending.length > 0) {
    fail(`the database schema is behind (${pending.length} pending migration(s), first ${pending[0]}): run npm run migrate`);
  }

  let worker: WorkerHandle | null = null;
  const deps: AppDeps = { config, pool };
  const app = await buildApp({ ...deps, enqueueSync: (id, reason) => (worker?.enqueueSync ? worker.enqueueSync(id, reason) : Promise.resolve()) });
  if (config.ephemeralSecrets) {
    app.log.warn(`EXSYNC_MODE=${config.mode}: using a generated encryption key and admin token for this process only`);
  }
  if (process.argv.includes('--with-worker')) worker = await maybeStartWorker(config, pool, app.log);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    try {
      await app.close();
      await (worker?.close ?? worker?.stop)?.call(worker);
      await pool.end();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    fail(`PORT/HOST: cannot listen on ${config.host}:${config.port} (${(err as Error).message}): free the port or set PORT`);
  }
}

void main();
