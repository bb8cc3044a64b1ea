/**
 * kill -9 of the mailbox monitor's worker at seeded points of a message's handling (after the
 * fetch, after the store, after \Seen, after the move), restart, and at the end: every delivered
 * message in the CRM feed exactly once, in order, and all of them moved. 3 kills over 40 messages
 * by default; EXSYNC_FAULTS_LONG=1 runs 20 kills over 200.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeMessage, startMonitorStack, waitFor, type MonitorStack } from '../support/monitor';
import { LONG, measure, runSeed, seededRandom } from './collector';

const ALICE = 'alice@contoso.example';
const KILLS = LONG ? 20 : 3;
const MESSAGES = LONG ? 200 : 40;
const POINTS = ['fetched', 'stored', 'flagged', 'moved'] as const;
const ROOT = path.resolve(__dirname, '../..');

function runMonitorWorker(env: Record<string, string>, killAt?: string): { exited: Promise<string | number | null>; stop(): Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/monitor/monitorWorkerProcess.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...(killAt ? { EXSYNC_TEST_KILL_AT: killAt } : {}) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<string | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return {
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

describe('kill -9 of the mailbox monitor worker', () => {
  let stack: MonitorStack;
  beforeAll(async () => {
    stack = await startMonitorStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(
    `loses and duplicates nothing over ${KILLS} kills`,
    async () => {
      await measure(`mailbox monitor: kill -9 at ${KILLS} seeded points`, async (setFigure) => {
        const seed = runSeed('monitor kill -9');
        const rnd = seededRandom(seed);
        const mailboxId = await stack.addMailbox(ALICE);
        const ids: string[] = [];
        for (let i = 0; i < MESSAGES; i++) {
          const raw = await composeMessage({
            from: 'sender@sender.example',
            to: ALICE,
            subject: `k${i}`,
            messageId: `<k${i}@sender.example>`,
            text: `body ${i}`,
          });
          ids.push(`k${i}@sender.example`);
          await stack.mail.deliver(ALICE, raw);
        }
        let killed = 0;
        const plan: string[] = [];
        for (let k = 0; k < KILLS; k++) {
          const point = POINTS[Math.floor(rnd() * POINTS.length)];
          const nth = 1 + Math.floor(rnd() * Math.max(1, Math.floor(MESSAGES / KILLS)));
          plan.push(`${point}:${nth}`);
          const worker = runMonitorWorker(stack.env, `${point}:${nth}`);
          const outcome = await Promise.race([worker.exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
          if (outcome === 'SIGKILL') killed += 1;
          else await worker.stop();
        }
        const last = runMonitorWorker(stack.env);
        try {
          await waitFor(
            'every message read and moved',
            async () => {
              const feed = await stack.feed();
              const inbox = await stack.mail.readFolder(ALICE, 'INBOX');
              return feed.length >= MESSAGES && inbox.length === 0;
            },
            120_000,
            500,
          );
        } finally {
          await last.stop();
        }
        const feed = (await stack.feed()).filter((m) => m.mailboxId === mailboxId).map((m) => m.messageId);
        const processed = await stack.mail.readFolder(ALICE, 'processed');
        const lost = ids.filter((id) => !feed.includes(id)).length;
        const duplicated = feed.length - new Set(feed).size;
        setFigure(
          `${killed} kills (seed ${seed}; ${plan.join(' ')}) over ${MESSAGES} messages: lost ${lost}, duplicated ${duplicated}, moved ${processed.length}`,
        );
        expect(killed).toBe(KILLS);
        expect(lost).toBe(0);
        expect(duplicated).toBe(0);
        expect(feed).toEqual(ids);
        expect(processed.length).toBe(MESSAGES);
        expect(processed.every((m) => m.flags.includes('\\Seen'))).toBe(true);
      });
    },
    LONG ? 1_200_000 : 240_000,
  );
});
