import { GraphError } from './errors';

/**
 * Outlook's per-app, per-mailbox concurrency limit: 4 requests in flight (learn.microsoft.com/graph/
 * throttling-limits, "Outlook service limits"). The fifth answers 429 `ApplicationThrottled` with
 * Retry-After. Requests inside a $batch count one by one.
 */
export const MAILBOX_CONCURRENCY_LIMIT = 4;
export const CONCURRENCY_RETRY_AFTER_SECONDS = 1;

export class MailboxConcurrency {
  private readonly inFlight = new Map<string, number>();

  /** Takes a slot or throws the 429; the returned function gives the slot back (idempotent). */
  acquire(appId: string, mailbox: string): () => void {
    const key = `${appId}|${mailbox}`;
    const n = (this.inFlight.get(key) ?? 0) + 1;
    if (n > MAILBOX_CONCURRENCY_LIMIT) {
      throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', {
        'Retry-After': String(CONCURRENCY_RETRY_AFTER_SECONDS),
      });
    }
    this.inFlight.set(key, n);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
  }

  current(appId: string, mailbox: string): number {
    return this.inFlight.get(`${appId}|${mailbox}`) ?? 0;
  }
}
