/**
 * Redis and Postgres "restarts" in the middle of a run, simulated by a TCP proxy in front of each
 * that cuts every connection and refuses new ones for a second (the real servers are shared with
 * other test runs and are never stopped). The worker child process reconnects, the run converges,
 * nothing is lost or duplicated.
 *
 * This scenario found a crash: a connection cut while a transaction's client was checked out
 * emitted an 'error' event nobody listened to, and the worker died (see withTransaction). Every
 * wait below races the worker's exit, so a dead worker fails the test at once with its log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack } from '../support/stack';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { measure, secretHits } from './collector';

const CRM_CONTACTS = 80;
const OUTLOOK_CONTACTS = 40;

let stack: Stack;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = new URL(stack.env.DATABASE_URL);
  pgProxy = await startTcpProxy(db.hostname, Number(db.port || 5432));
  const redis = new URL(stack.env.REDIS_URL);
  redisProxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
}, 60_000);
afterAll(async () => {
  await stack?.close(); // kills the worker children first
  await pgProxy?.close();
  await redisProxy?.close();
});

function proxiedEnv(): Record<string, string> {
  const db = new URL(stack.env.DATABASE_URL);
  db.host = `127.0.0.1:${pgProxy.port}`;
  const redis = new URL(stack.env.REDIS_URL);
  redis.host = `127.0.0.1:${redisProxy.port}`;
  return { DATABASE_URL: db.toString(), REDIS_URL: redis.toString() };
}

describe.each([
  ['Redis', () => redisProxy],
  ['Postgres', () => pgProxy],
])('%s restart mid-run', (name, proxy) => {
  it('the worker reconnects, the run converges, nothing lost or duplicated', async () => {
    await measure(`${name} restart mid-run (all connections cut, 1 s down)`, async (setFigure) => {
      const user = await stack.addUser();
      const mb = encodeURIComponent(user.email);
      const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
      for (let i = 0; i < CRM_CONTACTS; i++) {
        expect(
          (
            await stack.api('PUT', `${base}/contacts/crm-c-${i}`, {
              givenName: `Crm${i}`,
              surname: 'Contact',
              emails: [`crm${i}@fabrikam.example`],
              phones: {},
              addresses: {},
            })
          ).status,
        ).toBe(201);
      }
      for (let i = 0; i < OUTLOOK_CONTACTS; i++) {
        expect(
          (await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: `Outlook${i}`, surname: 'Contact', emails: [`outlook${i}@contoso.example`] }))
            .status,
        ).toBe(201);
      }
      await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 60 });
      const worker = stack.spawnWorker(proxiedEnv());
      const died = worker.exited.then((code) => {
        throw new Error(`the worker exited (${code}); its last output:\n${worker.output().slice(-3000)}`);
      });
      died.catch(() => {}); // observed by the races below
      const unlessWorkerDies = <T>(p: Promise<T>): Promise<T> => Promise.race([p, died]);
      try {
        const answered = () => stack.ews.requestLog.list(user.email).filter((r) => r.status === 200).length;
        await unlessWorkerDies(waitFor('the run to be under way', () => answered() >= 2, 120_000, 5));
        const cut = proxy().dropAll(1_000);
        expect(cut).toBeGreaterThan(0);
        await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 0 });

        // Runs until one ends healthy with nothing left to write (the cut run is retried by BullMQ).
        let status: any;
        let runs = 0;
        for (; runs < 8; runs++) {
          status = await unlessWorkerDies(stack.syncNow(user, { timeoutMs: 150_000 }));
          const c = status.counts;
          if (status.state === 'healthy' && c && [c.toExchange, c.toCrm].every((d: Record<string, number>) => d.created + d.updated + d.deleted === 0)) break;
        }
        expect(worker.child.exitCode).toBeNull(); // never exited

        const expected = [
          ...Array.from({ length: CRM_CONTACTS }, (_, i) => `crm${i}@fabrikam.example`),
          ...Array.from({ length: OUTLOOK_CONTACTS }, (_, i) => `outlook${i}@contoso.example`),
        ].sort();
        const exchange = stack.ews.store
          .readFolder(user.email, 'contacts')
          .map((c) => JSON.stringify(c.fields).match(/[a-z]+\d+@(fabrikam|contoso)\.example/)?.[0] ?? '')
          .sort();
        const crm = ((await stack.api('GET', `${base}/contacts?limit=1000`)).body.items as { item: { emails: { address: string }[] } }[])
          .map((x) => x.item.emails[0]?.address)
          .sort();
        const lost = expected.filter((e) => !exchange.includes(e) || !crm.includes(e)).length;
        const duplicates = exchange.length - new Set(exchange).size + crm.length - new Set(crm).size;
        // The worker bounds its own shutdown (45 s, then exit 1); how it stopped is part of the figure.
        const stopStarted = Date.now();
        died.catch(() => {}); // from here on the exit is expected
        const exit = await worker.kill('SIGTERM');
        const stop = `stopped on SIGTERM in ${((Date.now() - stopStarted) / 1000).toFixed(1)} s (exit ${exit})`;
        setFigure(`${cut} connections cut; converged after ${runs + 1} more run(s); worker alive; lost ${lost}, duplicates ${duplicates}; ${stop}`);
        expect(status.state).toBe('healthy');
        expect(exchange).toEqual(expected);
        expect(crm).toEqual(expected);
        const lines = worker.output().split('\n');
        const hits = secretHits(lines, [DEFAULT_SEED.clientSecret, stack.platformToken]);
        await measure(`secrets (worker log across the ${name} restart)`, async (set) => {
          set(`${lines.length} log lines scanned: ${hits.length} hits`);
          expect(hits).toEqual([]);
        });
      } catch (e) {
        // What the worker was doing is the only clue to a stuck run: attach its log.
        (e as Error).message += `\nworker log (last 6000 characters):\n${worker.output().slice(-6000)}`;
        throw e;
      } finally {
        await worker.kill('SIGTERM');
      }
    });
  }, 420_000);
});
