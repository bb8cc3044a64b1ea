import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SYNC_JOB, SYNC_QUEUE, assertNoColon, createRedisConnection, syncDedupId, type SyncJobData } from './queues';
import type { EnqueueSync } from '@exsync/canonical';
import type { RetryPolicy } from '@exsync/config';
import { syncJobOptions } from './syncJobOptions';

/**
 * A burst of CRM writes (an import, a user editing several fields) should cause one sync, not one
 * per write: the first write's job waits this long and later ones fold into it by deduplication.
 */
export const CRM_WRITE_DEBOUNCE_MS = 2_000;

export interface SyncProducerOptions {
  redisUrl: string;
  /** BullMQ key prefix (EXSYNC_REDIS_PREFIX) */
  prefix: string;
  /** share an existing producer connection instead of opening one */
  connection?: Redis;
  onError?: (err: Error) => void;
  /** attempts and back-off of the jobs it queues (default: the configuration's defaults) */
  retry?: RetryPolicy;
}

export interface SyncProducer {
  /**
   * Queues a sync of the mailbox. At most one job per mailbox waits and at most one runs (BullMQ
   * deduplication with keepLastIfActive): a request while one waits folds into it; a request while
   * one runs queues exactly one follow-up, so a change made during a run is never missed.
   * Rejects at once when Redis is unreachable (callers answer 503; the scheduler catches up from Postgres).
   * The implementation of the API's EnqueueSync port (@exsync/canonical).
   */
  enqueueSync: EnqueueSync;
  readonly queue: Queue<SyncJobData>;
  close(): Promise<void>;
}

/** How long a producer waits for Redis before telling its caller the queue is unreachable. */
export const ENQUEUE_TIMEOUT_MS = 3_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms: Redis unreachable`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createSyncProducer(opts: SyncProducerOptions): SyncProducer {
  const ownConnection = !opts.connection;
  const connection = opts.connection ?? createRedisConnection(opts.redisUrl, 'producer', opts.onError);
  const queue = new Queue<SyncJobData>(SYNC_QUEUE, {
    connection,
    prefix: assertNoColon('EXSYNC_REDIS_PREFIX', opts.prefix),
    defaultJobOptions: syncJobOptions(opts.retry),
  });
  queue.on('error', opts.onError ?? (() => {}));

  return {
    queue,
    async enqueueSync(mailboxId, reason) {
      if (!UUID.test(mailboxId)) throw new Error(`mailbox id must be a UUID (got "${mailboxId}")`);
      if (connection.status === 'end' || connection.status === 'close' || connection.status === 'reconnecting') {
        throw new Error(`sync queue unavailable: Redis connection is ${connection.status}`);
      }
      const data: SyncJobData = { mailboxId, reason };
      // BullMQ waits for the connection to become ready; a producer must not wait on an outage.
      await withTimeout(
        queue.add(SYNC_JOB, data, {
          delay: reason.startsWith('crm') ? CRM_WRITE_DEBOUNCE_MS : 0,
          deduplication: { id: syncDedupId(mailboxId), keepLastIfActive: true },
        }),
        ENQUEUE_TIMEOUT_MS,
        'enqueueing a sync',
      );
    },
    async close() {
      if (ownConnection && connection.status !== 'ready') connection.disconnect();
      await withTimeout(queue.close(), ENQUEUE_TIMEOUT_MS, 'closing the sync queue').catch(() => {});
      if (ownConnection) connection.disconnect();
    },
  };
}
