/**
 * Shared collector of the fault suite's figures. Each scenario appends one JSON line to the run's
 * file (EXSYNC_FAULTS_RESULTS, set by report.ts); without that variable (plain `npm test`) nothing is
 * written and the scenarios still assert on their own.
 */
import { appendFileSync } from 'node:fs';

export interface ScenarioResult {
  scenario: string;
  figure: string;
  ok: boolean;
}

export function recordResult(result: ScenarioResult): void {
  const file = process.env.EXSYNC_FAULTS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
  console.log(`[faults] ${result.ok ? 'ok  ' : 'FAIL'} ${result.scenario}: ${result.figure}`);
}

/**
 * Runs a scenario body that reports its figure through `setFigure`; the result is recorded as failed
 * when the body throws (an assertion failed), so the table never shows a silent pass.
 */
export async function measure(scenario: string, body: (setFigure: (figure: string) => void) => Promise<void>): Promise<void> {
  let figure = 'not measured';
  try {
    await body((f) => (figure = f));
    recordResult({ scenario, figure, ok: true });
  } catch (e) {
    recordResult({ scenario, figure: `${figure} (failed: ${(e as Error).message.split('\n')[0].slice(0, 160)})`, ok: false });
    throw e;
  }
}

/** Seeded PRNG (the simulators' own) so a failing run can be replayed from its printed seed. */
export { seededRandom } from '@exsync/ews-sim';

/** The seed for this run: EXSYNC_FAULTS_SEED replays one, otherwise a fresh one (always printed). */
export function runSeed(label: string): number {
  const fromEnv = Number(process.env.EXSYNC_FAULTS_SEED);
  const seed = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
  console.log(`[faults] ${label} seed=${seed} (replay with EXSYNC_FAULTS_SEED=${seed})`);
  return seed;
}

export const LONG = process.env.EXSYNC_FAULTS_LONG === '1';

/** A JWT (access or ID token) anywhere in a text: header and payload are base64url JSON objects. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;

/**
 * The texts (log lines, response bodies, error messages) that hold a secret: one of `needles`
 * (client secrets, refresh tokens, admin tokens) or any JWT. Returns the offending texts, cut short.
 */
export function secretHits(texts: readonly string[], needles: readonly string[]): string[] {
  const real = needles.filter((n) => n.length >= 8);
  return texts.filter((t) => JWT.test(t) || real.some((n) => t.includes(n))).map((t) => t.slice(0, 200));
}
