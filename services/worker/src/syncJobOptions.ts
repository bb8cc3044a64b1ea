import type { RetryPolicy } from '@exsync/config';
import type { JobsOptions } from 'bullmq';

/** The configuration's defaults (EXSYNC_SYNC_ATTEMPTS, EXSYNC_RETRY_BASE_DELAY_MS, EXSYNC_RETRY_MAX_DELAY_MS). */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 2_000, maxDelayMs: 5 * 60_000 };

/** Back-off type name understood by the worker's `settings.backoffStrategy`. */
export const JITTERED_EXPONENTIAL = 'jittered-exponential';

/**
 * Full jitter (a random delay in [cap/2, cap], cap = min(max, base * 2^(attemptsMade-1)), in ms):
 * many mailboxes failing together (an Exchange outage) then spread their retries instead of
 * returning in lock-step.
 */
export function jitteredExponentialBackoff(
  attemptsMade: number,
  retry: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> = DEFAULT_RETRY,
  random: () => number = Math.random,
): number {
  const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** BullMQ options of every sync job: `retry.attempts` attempts in all, with the jittered back-off. */
export function syncJobOptions(retry: RetryPolicy = DEFAULT_RETRY): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: JITTERED_EXPONENTIAL },
    // Finished jobs are history the status columns in Postgres already hold; keep a little for debugging.
    removeOnComplete: { count: 1_000 },
    removeOnFail: { count: 5_000, age: 7 * 24 * 3600 },
  };
}
