/**
 * The sync job, kept thin (STYLE.md): load what the run needs, take the mailbox lock, call the
 * engine per item kind, record the outcome. Sync decisions live in @exsync/sync-engine; error
 * mapping lives in syncErrorHandler.ts.
 */
import { SyncError, calendarWindowAt, toSyncError, type ItemKind, type MailboxOpener, type MailboxPort, type ExchangeTransport } from '@exsync/canonical';
import {
  failMailboxSwitch,
  getMailboxTransport,
  getOpenMailboxSwitch,
  loadCredentials,
  pgSyncStore,
  type ExchangeCredentials,
  type SecretBox,
} from '@exsync/db';
import { emptyCounts, syncMailboxKind, type SyncCounts, type SyncLog } from '@exsync/sync-engine';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type pg from 'pg';
import { tryLockMailbox } from '@exsync/db';
import { tokenGetter, type TokenProviders } from './mailboxTokens';
import { finishRun, loadRunContext, startRun, stopMailbox, type RunContext } from '@exsync/db';
import type { SyncJobData } from './queues';
import { DEFAULT_RETRY } from './syncJobOptions';
import { handleSyncError } from './syncErrorHandler';
import type { SyncMetrics, TransportName } from './syncMetrics';
import { createProgressReporter } from './syncProgress';
import { switchFailure, switchMailboxTransport } from './transportSwitchStep';

export interface SyncProcessorDeps {
  pool: pg.Pool;
  box: SecretBox;
  providers: TokenProviders;
  intervalSeconds: number;
  /** EXSYNC_SYNC_ATTEMPTS: attempts of a failed run before it shows as `error` */
  retryAttempts?: number;
  log: SyncLog & { error(fields: Record<string, unknown>, msg?: string): void };
  /** the EWS transport: opens a mailbox as a MailboxPort (worker.ts wires EWS's) */
  openMailbox: MailboxOpener;
  /** the Graph transport, for organisations whose settings say `transport: "graph"` */
  openGraphMailbox?: MailboxOpener;
  /**
   * Deadline of one request per transport, in ms (EXSYNC_EWS_TIMEOUT_SECONDS and
   * EXSYNC_GRAPH_TIMEOUT_SECONDS, wired by worker.ts); a transport left out keeps its own default.
   * openPort is the one place a mailbox's timeout is chosen: the transport it opens names it.
   */
  requestTimeoutMs?: Partial<Record<ExchangeTransport, number>>;
  /** how long a job waits when another worker holds the mailbox (plus jitter) */
  lockBusyDelayMs?: number;
  /** Prometheus counters for runs, items, requests and throttling (absent: nothing is counted) */
  metrics?: SyncMetrics;
  /** the clock the organisation's calendar window is taken at (default the system clock) */
  now?: () => Date;
}

/** The transport every run uses today; a Graph transport will name itself here. */

export type SyncJobResult = { outcome: 'synced'; counts: SyncCounts } | { outcome: 'skipped'; why: string };

const DEFAULT_LOCK_BUSY_DELAY_MS = 2_000;

/** Errors the processor threw after recording the run's outcome on the mailbox (same process). */
const recordedFailures = new WeakSet<object>();

/**
 * True when `err` is a failure the sync job recorded on the mailbox before throwing it (a retry or
 * a stop): worker.ts's `failed` handler leaves the status it recorded alone. Anything else that
 * fails a job for good (it stalled out, or failed before the run could record it) is an
 * interruption the handler records (mailboxStatus `run-interrupted`).
 */
export function isRecordedFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && recordedFailures.has(err);
}

function recorded<E>(err: E): E {
  if (typeof err === 'object' && err !== null) recordedFailures.add(err);
  return err;
}

function runnable(ctx: RunContext): string | null {
  if (!ctx.enabled) return 'not enabled';
  if (!ctx.smtpAddress) return 'no mailbox bound (awaiting user login)';
  if (ctx.state === 'error' && ctx.nextRunAt === null) return 'stopped by an error that needs a person';
  return null;
}

function addCounts(a: SyncCounts, b: SyncCounts): SyncCounts {
  const side = (x: SyncCounts['toCrm'], y: SyncCounts['toCrm']) => ({
    created: x.created + y.created,
    updated: x.updated + y.updated,
    deleted: x.deleted + y.deleted,
  });
  return {
    toExchange: side(a.toExchange, b.toExchange),
    toCrm: side(a.toCrm, b.toCrm),
    conflicts: a.conflicts + b.conflicts,
    failingItems: a.failingItems + b.failingItems,
  };
}

async function delayJob(job: Job<SyncJobData>, token: string | undefined, untilMs: number): Promise<never> {
  await job.moveToDelayed(untilMs, token);
  throw new DelayedError();
}

