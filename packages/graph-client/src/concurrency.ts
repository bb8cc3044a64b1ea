/**
 * A counting semaphore: Outlook allows 4 concurrent requests per app and mailbox (GRAPH-NOTES,
 * "Limits"; over it: 429 MailboxConcurrency). A `$batch` takes as many permits as requests it may
 * run at once on the server (at most 4), since each counts toward the same limit there.
 * It also holds the mailbox's pause: after a 429/503 with Retry-After no request of the mailbox is
 * sent until it ends ("early retries count too", learn.microsoft.com/graph/throttling), whichever
 * request got the answer.
 */
export class Semaphore {
  private available: number;
  /** epoch ms before which no request starts */
  private pausedUntil = 0;
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
      for (let left = this.pausedUntil - Date.now(); left > 0; left = this.pausedUntil - Date.now()) await sleep(left);
      return await fn();
    } finally {
      this.release(want);
    }
  }

  /** Holds back every request started through this semaphore for `ms` from now (a longer pause already set stands). */
  pauseFor(ms: number): void {
    if (ms > 0) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
