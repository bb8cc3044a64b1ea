/**
 * Measures getItems throughput per batch size over the EWS simulator (real HTTP, real
 * ews-javascript-api, real MSAL), to choose DEFAULT_GET_ITEMS_BATCH_SIZE. The simulator adds a fixed
 * latency per answer to stand in for the network round trip to Exchange Online.
 *
 *   npx tsx bench/ewsGetItemsBatchSize.ts [latencyMs=40] [items=600]
 */
import { DEFAULT_SEED, startEntraSim } from '@exsync/entra-sim';
import { startEwsSim } from '@exsync/ews-sim';
import { AppTokenProvider } from '../packages/ews-client/src/auth/appTokenProvider';
import { openMailbox } from '../packages/ews-client/src/mailboxSession';

const SIZES = [1, 5, 10, 25, 50, 100, 200];

function main(): Promise<void> {
  return run(Number(process.argv[2] ?? 40), Number(process.argv[3] ?? 600));
}

async function run(latencyMs: number, items: number): Promise<void> {
  const entra = await startEntraSim();
  const sim = await startEwsSim({ jwksUrl: entra.jwksUrl, latencyMs });
  const email = DEFAULT_SEED.users[0].email;
  sim.store.createMailbox({ email, tenantId: DEFAULT_SEED.tenantId });
  // every 10th appointment is a weekly series with a moved and a deleted occurrence
  sim.store.seed(email, { calendarItems: items, contacts: items, recurringEvery: 10 });
  const provider = new AppTokenProvider({ allowInsecureAuthority: true });
  const creds = {
    authorityHost: entra.url,
    tenantId: DEFAULT_SEED.tenantId,
    applicationId: DEFAULT_SEED.applicationId,
    clientSecret: DEFAULT_SEED.clientSecret,
  };
  const session = (getItemsBatchSize: number) =>
    openMailbox({
      ewsUrl: sim.ewsUrl,
      smtpAddress: email,
      mode: 'app-only',
      getAccessToken: () => provider.getToken(creds),
      getItemsBatchSize,
      timeoutMs: 60_000,
    });

  const ids: Record<'appointment' | 'contact', string[]> = { appointment: [], contact: [] };
  for (const [kind, folder] of [
    ['appointment', 'calendar'],
    ['contact', 'contacts'],
  ] as const) {
    for await (const page of session(50).syncFolder(folder, undefined)) {
      for (const c of page.changes) if (c.type !== 'delete') ids[kind].push(c.itemId);
    }
  }
  console.log(`latency ${latencyMs} ms per answer, ${items} appointments + ${items} contacts`);
  console.log('kind         batch  items/s  ms/request  cpu ms/item  failures');
  for (const kind of ['appointment', 'contact'] as const) {
    for (const size of SIZES) {
      const sample = size === 1 ? ids[kind].slice(0, 100) : ids[kind];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const results = await session(size).getItems(kind, sample);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const failures = results.filter((r) => !r.ok).length;
      const requests = Math.ceil(sample.length / size);
      console.log(
        `${kind.padEnd(12)} ${String(size).padStart(5)}  ${String(Math.round((sample.length / ms) * 1000)).padStart(7)}  ${(ms / requests).toFixed(1).padStart(10)}  ${((cpu.user + cpu.system) / 1000 / sample.length).toFixed(2).padStart(11)}  ${failures}`,
      );
    }
  }
  await sim.close();
  await entra.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
