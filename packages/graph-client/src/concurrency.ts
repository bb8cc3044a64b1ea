/**
 * A counting semaphore: Outlook allows 4 concurrent requests per app and mailbox (GRAPH-NOTES,
 * "Limits"; over it: 429 MailboxConcurrency). A `$batch` takes as many permits as requests it may
 * run at once on the server (at most 4), since each counts toward the same limit there.
 */
export class Semaphore {
  private available: number;
  private readonly waiting: { n: number; wake: () => void }[] = [];

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError('permits must be a positive integer');
    this.available = permits;
  }

  /** Runs `fn` holding `n` permits (clamped to 1..permits), released when it settles. */
  async run<T>(n: number, fn: () => Promise<T>): Promise<T> {
    const want = Math.min(Math.max(1, n), this.permits);
    await this.acquire(want);
    try {
      return await fn();
    } finally {
      this.release(want);
    }
  }

  private acquire(n: number): Promise<void> {
    if (this.waiting.length === 0 && this.available >= n) {
      this.available -= n;
      return Promise.resolve();
    }
    return new Promise((wake) => this.waiting.push({ n, wake }));
  }

  private release(n: number): void {
    this.available += n;
    // first come, first served: a batch waiting for 4 permits is not starved by single requests
    while (this.waiting.length > 0 && this.available >= this.waiting[0].n) {
      const next = this.waiting.shift()!;
      this.available -= next.n;
      next.wake();
    }
  }
}

const perMailbox = new Map<string, Semaphore>();

/** The process-wide semaphore of one mailbox at one Graph endpoint (every open session shares it). */
export function mailboxSemaphore(baseUrl: string, mailbox: string, permits: number): Semaphore {
  const key = `${baseUrl}\u0000${mailbox.toLowerCase()}`;
  let s = perMailbox.get(key);
  if (!s || s.permits !== permits) {
    s = new Semaphore(permits);
    perMailbox.set(key, s);
  }
  return s;
}
