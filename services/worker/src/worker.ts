import { startMonitorSupervisor } from './monitorSupervisor';
/**
 * The worker process's BullMQ side: one Worker on the sync queue, the Postgres-driven scheduler,
 * and a shutdown that lets in-flight syncs finish (or hands them back) before closing.
 */
import { endpointPolicyOf, type Config, type EndpointPolicy } from '@exsync/config';
import { recordRunInterrupted, secretBoxFromConfig } from '@exsync/db';
import { runInterruptedMessage, type MailboxOpener } from '@exsync/canonical';
import {
  AppTokenProvider,
  DelegatedTokenProvider,
  GRAPH_APP_SCOPE,
  GRAPH_DELEGATED_SCOPES,
  RedisTokenCache,
  installProcessGuards,
  openMailbox,
} from '@exsync/ews-client';
import { graphOpener } from '@exsync/graph-client';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Registry } from 'prom-client';
import { SYNC_QUEUE, assertNoColon, createRedisConnection, type SyncJobData } from './queues';
import { startScheduler, type Scheduler } from './scheduler';
import { JITTERED_EXPONENTIAL, jitteredExponentialBackoff } from './syncJobOptions';
import { createSyncProcessor, isRecordedFailure, type SyncJobResult } from './syncProcessor';
import { createSyncMetrics } from './syncMetrics';
import { createSyncProducer, type SyncProducer } from './syncProducer';

export interface WorkerLogger {
  info(fields: Record<string, unknown>, msg?: string): void;
  warn(fields: Record<string, unknown>, msg?: string): void;
  error(fields: Record<string, unknown>, msg?: string): void;
}

export interface StartWorkerOptions {
  config: Config;
  pool: pg.Pool;
  logger: WorkerLogger;
  /** run the Postgres scheduler in this process (default true); several may run at once safely */
  scheduler?: boolean;
  /** scheduler tick (default 5 s) */
  schedulerTickMs?: number;
  /** how long close() waits for running syncs before handing them back (default 30 s) */
  shutdownTimeoutMs?: number;
  /** BullMQ worker name, shown on the jobs it processed */
  name?: string;
  /** the transport that opens mailboxes (default: EWS, packages/ews-client) */
  openMailbox?: MailboxOpener;
  /** keep IMAP sessions for monitored mailboxes in this process (default true) */
  mailboxMonitors?: boolean;
  /**
   * Where the sync metrics (syncMetrics.ts) are registered: pass the API's registry (`app.metrics`)
   * when both run in one process so /metrics shows them; default a registry of the worker's own.
   */
  metrics?: Registry;
  /** the transport of organisations on Graph (default: packages/graph-client) */
  openGraphMailbox?: MailboxOpener;
  /**
   * The worker's clock for the calendar window (the window each run hands the transport, and the
   * scheduler's weekly roll). Default the system clock; tests inject one that follows the
   * simulators' clock (`POST /_sim/clock`).
   */
  now?: () => Date;
}

export interface RunningWorker {
  /** enqueue through this process's producer connection */
  enqueueSync: SyncProducer['enqueueSync'];
  /** one scheduler tick now (tests, demo) */
  tick(): Promise<number>;
  /** the registry holding the sync metrics */
  readonly metrics: Registry;
  close(): Promise<void>;
}

/**
 * Lock and stall settings. BullMQ re-runs the job of a killed worker after about two stall
 * intervals: 5 s each gives ~10 s (the default 30 s gives ~60 s). A short lock is safe here because
 * a job whose lock lapsed while it still runs (event loop blocked > 5 s) meets the per-mailbox
 * Postgres lock in its second run and waits, so two syncs of one mailbox still never overlap.
 * Stalls are allowed a few times before BullMQ fails a job: each run is safe to repeat. A job that
 * stalls out does not leave its mailbox waiting for the next interval: the `failed` handler below
 * makes it due at once (mailboxStatus `run-interrupted`), and the scheduler revives a `syncing`
 * mailbox nobody holds should that event be lost with its worker.
 */