export function createSyncProcessor(deps: SyncProcessorDeps) {
  return async function processSyncJob(job: Job<SyncJobData>, token?: string): Promise<SyncJobResult> {
    const { mailboxId } = job.data;
    const skipped = (why: string): SyncJobResult => {
      deps.metrics?.run('skipped');
      return { outcome: 'skipped', why };
    };
    const ctx = await loadRunContext(deps.pool, mailboxId);
    if (!ctx) return skipped('mailbox deleted');
    const notRunnable = runnable(ctx);
    if (notRunnable) return skipped(notRunnable);
    if (ctx.orgStop) {
      // The org was stopped after this job was queued: show why, send nothing to Microsoft.
      await stopMailbox(deps.pool, mailboxId, ctx.orgStop);
      return skipped(`organisation stopped: ${ctx.orgStop.code}`);
    }
    if (ctx.throttledUntil && ctx.throttledUntil.getTime() > Date.now()) {
      return delayJob(job, token, ctx.throttledUntil.getTime());
    }

    const lock = await tryLockMailbox(deps.pool, mailboxId);
    if (!lock) {
      const wait = (deps.lockBusyDelayMs ?? DEFAULT_LOCK_BUSY_DELAY_MS) * (1 + Math.random());
      return delayJob(job, token, Date.now() + Math.round(wait));
    }
    let failure: unknown;
    let counts = emptyCounts();
    // The organisation's transport, known once its settings are loaded: metrics are labelled with it.
    const run: RunTransport = { transport: 'ews' };
    const startedAt = performance.now();
    const seconds = (): number => (performance.now() - startedAt) / 1000;
    try {
      await startRun(deps.pool, mailboxId);
      // the smaller of the job's own attempts and this worker's setting (as for the error handler below)
      const lastAttempt = job.attemptsMade + 1 >= Math.min(job.opts.attempts ?? Infinity, deps.retryAttempts ?? DEFAULT_RETRY.attempts);
      counts = await runSync(deps, ctx, run, lastAttempt);
      await finishRun(deps.pool, mailboxId, counts, deps.intervalSeconds);
    } catch (e) {
      failure = e;
    } finally {
      await lock.release();
    }
    if (failure === undefined) {
      deps.metrics?.run('synced', seconds());
      deps.log.info({ mailboxId, reason: job.data.reason, counts }, 'mailbox synced');
      return { outcome: 'synced', counts };
    }

    const outcome = await handleSyncError({
      pool: deps.pool,
      mailboxId,
      orgId: ctx.orgId,
      smtpAddress: ctx.smtpAddress,
      error: failure,
      attemptsMade: job.attemptsMade,
      // the smaller of the job's own attempts and this worker's setting, so the last attempt is always recorded as such
      maxAttempts: Math.min(job.opts.attempts ?? Infinity, deps.retryAttempts ?? DEFAULT_RETRY.attempts),
      intervalSeconds: deps.intervalSeconds,
    });
    const errFields = { mailboxId, error: (failure as Error)?.name, message: (failure as Error)?.message, action: outcome.action };
    deps.metrics?.run(outcome.action === 'delay' ? 'throttled' : outcome.action === 'retry' ? 'retrying' : 'error', seconds());
    if (outcome.action === 'delay') {
      deps.metrics?.throttled(run.transport, Math.max(0, outcome.untilMs - Date.now()) / 1000);
      deps.log.warn(errFields, 'mailbox throttled; job delayed until the back-off ends');
      return delayJob(job, token, outcome.untilMs);
    }
    if (outcome.action === 'retry') {
      deps.log.warn(errFields, 'transient failure; retrying with back-off');
      throw recorded(failure);
    }
    deps.log.error(errFields, 'sync stopped');
    throw recorded(new UnrecoverableError(outcome.message));
  };
}

interface RunTransport {
  transport: TransportName;
}

