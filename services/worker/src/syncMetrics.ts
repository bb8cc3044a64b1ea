/**
 * Prometheus metrics for the sync work itself (names are what ops/grafana-dashboard.json queries):
 *   exsync_sync_runs_total{outcome}                      runs by outcome: synced, throttled, retrying, error, skipped
 *   exsync_sync_run_duration_seconds{outcome}            wall time of runs that reached Exchange (histogram)
 *   exsync_sync_items_total{direction,kind,transport,op} items written: direction to-exchange | to-crm, op created | updated | deleted
 *   exsync_sync_conflicts_total{kind,transport}          conflicts resolved by the organisation's policy
 *   exsync_transport_requests_total{transport,operation,status}  requests to Exchange: SOAP operation, HTTP status (or "error" when none came back)
 *   exsync_throttle_waits_total{transport}               runs that Exchange throttled and that wait out its back-off
 *   exsync_throttle_wait_seconds_total{transport}        the back-off those runs wait, in seconds
 *   exsync_due_mailboxes                                 mailboxes the scheduler would claim now (Postgres, read at scrape)
 *   exsync_sync_queue_jobs{state}                        sync jobs in the queue by BullMQ state (Redis, read at scrape)
 */
import type { ExchangeTransport } from '@exsync/canonical';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Queryable } from '@exsync/db';
import type { SyncCounts } from '@exsync/sync-engine';
import { countDueMailboxes } from '@exsync/db';

export type RunOutcome = 'synced' | 'throttled' | 'retrying' | 'error' | 'skipped';
/** the transport label of the sync metrics */
export type TransportName = ExchangeTransport;

export interface SyncMetrics {
  /** one finished job; `seconds` for runs that reached Exchange (not for skipped ones) */
  run(outcome: RunOutcome, seconds?: number): void;
  /** the items one item kind of a run wrote, from the engine's counts */
  items(kind: string, transport: TransportName, counts: SyncCounts): void;
  /** one HTTP exchange with Exchange */
  request(transport: TransportName, operation: string, status: number | undefined): void;
  /** a run throttled by Exchange that now waits `seconds` */
  throttled(transport: TransportName, seconds: number): void;
}

/** BullMQ states a sync job can wait or run in, as the queue-depth gauge labels them. */
const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;

/**
 * Registers the sync metrics in `registry` (one set per registry: a second call on the same
 * registry throws prom-client's duplicate-name error). The two gauges read Postgres and Redis when
 * scraped; a failing read leaves the gauge at its last value rather than failing the scrape.
 */
export function createSyncMetrics(registry: Registry, sources: { pool: Queryable; queue: Pick<Queue, 'getJobCounts'> }): SyncMetrics {
  const registers = [registry];
  const runs = new Counter({ name: 'exsync_sync_runs_total', help: 'Sync runs by outcome', labelNames: ['outcome'], registers });
  const duration = new Histogram({
    name: 'exsync_sync_run_duration_seconds',
    help: 'Wall time of sync runs that reached Exchange, by outcome',
    labelNames: ['outcome'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const items = new Counter({
    name: 'exsync_sync_items_total',
    help: 'Items written by sync runs, by direction (to-exchange, to-crm), item kind, transport and operation',
    labelNames: ['direction', 'kind', 'transport', 'op'],
    registers,
  });
  const conflicts = new Counter({ name: 'exsync_sync_conflicts_total', help: 'Conflicts resolved by policy', labelNames: ['kind', 'transport'], registers });
  const requests = new Counter({
    name: 'exsync_transport_requests_total',
    help: 'Requests to Exchange by transport, operation and HTTP status ("error" when no answer came)',
    labelNames: ['transport', 'operation', 'status'],
    registers,
  });
  const throttleWaits = new Counter({
    name: 'exsync_throttle_waits_total',
    help: 'Runs throttled by Exchange that wait out its back-off',
    labelNames: ['transport'],
    registers,
  });
  const throttleSeconds = new Counter({
    name: 'exsync_throttle_wait_seconds_total',
    help: 'Back-off waited by throttled runs, in seconds',
    labelNames: ['transport'],
    registers,
  });
  new Gauge({
    name: 'exsync_due_mailboxes',
    help: 'Enabled mailboxes due for a sync now (what the scheduler would claim)',
    registers,
    async collect() {
      try {
        this.set(await countDueMailboxes(sources.pool));
      } catch {
        // Postgres unreachable: keep the last value; /readyz reports the outage.
      }
    },
  });
  new Gauge({
    name: 'exsync_sync_queue_jobs',
    help: 'Sync jobs in the queue by state',
    labelNames: ['state'],
    registers,
    async collect() {
      try {
        const counts = await sources.queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      } catch {
        // Redis unreachable: keep the last values; /readyz reports the outage.
      }
    },
  });

  return {
    run(outcome, seconds) {
      runs.inc({ outcome });
      if (seconds !== undefined) duration.observe({ outcome }, seconds);
    },
    items(kind, transport, counts) {
      for (const [direction, side] of [
        ['to-exchange', counts.toExchange],
        ['to-crm', counts.toCrm],
      ] as const) {
        for (const op of ['created', 'updated', 'deleted'] as const) {
          if (side[op] > 0) items.inc({ direction, kind, transport, op }, side[op]);
        }
      }
      if (counts.conflicts > 0) conflicts.inc({ kind, transport }, counts.conflicts);
    },
    request(transport, operation, status) {
      requests.inc({ transport, operation, status: status === undefined ? 'error' : String(status) });
    },
    throttled(transport, seconds) {
      throttleWaits.inc({ transport });
      throttleSeconds.inc({ transport }, seconds);
    },
  };
}
