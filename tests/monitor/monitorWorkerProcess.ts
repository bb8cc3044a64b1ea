/**
 * A worker process that runs only the mailbox monitors (the supervisor `startWorker` starts), for
 * the kill -9 test. EXSYNC_TEST_KILL_AT=<checkpoint>:<n> makes it SIGKILL itself at the n-th time a
 * message's handling reaches that checkpoint (fetched, stored, flagged, moved), the exact points
 * where a crash could lose or duplicate a message.
 */
import { loadConfig } from '@exsync/config';
import { createPool, secretBoxFromConfig } from '@exsync/db';
import type { MonitorCheckpoint } from '@exsync/mailbox-monitor';
import { startMonitorSupervisor } from '@exsync/worker';

const config = loadConfig();
const pool = createPool(config.databaseUrl, { max: 8 });
const [point, nth] = (process.env.EXSYNC_TEST_KILL_AT ?? '').split(':');
let hits = 0;
const checkpoint = (p: MonitorCheckpoint) => {
  if (p !== point) return;
  hits += 1;
  if (hits === Number(nth)) process.kill(process.pid, 'SIGKILL');
};
const quiet = { info: () => {}, warn: () => {} };
startMonitorSupervisor({ config, pool, secretBox: secretBoxFromConfig(config), log: quiet, scanMs: 200, checkpoint });
process.stdout.write('monitor worker started\n');
