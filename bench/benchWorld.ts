/**
 * What every benchmark scenario stands on: a database of its own, the simulators in a CHILD
 * process (so their CPU never counts as exsync's), mailboxes created and seeded through the
 * simulator's /_sim/ control API, and counters for EWS requests (the simulator's request log)
 * and Postgres statements (counted on the pool exsync uses).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createScratchDatabase } from '@exsync/db';
import { FOLDER_OF_KIND, type ItemKind, type MailboxPort } from '@exsync/canonical';
import { AppTokenProvider, DEFAULT_GET_ITEMS_BATCH_SIZE, openMailbox, type EwsMailbox } from '@exsync/ews-client';

const REPO_ROOT = path.resolve(__dirname, '..');

export interface SimInfo {
  entraUrl: string;
  ewsUrl: string;
  tenantId: string;
  applicationId: string;
  clientSecret: string;
}

export interface BenchWorld {
  sim: SimInfo;
  /** the simulators' process, for CPU accounting */
  simPid: number;
  pool: pg.Pool;
  /** Postgres statements sent through `pool` since the last reset */
  pgStatements(): number;
  resetPgStatements(): void;
  tokens: AppTokenProvider;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** EWS requests the simulator answered since the last clear, optionally for one mailbox */
  ewsRequests(mailbox?: string): Promise<number>;
  /** the same requests counted by EWS operation (SyncFolderItems, GetItem, ...) */
  ewsOperations(): Promise<Record<string, number>>;
  clearEwsRequests(): Promise<void>;
  setLatency(ms: number): Promise<void>;
  createMailbox(email: string): Promise<void>;
  open(email: string): EwsMailbox;
  accessToken(): Promise<string>;
  close(): Promise<void>;
}

async function startSimProcess(): Promise<{ child: ChildProcess; info: SimInfo }> {
  const child = spawn(
    process.execPath,
    [
      // EXSYNC_SIM_CPU_PROF=<dir>: a V8 CPU profile of the simulators, written when they stop
      ...(process.env.EXSYNC_SIM_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.EXSYNC_SIM_CPU_PROF}`] : []),
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'scripts/sim.ts'),
      '--json',
      '--entra-port',
      '0',
      '--ews-port',
      '0',
      '--graph-port',
      '0',
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TZ: 'UTC' },
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<SimInfo>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code} before listening`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as SimInfo));
  });
  return { child, info };
}

/** Stops the simulators and waits for them: a bench that left them running leaked a process per run. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

/** Counts every statement sent through the pool, whether by pool.query or a checked-out client. */
function countStatements(pool: pg.Pool): { get(): number; reset(): void } {
  let n = 0;
  const wrap = (target: { query: (...args: unknown[]) => unknown }) => {
    const original = target.query.bind(target);
    target.query = (...args: unknown[]) => {
      n += 1;
      return original(...args);
    };
  };
  pool.on('connect', (client) => wrap(client as unknown as { query: (...args: unknown[]) => unknown }));
  return {
    get: () => n,
    reset: () => {
      n = 0;
    },
  };
}

export async function createBenchWorld(): Promise<BenchWorld> {
  const db = await createScratchDatabase(process.env.EXSYNC_BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'exsync_bench');
  const { child, info } = await startSimProcess();
  const pool = new pg.Pool({ connectionString: db.url, max: 20 });
  const counter = countStatements(pool);
  const tokens = new AppTokenProvider({ allowInsecureAuthority: true });
  const creds = {
    authorityHost: info.entraUrl,
    tenantId: info.tenantId,
    applicationId: info.applicationId,
    clientSecret: info.clientSecret,
  };
  const ewsBase = new URL(info.ewsUrl).origin;
  const control = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${ewsBase}${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const accessToken = () => tokens.getToken(creds);
  return {
    sim: info,
    simPid: child.pid!,
    pool,
    pgStatements: counter.get,
    resetPgStatements: counter.reset,
    tokens,
    control,
    async ewsOperations() {
      const byOp: Record<string, number> = {};
      for (const r of await control<{ operation?: string }[]>('GET', '/_sim/requests')) byOp[r.operation ?? '?'] = (byOp[r.operation ?? '?'] ?? 0) + 1;
      return byOp;
    },
    async ewsRequests(mailbox) {
      const q = mailbox ? `?mailbox=${encodeURIComponent(mailbox)}` : '';
      return (await control<unknown[]>('GET', `/_sim/requests${q}`)).length;
    },
    async clearEwsRequests() {
      await control('DELETE', '/_sim/requests');
    },
    async setLatency(ms) {
      await control('PUT', '/_sim/faults', { latencyMs: ms });
    },
    async createMailbox(email) {
      await control('POST', '/_sim/mailboxes', { email, tenantId: info.tenantId });
    },
    open(email) {
      return openMailbox({ ewsUrl: info.ewsUrl, smtpAddress: email, mode: 'app-only', getAccessToken: accessToken, timeoutMs: 120_000 });
    },
    accessToken,
    async close() {
      await pool.end();
      await stopChild(child);
      await db.drop();
    },
  };
}

/** An organisation, user and enabled mailbox row for `email`, as the admin API would leave them. */
export async function createMailboxRows(pool: pg.Pool, orgId: string, email: string): Promise<{ userId: string; mailboxId: string }> {
  const user = await pool.query(`INSERT INTO users (org_id, crm_user_id, email) VALUES ($1, $2, $2) RETURNING id`, [orgId, email]);
  const mb = await pool.query(`INSERT INTO mailboxes (org_id, user_id, smtp_address, enabled, state) VALUES ($1, $2, $3, true, 'scheduled') RETURNING id`, [
    orgId,
    user.rows[0].id,
    email,
  ]);
  return { userId: user.rows[0].id, mailboxId: mb.rows[0].id };
}

export async function createOrg(pool: pg.Pool, name: string): Promise<string> {
  return (await pool.query(`INSERT INTO organisations (name) VALUES ($1) RETURNING id`, [name])).rows[0].id;
}

/**
 * A whole folder pulled the way the engine pulls it (SyncFolderItems pages, then GetItem batches),
 * with no database: the EWS part of a sync on its own. Returns the time spent in each of the two.
 */
export async function pullFolder(port: MailboxPort, kind: ItemKind): Promise<{ syncFolderMs: number; getItemsMs: number }> {
  let syncFolderMs = 0;
  let getItemsMs = 0;
  let t = performance.now();
  for await (const page of port.syncFolder(FOLDER_OF_KIND[kind], undefined)) {
    syncFolderMs += performance.now() - t;
    const ids = page.changes.filter((c) => c.type !== 'delete').map((c) => c.itemId);
    t = performance.now();
    for (let i = 0; i < ids.length; i += DEFAULT_GET_ITEMS_BATCH_SIZE) await port.getItems(kind, ids.slice(i, i + DEFAULT_GET_ITEMS_BATCH_SIZE));
    getItemsMs += performance.now() - t;
    t = performance.now();
  }
  syncFolderMs += performance.now() - t; // the last, empty wait for the iterator to finish
  return { syncFolderMs, getItemsMs };
}
