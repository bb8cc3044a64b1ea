/**
 * `npm run start:api` (and `npm start` with --with-worker): checks the configuration and the
 * schema, serves the API, and shuts down cleanly on SIGTERM/SIGINT.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { exitOnConfigError, loadConfig, poolSizeFor, type Config } from '@exsync/config';
import type { AppDeps } from './app';

interface Closable {
  close(): Promise<void>;
}

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/**
 * With --with-worker the worker runs in this process and its producer serves the API; otherwise
 * the API only enqueues, through a producer of its own. Loaded after the configuration check so a
 * bad variable is reported before anything connects.
 */
async function startQueueing(
  config: Config,
  pool: AppDeps['pool'],
  log: FastifyBaseLogger,
  withWorker: boolean,
  metrics: Registry,
): Promise<{ enqueueSync: NonNullable<AppDeps['enqueueSync']>; closable: Closable }> {
  const { createSyncProducer, startWorker } = await import('@exsync/worker');
  if (withWorker) {
    const worker = await startWorker({ config, pool, logger: log, metrics });
    return { enqueueSync: (id, reason) => worker.enqueueSync(id, reason), closable: worker };
  }
  const producer = createSyncProducer({
    redisUrl: config.redisUrl,
    prefix: config.redisPrefix,
    retry: config.syncRetry,
    onError: (err: Error) => log.warn({ err: err.message }, 'sync producer redis error'),
  });
  return { enqueueSync: (id, reason) => producer.enqueueSync(id, reason), closable: producer };
}

async function main(): Promise<void> {
  const withWorker = process.argv.includes('--with-worker');
  let config: Config;
  let poolSize: number;
  try {
    config = loadConfig();
    // Sized for this process's shape: with the worker in it, every running sync needs two connections.
    poolSize = poolSizeFor(config, withWorker ? 'api+worker' : 'api');
  } catch (err) {
    exitOnConfigError(err);
  }

  // Loaded after the configuration check so a bad variable is reported at once.
  const { checkPoolFits, createPool, pendingMigrations } = await import('@exsync/db');
  const { buildApp } = await import('./app');
  const pool = createPool(config.databaseUrl, { max: poolSize });
  let pending: string[];
  let poolProblem: string | null;
  try {
    pending = await pendingMigrations(pool);
    poolProblem = await checkPoolFits(pool, poolSize, config.workerConcurrency);
  } catch (err) {
    fail(`DATABASE_URL: cannot reach Postgres (${(err as Error).message.split('\n')[0]}): start Postgres or fix DATABASE_URL`);
  }
  if (pending.length > 0) {
    fail(`the database schema is behind (${pending.length} pending migration(s), first ${pending[0]}): run npm run migrate`);
  }
  if (poolProblem) fail(poolProblem);

  // The app is built before the queue side so the worker can share its configured logger.
  let queueing: Partial<Awaited<ReturnType<typeof startQueueing>>> = {};
  const app = await buildApp({
    config,
    pool,
    enqueueSync: (id, reason) =>
      queueing.enqueueSync
        ? queueing.enqueueSync(id, reason)
        : Promise.reject(new Error('no sync queue in this process; the scheduler will pick the mailbox up')),
  });
  if (config.ephemeralSecrets) {
    app.log.warn(`EXSYNC_MODE=${config.mode}: using a generated encryption key and admin token for this process only`);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    try {
      await app.close();
      await queueing.closable?.close();
      await pool.end();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  queueing = await startQueueing(config, pool, app.log, withWorker, app.metrics);
  if (stopping) return void (await queueing.closable?.close().catch(() => {}));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    fail(`PORT/HOST: cannot listen on ${config.host}:${config.port} (${(err as Error).message}): free the port or set PORT`);
  }
}

void main();
