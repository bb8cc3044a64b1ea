/**
 * Turns due mailboxes in Postgres into sync jobs. Postgres, not Redis, says what must run: each
 * tick claims due mailboxes with UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING (safe with several
 * scheduler processes, cost proportional to due mailboxes thanks to the partial index), so if Redis
 * lost its jobs the next ticks simply enqueue the work again. Each tick also rolls the calendar
 * window: mailboxes whose organisation's window (a week at a time) moved become due at once.
 */
import type { SyncReason } from '@exsync/canonical';
import { markDueNow } from '@exsync/db';
import type pg from 'pg';
import { claimDueMailboxes, reviveMailboxes, scheduleCalendarWindowRolls } from '@exsync/db';

export interface SchedulerOptions {
  pool: pg.Pool;
  enqueueSync: (mailboxId: string, reason: SyncReason) => Promise<void>;
  intervalSeconds: number;
  /** time between ticks (default 5 s) */
  tickMs?: number;
  /** mailboxes claimed per query; a tick repeats the claim while full batches come back */
  batchSize?: number;
  /** a mailbox `syncing` for longer than this is taken as abandoned by a killed worker */
  stuckSyncingSeconds?: number;
  /** the clock the calendar window rolls by (default the system clock; tests inject theirs) */
  now?: () => Date;
  log?: { warn(fields: Record<string, unknown>, msg?: string): void; info?(fields: Record<string, unknown>, msg?: string): void };
}

export interface Scheduler {
  /** one tick: revive what may run again, claim and enqueue due mailboxes; returns how many were enqueued */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

const DEFAULT_TICK_MS = 5_000;
const DEFAULT_BATCH = 500;
const FIRST_TICK_MS = 200;
/** bounded so one tick cannot monopolise the pool when a backlog builds up */
const MAX_BATCHES_PER_TICK = 20;

export function startScheduler(opts: SchedulerOptions): Scheduler {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  let stopped = false;
  let running: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function enqueueAll(ids: string[], reason: SyncReason): Promise<number> {
    let enqueued = 0;
    for (const id of ids) {
      try {
        await opts.enqueueSync(id, reason);
        enqueued += 1;
      } catch (e) {
        // Redis is down: the mailbox was claimed and will not be due again for an interval. Make it
        // due now so a later tick enqueues it once Redis is back.
        await markDueNow(opts.pool, id).catch(() => {});
        opts.log?.warn({ mailboxId: id, err: (e as Error).message }, 'could not enqueue a due mailbox; will retry');
        return enqueued;
      }
    }
    return enqueued;
  }

  async function tick(): Promise<number> {
    // A moved calendar window makes its mailboxes due now: the claim below picks them up.
    const rolled = await scheduleCalendarWindowRolls(opts.pool, (opts.now ?? (() => new Date()))());
    if (rolled.length) opts.log?.info?.({ mailboxes: rolled.length }, 'calendar window moved; mailboxes due now');
    let enqueued = await enqueueAll(
      await reviveMailboxes(opts.pool, { stuckSyncingSeconds: opts.stuckSyncingSeconds ?? 3_600, intervalSeconds: opts.intervalSeconds }),
      'settings',
    );
    for (let i = 0; i < MAX_BATCHES_PER_TICK && !stopped; i++) {
      const ids = await claimDueMailboxes(opts.pool, { limit: batchSize, intervalSeconds: opts.intervalSeconds });
      enqueued += await enqueueAll(ids, 'scheduled');
      if (ids.length < batchSize) break;
    }
    return enqueued;
  }

  function schedule(delayMs = opts.tickMs ?? DEFAULT_TICK_MS): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((e) => {
          opts.log?.warn({ err: (e as Error).message }, 'scheduler tick failed; next tick retries');
          return 0;
        })
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, delayMs);
    timer.unref();
  }
  // First tick soon after start: a restarted worker picks up what became due while it was down.
  schedule(FIRST_TICK_MS);

  return {
    tick: async () => {
      while (running) await running;
      return tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
