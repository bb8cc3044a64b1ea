/**
 * `npm run test:faults`: runs the fault suite with vitest, then prints one row per scenario and
 * writes bench/results/faults.json as [{scenario, figure, ok}]. Exits non-zero when vitest failed or
 * any scenario is not ok.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ScenarioResult } from './collector';

const root = path.resolve(__dirname, '../..');
const linesFile = path.join(tmpdir(), `exsync-faults-${process.pid}-${Date.now()}.jsonl`);

const run = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'tests/faults', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, EXSYNC_FAULTS_RESULTS: linesFile },
});

const results: ScenarioResult[] = existsSync(linesFile)
  ? readFileSync(linesFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ScenarioResult)
  : [];
rmSync(linesFile, { force: true });

const width = Math.max(8, ...results.map((r) => r.scenario.length));
console.log(`\n${'scenario'.padEnd(width)} | ok   | figure`);
console.log(`${'-'.repeat(width)}-|------|-------`);
for (const r of results) console.log(`${r.scenario.padEnd(width)} | ${r.ok ? 'yes ' : 'NO  '} | ${r.figure}`);

const outDir = path.join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'faults.json'), `${JSON.stringify(results, null, 2)}\n`);

const failed = run.status !== 0 || results.length === 0 || results.some((r) => !r.ok);
if (failed) console.error(`\nfault suite FAILED (vitest exit ${run.status}, ${results.filter((r) => !r.ok).length} scenario(s) not ok)`);
process.exit(failed ? 1 : 0);
