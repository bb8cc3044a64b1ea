import type { JobsOptions } from 'bullmq';

/** A transient failure is retried this many times in all before the run counts as failed. */
export const SYNC_ATTEMPTS = 6;

/** Back-off type name understood by the worker's `settings.backoffStrategy`. */
export const JITTERED_EXPONENTIAL = 'jittered-exponential';

const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Full jitter (a random delay up to the exponential cap): many mailboxes failing together (an
 * Exchange outage) then spread their retries instead of returning in lock-step.
 */
export function jitteredExponentialBackoff(attemptsMade: number, random: () => number = Math.random): number {
  const cap = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export const SYNC_JOB_OPTIONS: JobsOptions = {
  attempts: SYNC_ATTEMPTS,
  backoff: { type: JITTERED_EXPONENTIAL },
  // Finished jobs are history the status columns in Postgres already hold; keep a little for debugging.
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000, age: 7 * 24 * 3600 },
};