export const LOCK_DURATION_MS = 5_000;
export const STALLED_INTERVAL_MS = 5_000;
export const MAX_STALLED_COUNT = 5;
/** BullMQ's failedReason for a job that stalled more than MAX_STALLED_COUNT times (bullmq 6.7 moveStalledJobsToWait). */
const STALLED_OUT_REASON = 'job stalled more than allowable limit';

/** A connection that is not `ready` again this long after closing gets a fresh worker (BullMQ failover bug). */
const RECREATE_AFTER_MS = 30_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
const FORCE_CLOSE_WAIT_MS = 5_000;
/** associated data of the sealed MSAL cache: it can be opened only as a token cache */
const TOKEN_CACHE_ASSOCIATED_DATA = 'msal-token-cache';

/**
 * EWS as a MailboxOpener: the default transport; the sync job sees only canonical's MailboxPort.
 * The endpoint policy and the answer-size cap are the process's, bound here so the job knows neither.
 */
function ewsOpener(endpointPolicy: EndpointPolicy, maxResponseBytes: number): MailboxOpener {
  return ({ endpointUrl, onRequest, ...rest }) =>
    openMailbox({
      ewsUrl: endpointUrl,
      ...rest,
      endpointPolicy,
      maxResponseBytes,
      onExchange: onRequest && ((r) => onRequest({ operation: r.operation, status: r.status })),
    });
}

