/**
 * `npx tsx bench/profileInitialSync.ts [appointments] [contacts] [label]`: a CPU profile of the
 * initial-sync scenario's sync alone (engine, Postgres and EWS client; the simulators run in a
 * child process and are not in it), with 20 ms per EWS request as in `npm run bench`. Writes
 * bench/profiles/initial-sync-<label>.cpuprofile.gz (open it gunzipped in Chrome DevTools or
 * speedscope) and prints CPU per category (bench/cpuProfileReading.ts) as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { syncMailboxKind } from '@exsync/sync-engine';
import { pgSyncStore } from '@exsync/db';
import { createBenchWorld, createMailboxRows, createOrg } from './benchWorld';
import { readProfile, type CpuProfile } from './cpuProfileReading';
import { startSideCpu } from './processCpu';
import { LATENCY_MS } from './scenarios';

process.env.TZ = 'UTC';
process.env.EXSYNC_ALLOW_INSECURE_AUTHORITY ??= 'true';
process.env.EXSYNC_ALLOWED_HOSTS ??= '127.0.0.1,localhost';

async function main(): Promise<void> {
  const appointments = Number(process.argv[2] ?? 1000);
  const contacts = Number(process.argv[3] ?? 500);
  const label = process.argv[4] ?? `${appointments}+${contacts}`;
  const w = await createBenchWorld();
  const session = new Session();
  session.connect();
  try {
    const email = `profile-${appointments}@contoso.example`;
    await w.createMailbox(email);
    await w.control('POST', `/_sim/mailboxes/${encodeURIComponent(email)}/seed`, { calendarItems: appointments, contacts, recurringEvery: 10 });
    const orgId = await createOrg(w.pool, 'profile');
    const { userId, mailboxId } = await createMailboxRows(w.pool, orgId, email);
    const port = w.open(email);
    await w.accessToken();
    await w.setLatency(LATENCY_MS);
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const sideCpu = await startSideCpu(w.simPid, w.pool);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Both folders side by side, as the worker and `npm run bench` run them.
    await Promise.all(
      (['appointment', 'contact'] as const).map((kind) =>
        syncMailboxKind({ store: pgSyncStore(w.pool), port, mailboxId, orgId, userId, kind, direction: 'two-way', policy: 'newest-wins' }),
      ),
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    const side = await sideCpu();
    const dir = path.join(__dirname, 'profiles');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `initial-sync-${label}.cpuprofile.gz`);
    writeFileSync(file, gzipSync(JSON.stringify(profile)));
    const items = appointments + contacts;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const reading = readProfile(profile, items);
    console.log(
      JSON.stringify({
        items,
        wallMs: Math.round(wallMs),
        cpuMs: Math.round(cpuMs),
        cpuUsPerItem: Math.round((cpuMs * 1000) / items),
        profile: path.relative(process.cwd(), file),
        profiledBusyMs: reading.busyMs,
        simulatorCpuMs: side.simulatorMs,
        postgresCpuMs: side.postgresMs,
        loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
      }),
    );
    for (const c of reading.byCategory)
      console.log(`${String(c.ms).padStart(7)} ms ${c.share.toFixed(1).padStart(5)} % ${String(c.usPerItem).padStart(6)} us/item  ${c.category}`);
  } finally {
    session.disconnect();
    await w.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
