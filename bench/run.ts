/**
 * `npm run bench [-- --quick] [--only name,name]`: every scenario of the benchmark issue against
 * the simulators (run in a child process, with 20 ms injected per EWS request), one table on
 * stdout and one JSON file per scenario under bench/results/ (a `--quick` run under
 * bench/results/quick/, an `--only` run under bench/results/only/). Never part of `npm test`.
 *
 * The initial sync gives two rows (bench/scenarios.ts `initialSync`): `initial-sync-cold-process`,
 * the process's first sync, and `initial-sync`, the next mailbox's in the same (now warm) process,
 * as a long-running worker meets it; the simulator is warmed by exchangelib before either.
 * Peak memory (scenario 6) is measured in a fresh child process per size, so each figure is that
 * sync's own peak RSS and not the largest of everything run before it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBenchWorld } from './benchWorld';
import { graphRows } from './graphScenarios';
import { FULL, QUICK, changedOnePercent, initialSync, pushNew, schedulerTick, unchangedMailboxes, type BenchResult, type Sizes } from './scenarios';

process.env.TZ = 'UTC';
// The simulators speak http on loopback: the endpoint policy lets them through only with these.
process.env.EXSYNC_ALLOW_INSECURE_AUTHORITY ??= 'true';
process.env.EXSYNC_ALLOWED_HOSTS ??= '127.0.0.1,localhost';
const RESULTS_DIR = path.join(__dirname, 'results');

/**
 * Where a run's JSON files go. Only a full run of every scenario writes bench/results/*.json,
 * the files the README quotes; `--quick` writes bench/results/quick/, `--only` (full size)
 * bench/results/only/, so a partial run never overwrites them.
 */
function resultsDir(args: { quick: boolean; only?: Set<string> }): string {
  if (args.quick) return path.join(RESULTS_DIR, 'quick');
  if (args.only) return path.join(RESULTS_DIR, 'only');
  return RESULTS_DIR;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${os.platform()}`;
}

function parseArgs(argv: string[]): { quick: boolean; only?: Set<string>; memoryChild?: number } {
  const out: { quick: boolean; only?: Set<string>; memoryChild?: number } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--quick') out.quick = true;
    else if (flag === '--only') out.only = new Set((inline ?? argv[++i] ?? '').split(','));
    else if (flag === '--memory-child') out.memoryChild = Number(inline ?? argv[++i]);
    else {
      process.stderr.write(`unknown option ${argv[i]}; use --quick, --only a,b\n`);
      process.exit(2);
    }
  }
  return out;
}

/** Child mode: one initial sync of `items` (two thirds appointments), printed as one JSON line. */
async function memoryChild(items: number, sizes: Sizes): Promise<void> {
  const w = await createBenchWorld();
  try {
    const appointments = Math.round((items * 2) / 3);
    const [r] = await initialSync(w, sizes, machine(), appointments, items - appointments, false);
    process.stdout.write(JSON.stringify({ ...r, scenario: `memory-${items}` }) + '\n');
  } finally {
    await w.close();
  }
}

function runMemoryChild(items: number, quick: boolean): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', __filename, '--memory-child', String(items), ...(quick ? ['--quick'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`memory child for ${items} items exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as BenchResult);
    });
  });
}

function printTable(rows: BenchResult[], dir: string): void {
  const cols: [string, (r: BenchResult) => unknown][] = [
    ['scenario', (r) => r.scenario],
    ['items', (r) => r.items],
    ['wall ms', (r) => r.wallMs],
    ['EWS req', (r) => r.ewsRequests],
    ['PG stmts', (r) => r.pgStatements],
    ['CPU ms', (r) => r.cpuMs],
    ['CPU us/item', (r) => r.cpuUsPerItem],
    ['items/s', (r) => r.itemsPerSecond],
    ['floor ms', (r) => r.floorMs],
    ['x floor', (r) => r.ratioToFloor],
    ['naive/exsync', (r) => r.ratioNaive],
    ['exchangelib/exsync', (r) => r.ratioExchangelib],
    ['peak RSS MB', (r) => r.peakRssMb],
  ];
  const cells = rows.map((r) => cols.map(([, f]) => String(f(r) ?? '-')));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padStart(widths[i])).join('  ');
  console.log(line(cols.map(([h]) => h)));
  for (const c of cells) console.log(line(c));
  console.log(
    `\nmachine: ${rows[0]?.machine ?? machine()}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${rows.length} scenarios; notes in ${dir}/*.json`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  if (args.memoryChild !== undefined) return memoryChild(args.memoryChild, sizes);

  const wanted = (name: string) => !args.only || args.only.has(name);
  const rows: BenchResult[] = [];
  const w = await createBenchWorld();
  try {
    const m = machine();
    if (wanted('initial-sync')) rows.push(...(await initialSync(w, sizes, m)));
    if (wanted('incremental-unchanged')) rows.push(await unchangedMailboxes(w, sizes, m));
    if (wanted('incremental-1pct')) rows.push(await changedOnePercent(w, sizes, m));
    if (wanted('push-new')) rows.push(await pushNew(w, sizes, m));
    if (wanted('scheduler-tick')) rows.push(await schedulerTick(w, sizes, m));
    rows.push(...(await graphRows(w, sizes, m, wanted)));
  } finally {
    await w.close();
  }
  if (wanted('memory')) {
    const [small, large] = args.quick ? [500, 5_000] : [5_000, 50_000];
    const a = await runMemoryChild(small, args.quick);
    const b = await runMemoryChild(large, args.quick);
    rows.push(a, { ...b, notes: `${b.notes}; peak RSS ${b.peakRssMb} MB at ${large} items vs ${a.peakRssMb} MB at ${small}` });
  }
  const dir = resultsDir(args);
  mkdirSync(dir, { recursive: true });
  for (const r of rows) writeFileSync(path.join(dir, `${r.scenario}.json`), JSON.stringify({ ...r, quick: args.quick }, null, 2) + '\n');
  printTable(rows, path.relative(process.cwd(), dir));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