export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const { config, pool, logger } = opts;
  const prefix = assertNoColon('EXSYNC_REDIS_PREFIX', config.redisPrefix);
  const removeGuards = installProcessGuards(logger);
  const onRedisError = (err: Error) => logger.warn({ err: err.message }, 'redis connection error');

  const producer = createSyncProducer({ redisUrl: config.redisUrl, prefix, onError: onRedisError, retry: config.syncRetry });
  const box = secretBoxFromConfig(config);
  // App-only tokens are shared by every worker process through Redis, sealed like any other
  // secret, so scaling out does not multiply token requests per organisation.
  const tokenCacheRedis = createRedisConnection(config.redisUrl, 'producer', onRedisError);
  const tokenCache = new RedisTokenCache({
    redis: tokenCacheRedis,
    prefix,
    seal: (plaintext) => box.seal(plaintext, TOKEN_CACHE_ASSOCIATED_DATA).ciphertext.toString('base64'),
    open: (sealed) => box.open(Buffer.from(sealed, 'base64'), TOKEN_CACHE_ASSOCIATED_DATA),
  });
  // Checked again on every connection: settings saved before a policy change cannot reach a refused host.
  const endpointPolicy = endpointPolicyOf(config);
  const metrics = opts.metrics ?? new Registry();
  const processor = createSyncProcessor({
    metrics: createSyncMetrics(metrics, { pool, queue: producer.queue }),
    pool,
    box,
    openMailbox: opts.openMailbox ?? ewsOpener(endpointPolicy, config.maxResponseBytes),
    openGraphMailbox: opts.openGraphMailbox ?? graphOpener({ endpointPolicy, maxResponseBytes: config.maxResponseBytes }),
    providers: {
      app: new AppTokenProvider({ allowInsecureAuthority: config.allowInsecureAuthority, cache: tokenCache, endpointPolicy }),
      graphApp: new AppTokenProvider({ allowInsecureAuthority: config.allowInsecureAuthority, cache: tokenCache, endpointPolicy, scope: GRAPH_APP_SCOPE }),
      delegated: new DelegatedTokenProvider({ allowInsecureAuthority: config.allowInsecureAuthority, endpointPolicy }),
      graphDelegated: new DelegatedTokenProvider({ allowInsecureAuthority: config.allowInsecureAuthority, endpointPolicy, scopes: GRAPH_DELEGATED_SCOPES }),
    },
    intervalSeconds: config.syncIntervalSeconds,
    retryAttempts: config.syncRetry.attempts,
    requestTimeoutMs: { ews: config.ewsTimeoutSeconds * 1000, graph: config.graphTimeoutSeconds * 1000 },
    log: logger,
    now: opts.now,
  });

  let connection: Redis;
  let worker: Worker<SyncJobData, SyncJobResult>;
  let watchdog: NodeJS.Timeout | undefined;
  let closing = false;
  /** status writes of the `failed` handler still in flight (awaited by close) */
  const interruptionWrites = new Set<Promise<void>>();

  function createWorker(): void {
    connection = createRedisConnection(config.redisUrl, 'worker', onRedisError);
    worker = new Worker<SyncJobData, SyncJobResult>(SYNC_QUEUE, processor, {
      connection,
      prefix,
      name: opts.name,
      concurrency: config.workerConcurrency,
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === JITTERED_EXPONENTIAL ? jitteredExponentialBackoff(attemptsMade, config.syncRetry) : 0,
      },
    });
    worker.on('error', (err) => logger.warn({ err: err.message }, 'sync worker error'));
    worker.on('failed', (job, err) => {
      logger.warn({ mailboxId: job?.data.mailboxId, attemptsMade: job?.attemptsMade, err: err.message }, 'sync job failed');
      // Failed for good (no retry follows: finishedOn is set) without the run recording why: the
      // job stalled out (BullMQ fails it when a worker picks it up after MAX_STALLED_COUNT stalls),
      // or it failed before the run began. Postgres makes the mailbox due now with the cause, so
      // the scheduler's next tick queues a fresh job that resumes where the last one stood.
      if (!job?.finishedOn || isRecordedFailure(err)) return;
      const cause = runInterruptedMessage(err.message === STALLED_OUT_REASON ? 'stalled' : 'unrecorded');
      const write = recordRunInterrupted(pool, job.data.mailboxId, cause)
        .then((changed) => {
          if (changed)
            logger.warn({ mailboxId: job.data.mailboxId, code: cause.code, err: err.message }, 'sync job failed outside the run; mailbox due again now');
        })
        .catch((e: Error) =>
          logger.warn({ mailboxId: job.data.mailboxId, err: e.message }, 'could not record an interrupted run; the scheduler revives it later'),
        )
        .finally(() => interruptionWrites.delete(write));
      interruptionWrites.add(write);
    });
    const own = connection;
    own.on('close', () => {
      if (closing || watchdog) return;
      watchdog = setTimeout(() => {
        watchdog = undefined;
        if (closing || own !== connection) return;
        logger.warn({}, 'redis did not become ready after a disconnect; recreating the sync worker');
        const old = worker;
        createWorker();
        old
          .close(true)
          .catch(() => {})
          .finally(() => own.disconnect());
      }, RECREATE_AFTER_MS);
      watchdog.unref();
    });
    own.on('ready', () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = undefined;
    });
  }
  createWorker();
  await worker!.waitUntilReady();

  const monitors = opts.mailboxMonitors === false ? undefined : startMonitorSupervisor({ config, pool, secretBox: box, log: logger });

  const scheduler: Scheduler | undefined =
    opts.scheduler === false
      ? undefined
      : startScheduler({
          pool,
          enqueueSync: producer.enqueueSync,
          intervalSeconds: config.syncIntervalSeconds,
          tickMs: opts.schedulerTickMs,
          log: logger,
          now: opts.now,
        });

  return {
    enqueueSync: producer.enqueueSync,
    metrics,
    tick: () => (scheduler ? scheduler.tick() : Promise.resolve(0)),
    async close() {
      if (closing) return;
      closing = true;
      if (watchdog) clearTimeout(watchdog);
      await scheduler?.stop();
      await monitors?.stop();
      // Let running syncs finish; past the deadline force-close: their jobs go back to the queue
      // through stall detection and re-run elsewhere (every run is safe to repeat).
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
      });
      const outcome = await Promise.race([worker.close().then(() => 'closed' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn({}, 'syncs still running at shutdown deadline; handing them back to the queue');
        // A force close can itself wait on a Redis connection that never answers again.
        await Promise.race([worker.close(true).catch(() => {}), new Promise((r) => setTimeout(r, FORCE_CLOSE_WAIT_MS).unref())]);
      }
      await Promise.allSettled([...interruptionWrites]);
      await producer.close().catch(() => {});
      tokenCacheRedis.disconnect();
      connection.disconnect();
      removeGuards();
    },
  };
}
