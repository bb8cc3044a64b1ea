import { performance } from 'node:perf_hooks';

/** One EWS or Graph request as the simulators saw it. Times are epoch milliseconds with sub-ms precision. */
export interface RequestLogEntry {
  seq: number;
  /** Which simulator answered: the EWS SOAP endpoint or the Graph REST endpoint (both share this log). */
  protocol: 'ews' | 'graph';
  mailbox: string | undefined;
  operation: string | undefined;
  startedAt: number;
  endedAt: number | undefined;
  /** HTTP status answered; 0 when the connection was reset or left hanging. */
  status: number | undefined;
  impersonation: boolean;
  anchorMailbox: string | undefined;
  fault?: 'reset' | 'hang';
  error?: string;
  /** Graph: the `seq` of the `$batch` this request was answered inside. */
  batchSeq?: number;
  /** Graph: the Retry-After header answered (seconds), when there was one. */
  retryAfter?: string;
  /** Graph: the requests of this mailbox holding a concurrency slot when this one asked for its own, itself included (over the limit: refused with 429). */
  inFlight?: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Bounded in-memory log; tests assert concurrency rules ("never two syncs at once") from it. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(private readonly capacity = 200_000) {}

  start(init: { impersonation: boolean; anchorMailbox: string | undefined; protocol?: 'ews' | 'graph' }): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      protocol: init.protocol ?? 'ews',
      mailbox: undefined,
      operation: undefined,
      startedAt: now(),
      endedAt: undefined,
      status: undefined,
      impersonation: init.impersonation,
      anchorMailbox: init.anchorMailbox,
    };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return entry;
  }

  finish(entry: RequestLogEntry, status: number, fault?: 'reset' | 'hang'): void {
    if (entry.endedAt !== undefined) return;
    entry.endedAt = now();
    entry.status = status;
    if (fault) entry.fault = fault;
  }

  noteError(entry: RequestLogEntry, e: unknown): void {
    entry.error = e instanceof Error ? e.message : String(e);
  }

  /** Copies of the entries, optionally for one mailbox and/or one protocol. */
  list(mailbox?: string, protocol?: 'ews' | 'graph'): RequestLogEntry[] {
    const m = mailbox?.toLowerCase();
    return this.entries.filter((e) => (!m || e.mailbox === m) && (!protocol || e.protocol === protocol)).map((e) => ({ ...e }));
  }

  /**
   * The largest number of requests that were in flight at once for a mailbox, optionally only
   * counting some operations. Requests still in flight count as open.
   */
  maxConcurrency(mailbox: string, operations?: Set<string>): number {
    const events: [number, number][] = [];
    for (const e of this.list(mailbox)) {
      if (operations && (!e.operation || !operations.has(e.operation))) continue;
      events.push([e.startedAt, 1], [e.endedAt ?? Number.POSITIVE_INFINITY, -1]);
    }
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let max = 0;
    for (const [, d] of events) {
      cur += d;
      max = Math.max(max, cur);
    }
    return max;
  }

  clear(): void {
    this.entries = [];
  }
}