async function runSync(deps: SyncProcessorDeps, ctx: RunContext, run: RunTransport, lastAttempt: boolean): Promise<SyncCounts> {
  const creds = await loadOrgCredentials(deps, ctx);
  await switchIfDue(deps, ctx, creds, run, lastAttempt);
  // the mailbox's own transport: during a switch (or after a failed one) it may differ from the organisation's
  const transport = (await getMailboxTransport(deps.pool, ctx.mailboxId)) ?? creds.transport;
  const port = openPort(deps, ctx, creds, transport, run);
  const onProgress = createProgressReporter(deps.pool, ctx.mailboxId, async () => (port.folderTotals ? port.folderTotals() : {}));
  const kinds: { kind: ItemKind; direction: RunContext['calendarDirection'] }[] = [];
  if (ctx.syncCalendar) kinds.push({ kind: 'appointment', direction: ctx.calendarDirection });
  if (ctx.syncContacts) kinds.push({ kind: 'contact', direction: ctx.contactsDirection });
  // The folders of one mailbox sync side by side (issue 19): two requests in flight stay well
  // inside Exchange's per-mailbox budget, and each folder's SyncState is still saved only with the
  // page it covers. Both are awaited before the run ends, so a failure never leaves the other
  // running after the mailbox lock is released; the first failure is the run's.
  const store = pgSyncStore(deps.pool);
  const outcomes = await Promise.allSettled(
    kinds.map(async ({ kind, direction }) => {
      const counts = await syncMailboxKind({
        store,
        port,
        mailboxId: ctx.mailboxId,
        orgId: ctx.orgId,
        userId: ctx.userId,
        kind,
        direction,
        policy: creds.conflictPolicy,
        log: deps.log,
        onProgress,
      });
      deps.metrics?.items(kind, run.transport, counts);
      return counts;
    }),
  );
  let total = emptyCounts();
  for (const o of outcomes) {
    if (o.status === 'rejected') throw o.reason;
    total = addCounts(total, o.value);
  }
  return total;
}

async function loadOrgCredentials(deps: SyncProcessorDeps, ctx: RunContext): Promise<ExchangeCredentials> {
  let creds;
  try {
    creds = await loadCredentials(deps.pool, deps.box, ctx.orgId);
  } catch (e) {
    if ((e as Error)?.name === 'SecretBoxError' || (e as Error)?.name === 'ClientCertificateError') {
      throw new SyncError('InvalidSettings', 'stored credentials cannot be opened', { code: 'CredentialsUnreadable', cause: e });
    }
    throw e;
  }
  if (!creds) {
    throw new SyncError('InvalidSettings', 'no Exchange settings', { code: 'ExchangeNotConfigured' });
  }
  return creds;
}

/** The mailbox opened over `transport` (its tokens and request timeout for that transport); metrics are labelled with it. */
function openPort(deps: SyncProcessorDeps, ctx: RunContext, creds: ExchangeCredentials, transport: ExchangeTransport, run: RunTransport): MailboxPort {
  const getAccessToken = tokenGetter({
    pool: deps.pool,
    box: deps.box,
    providers: deps.providers,
    creds: { ...creds, transport },
    mailboxId: ctx.mailboxId,
    refreshTokenEnc: ctx.refreshTokenEnc,
  });
  const graph = transport === 'graph';
  run.transport = graph ? 'graph' : 'ews';
  const open = graph ? deps.openGraphMailbox : deps.openMailbox;
  if (!open) throw new SyncError('InvalidSettings', 'this worker has no Graph transport', { code: 'GraphTransportUnsupported' });
  return open({
    endpointUrl: graph ? creds.graphUrl : creds.ewsUrl,
    smtpAddress: ctx.smtpAddress as string,
    mode: creds.authMode,
    getAccessToken,
    timeoutMs: deps.requestTimeoutMs?.[transport],
    // the window a windowed transport lists (it starts a new round when this moves) and the meeting delete policy
    calendarWindow: calendarWindowAt((deps.now ?? (() => new Date()))(), creds.calendarWindow),
    deleteOrganizerMeetings: creds.deleteOrganizerMeetings,
    onRequest: deps.metrics ? (r) => deps.metrics!.request(run.transport, r.operation, r.status) : undefined,
  });
}

/**
 * A pending transport switch of the mailbox runs first (transportSwitchStep.ts). Throttled, or a
 * transient failure with attempts left: the job is delayed or retried and the switch resumes.
 * Anything else (or the last attempt): the switch is recorded as failed with the catalogue's
 * cause and the run goes on over the old transport.
 */
async function switchIfDue(deps: SyncProcessorDeps, ctx: RunContext, creds: ExchangeCredentials, run: RunTransport, lastAttempt: boolean): Promise<void> {
  const sw = await getOpenMailboxSwitch(deps.pool, ctx.mailboxId);
  if (!sw) return;
  try {
    const port = openPort(deps, ctx, creds, sw.to, run);
    await switchMailboxTransport({ pool: deps.pool, mailboxId: ctx.mailboxId, from: sw.from, to: sw.to, port, log: deps.log });
  } catch (e) {
    const err = toSyncError(e);
    if (err.kind === 'Throttled' || (err.kind === 'Transient' && !lastAttempt)) throw e;
    const failure = switchFailure(e, ctx.smtpAddress);
    deps.log.warn({ mailboxId: ctx.mailboxId, to: sw.to, code: failure.code }, 'transport switch failed; the mailbox stays on its transport');
    await failMailboxSwitch(deps.pool, ctx.mailboxId, failure);
  }
}
