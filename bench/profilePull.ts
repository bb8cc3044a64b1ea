/**
 * `npx tsx bench/profilePull.ts [items]`: where the time of a pull goes. Runs SyncFolderItems
 * pages and GetItem batches with no injected latency and splits the wall time into this
 * process's CPU (ews-javascript-api's XML parse and our mapping) and the simulator's CPU.
 */
import { readFileSync } from 'node:fs';
import { createBenchWorld, pullFolder } from './benchWorld';

function childCpuMs(pid: number): number {
  // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second here)
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const items = Number(process.argv[2] ?? 1000);
  const w = await createBenchWorld();
  try {
    const email = 'profile@contoso.example';
    await w.createMailbox(email);
    await w.control('POST', `/_sim/mailboxes/${encodeURIComponent(email)}/seed`, { calendarItems: items, recurringEvery: 10 });
    const port = w.open(email);
    await w.accessToken();
    const simPid = w.simPid;
    const sim0 = childCpuMs(simPid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { syncFolderMs, getItemsMs } = await pullFolder(port, 'appointment');
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      JSON.stringify({
        items,
        wallMs: Math.round(wall),
        syncFolderMs: Math.round(syncFolderMs),
        getItemsMs: Math.round(getItemsMs),
        clientCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        simulatorCpuMs: childCpuMs(simPid) - sim0,
      }),
    );
  } finally {
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
