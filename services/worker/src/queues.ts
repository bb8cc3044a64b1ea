import type { SyncReason } from '@exsync/canonical';
import { Redis, type RedisOptions } from 'ioredis';

/** The one queue mailbox syncs travel on. */
export const SYNC_QUEUE = 'mailbox-sync';

/** The BullMQ job name; the payload type is SyncJobData. */
export const SYNC_JOB = 'sync-mailbox';

export type { SyncReason } from '@exsync/canonical';

/** Ids only: the processor re-reads everything else (and no secret ever sits in Redis in clear). */
export interface SyncJobData {
  mailboxId: string;
  reason: SyncReason;
}

/**
 * BullMQ builds keys as `<prefix>:<queue>:...`, so neither the prefix nor a job id may hold a `:`
 * (a job id with one is rejected; a prefix with one would split a key wrongly).
 */
export function assertNoColon(what: string, value: string): string {
  if (value.includes(':')) throw new Error(`${what} must not contain ":" (got "${value}")`);
  return value;
}

/** The deduplication id of a mailbox's sync jobs. */
export function syncDedupId(mailboxId: string): string {
  return assertNoColon('mailbox id', `mailbox-${mailboxId}`);
}

export type ConnectionRole = 'worker' | 'producer';

/**
 * Workers block on Redis and must wait through an outage (`maxRetriesPerRequest: null`, which BullMQ
 * requires); producers sit on an API request path and must fail at once so the API answers 503
 * instead of hanging (`enableOfflineQueue: false`, one try per command).
 * Every connection gets an `error` listener: without one, an outage would crash the process.
 */
export function createRedisConnection(redisUrl: string, role: ConnectionRole, onError: (err: Error) => void = () => {}): Redis {
  const options: RedisOptions =
    role === 'worker' ? { maxRetriesPerRequest: null, enableReadyCheck: true } : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
  const redis = new Redis(redisUrl, options);
  redis.on('error', onError);
  return redis;
}
