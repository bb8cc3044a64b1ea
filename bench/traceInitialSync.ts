/**
 * `npx tsx bench/traceInitialSync.ts`: the critical path of the quick initial sync (1,000
 * appointments + 500 contacts, 20 ms per EWS request, both folders side by side as the bench runs
 * them). Prints wall and CPU ms; with EV=1 also every SyncFolderItems page, getItems call and
 * Postgres statement with its start and end in ms. WARM=1 gets the token before the clock starts;
 * BATCH and CONC set getItemsBatchSize and getItemsConcurrency. With EXSYNC_SIM_CPU_PROF=<dir> the
 * simulator's profile can be cut to the sync with the `window` line (monotonic microseconds) on stderr.
 */
import { createBenchWorld, createMailboxRows, createOrg } from './benchWorld';
import { syncFolders } from './scenarios';
import { openMailbox } from '../packages/ews-client/src/mailboxSession';

process.env.TZ = 'UTC';
process.env.EXSYNC_ALLOW_INSECURE_AUTHORITY ??= 'true';
process.env.EXSYNC_ALLOWED_HOSTS ??= '127.0.0.1,localhost';

async function main() {
  const w = await createBenchWorld();
  const email = 'trace@contoso.example';
  await w.createMailbox(email);
  await w.control('POST', `/_sim/mailboxes/${encodeURIComponent(email)}/seed`, { calendarItems: 1000, contacts: 500, recurringEvery: 10 });
  const orgId = await createOrg(w.pool, 'trace');
  const { userId, mailboxId } = await createMailboxRows(w.pool, orgId, email);
  await w.setLatency(20);
  if (process.env.WARM) await w.accessToken();
  const t0 = performance.now();
  const ev: string[] = [];
  const at = () => (performance.now() - t0).toFixed(0).padStart(5);
  const port = openMailbox({
    ewsUrl: w.sim.ewsUrl,
    smtpAddress: email,
    mode: 'app-only',
    getAccessToken: w.accessToken,
    timeoutMs: 120_000,
    getItemsBatchSize: Number(process.env.BATCH ?? 100),
    getItemsConcurrency: Number(process.env.CONC ?? 5),
  }) as any;
  const wrapped = new Proxy(port, {
    get(t, k) {
      const v = t[k];
      if (typeof v !== 'function') return v;
      if (k === 'syncFolder') {
        return (...a: any[]) => {
          const it = v.apply(t, a);
          return {
            [Symbol.asyncIterator]() {
              return {
                async next() {
                  const s = at();
                  const r = await it.next();
                  ev.push(`${s}-${at()} syncFolder ${a[0]} page ${r.done ? 'done' : r.value.changes.length}`);
                  return r;
                },
                return: it.return?.bind(it),
              };
            },
          };
        };
      }
      return async (...a: any[]) => {
        const s = at();
        try {
          return await v.apply(t, a);
        } finally {
          ev.push(`${s}-${at()} ${String(k)} ${a[0]} ${Array.isArray(a[1]) ? a[1].length : ''}`);
        }
      };
    },
  });
  const origQuery = w.pool.query.bind(w.pool);
  (w.pool as any).query = async (...a: any[]) => {
    const s = at();
    try {
      return await (origQuery as any)(...a);
    } finally {
      ev.push(
        `${s}-${at()} pool.query ${String(typeof a[0] === 'string' ? a[0] : a[0]?.text)
          .slice(0, 60)
          .replace(/\s+/g, ' ')}`,
      );
    }
  };
  w.pool.on('connect', (c: any) => {
    const o = c.query.bind(c);
    c.query = (...a: any[]) => {
      const s = at();
      const r = o(...a);
      if (r && r.then)
        r.then(
          () =>
            ev.push(
              `${s}-${at()} client.query ${String(typeof a[0] === 'string' ? a[0] : a[0]?.text)
                .slice(0, 60)
                .replace(/\s+/g, ' ')}`,
            ),
          () => {},
        );
      return r;
    };
  });
  const cpu0 = process.cpuUsage();
  const h0 = process.hrtime.bigint() / 1000n;
  await syncFolders(w, wrapped, { orgId, userId, mailboxId }, ['appointment', 'contact']);
  const cpu = process.cpuUsage(cpu0);
  console.error(`window ${h0} ${process.hrtime.bigint() / 1000n}`);
  console.log(`wall ${at()} cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)}`);
  ev.sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]));
  if (process.env.EV) for (const e of ev) console.log(e);
  await w.close();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
