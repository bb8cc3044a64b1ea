/**
 * kill -9 of the worker child process at seeded random points of a two-way sync, restart, and
 * compare with what an undisturbed run ends with: every edit from either side present once on both
 * sides, nothing duplicated, and a further run has nothing to write.
 */
import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStack, waitFor, type WorkerProcess } from '../support/stack';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { LONG, measure, runSeed, seededRandom, secretHits } from './collector';

const KILLS = LONG ? 50 : 5;
const ROUND_CRM = LONG ? 20 : 30; // new CRM contacts per round
const ROUND_OUTLOOK = LONG ? 10 : 10; // new Outlook contacts per round
const ROUND_EDITS = 5; // CRM contacts edited per round
const ROUND_APPOINTMENTS = 2;

let stack: Stack;
useStack((s) => (stack = s), { worker: false });

function exchangeContacts(user: StackUser): string[] {
  return stack.ews.store.readFolder(user.email, 'contacts').map((c) => JSON.stringify(c.fields));
}

describe('kill -9 of the worker at seeded random points', () => {
  it(
    'ends in the undisturbed end state: 0 lost edits, 0 duplicates either side',
    async () => {
      await measure(`kill -9 worker at ${KILLS} seeded points (two-way sync)`, async (setFigure) => {
        const seed = runSeed('kill -9');
        const rnd = seededRandom(seed);
        const user = await stack.addUser();
        const mb = encodeURIComponent(user.email);
        const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
        await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 40 });

        const surnames = new Map<string, string>(); // crm email -> last surname written in the CRM
        const outlook: string[] = [];
        let crmCount = 0;
        let appointments = 0;
        let midRun = 0;
        const killPoints: number[] = [];
        let worker: WorkerProcess | undefined;
        const outputs: string[] = [];
        try {
          for (let round = 0; round < KILLS; round++) {
            for (let i = 0; i < ROUND_CRM; i++, crmCount++) {
              const email = `crm${crmCount}@fabrikam.example`;
              surnames.set(email, 'Contact');
              expect(
                (
                  await stack.api('PUT', `${base}/contacts/crm-c-${crmCount}`, {
                    givenName: `Crm${crmCount}`,
                    surname: 'Contact',
                    emails: [email],
                    phones: {},
                    addresses: {},
                  })
                ).status,
              ).toBe(201);
            }
            for (let e = 0; e < ROUND_EDITS && round > 0; e++) {
              const n = Math.floor(rnd() * crmCount);
              const surname = `Edited${round}x${e}`;
              surnames.set(`crm${n}@fabrikam.example`, surname);
              expect(
                (
                  await stack.api('PUT', `${base}/contacts/crm-c-${n}`, {
                    givenName: `Crm${n}`,
                    surname,
                    emails: [`crm${n}@fabrikam.example`],
                    phones: {},
                    addresses: {},
                  })
                ).status,
              ).toBe(200);
            }
            for (let i = 0; i < ROUND_APPOINTMENTS; i++, appointments++) {
              const day = String(1 + (appointments % 28)).padStart(2, '0');
              expect(
                (
                  await stack.api('PUT', `${base}/appointments/crm-a-${appointments}`, {
                    subject: `Crm meeting ${appointments}`,
                    start: `2026-11-${day}T0${appointments % 8}:00:00Z`,
                    end: `2026-11-${day}T0${(appointments % 8) + 1}:00:00Z`,
                    timeZone: 'UTC',
                    isAllDay: false,
                  })
                ).status,
              ).toBe(201);
            }
            for (let i = 0; i < ROUND_OUTLOOK; i++) {
              const email = `outlook${outlook.length}@contoso.example`;
              outlook.push(email);
              expect(
                (await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: `Outlook${outlook.length}`, surname: 'Contact', emails: [email] }))
                  .status,
              ).toBe(201);
            }

            // Kill after a random number of answered EWS requests from now on.
            const answered = () => stack.ews.requestLog.list(user.email).filter((r) => r.status === 200).length;
            const target = answered() + 1 + Math.floor(rnd() * 8);
            killPoints.push(target);
            worker = stack.spawnWorker();
            const since = await stack.dbNow();
            await stack.api('POST', `${base}/sync`);
            // The kill point, or the end of the run when it needed fewer requests than that.
            const runEnded = async () => {
              const m = (await stack.pool.query(`SELECT state, last_started_at, last_success_at FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0];
              return m.state !== 'syncing' && m.last_started_at > since && m.last_success_at >= m.last_started_at;
            };
            await waitFor(
              `${target} answered EWS requests or the run's end`,
              async () => answered() >= target || worker!.child.exitCode !== null || (await runEnded()),
              180_000,
              5,
            ).catch(async (e: Error) => {
              // A run that neither progresses nor ends: say where the mailbox and the worker stand.
              const m = (await stack.pool.query(`SELECT state, last_error_code, last_error_message FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0];
              const jobs = await stack.producer.queue.getJobCounts('active', 'waiting', 'delayed', 'failed', 'completed');
              e.message += `\nround ${round}, ${answered()} answered; mailbox ${JSON.stringify(m)}; jobs ${JSON.stringify(jobs)}\nworker log:\n${worker!.output().slice(-4000)}`;
              throw e;
            });
            expect(worker.child.exitCode).toBeNull(); // the worker never exits on its own
            expect(await worker.kill('SIGKILL')).toBe('SIGKILL');
            outputs.push(worker.output());
            const st = (await stack.pool.query(`SELECT state FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0].state;
            if (st === 'syncing') midRun++;
          }

          // Restart and let it finish; then runs until one has nothing left to write.
          await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 0 });
          const restartedAt = await stack.dbNow();
          worker = stack.spawnWorker();
          await stack.waitForRunAfter(user, restartedAt, 180_000);
          await waitFor(
            'the queue to drain',
            async () => {
              const c = await stack.producer.queue.getJobCounts('active', 'waiting', 'delayed');
              return c.active + c.waiting + c.delayed === 0;
            },
            120_000,
            200,
          );
          let settled: any;
          for (let i = 0; i < 5; i++) {
            settled = await stack.syncNow(user, { timeoutMs: 90_000 });
            const c = settled.counts;
            if (settled.state === 'healthy' && [c.toExchange, c.toCrm].every((d: Record<string, number>) => d.created + d.updated + d.deleted === 0)) break;
          }
          expect(worker.child.exitCode).toBeNull();

          const expected = [...surnames.keys(), ...outlook].sort();
          const exchange = exchangeContacts(user);
          const exchangeEmails = exchange.map((j) => j.match(/[a-z]+\d+@(fabrikam|contoso)\.example/)?.[0] ?? '').sort();
          // Every page: the long variant holds 1,500 contacts, more than one page of the API.
          const crmItems: { item: { emails: { address: string }[]; surname?: string } }[] = [];
          for (let after = ''; ;) {
            const page = (await stack.api('GET', `${base}/contacts?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`)).body;
            crmItems.push(...page.items);
            if (!page.next) break;
            after = page.next;
          }
          const crmEmails = crmItems.map((x) => x.item.emails[0]?.address).sort();
          const lostEdits =
            [...surnames.entries()].filter(([email, surname]) => {
              const j = exchange.find((x) => x.includes(`"${email}"`) || x.includes(email));
              return !j || !j.includes(surname);
            }).length + expected.filter((e) => !crmEmails.includes(e) || !exchangeEmails.includes(e)).length;
          const duplicates =
            exchangeEmails.length -
            new Set(exchangeEmails).size +
            crmEmails.length -
            new Set(crmEmails).size +
            Math.max(0, stack.ews.store.readFolder(user.email, 'calendar').length - appointments);
          setFigure(
            `${KILLS} kills (seed ${seed}, ${midRun} mid-run) over ${expected.length} contacts + ${appointments} appointments: lost edits ${lostEdits}, duplicates ${duplicates}, final run writes ${JSON.stringify(settled?.counts?.toExchange)}/${JSON.stringify(settled?.counts?.toCrm)}`,
          );
          expect(settled.state).toBe('healthy');
          expect(settled.counts).toEqual({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0 });
          expect(exchangeEmails).toEqual(expected);
          expect(crmEmails).toEqual(expected);
          expect(stack.ews.store.readFolder(user.email, 'calendar')).toHaveLength(appointments);
          expect(lostEdits).toBe(0);
          expect(duplicates).toBe(0);
          await worker.kill('SIGTERM');
          outputs.push(worker.output());
          const texts = outputs.flatMap((o) => o.split('\n'));
          const hits = secretHits(texts, [DEFAULT_SEED.clientSecret, stack.platformToken]);
          await measure('secrets (worker child logs of the kill -9 runs)', async (set) => {
            set(`${texts.length} log lines of ${outputs.length} worker processes scanned: ${hits.length} hits`);
            expect(hits).toEqual([]);
          });
        } finally {
          await worker?.kill('SIGTERM');
        }
      });
    },
    LONG ? 3_600_000 : 420_000,
  );
});
