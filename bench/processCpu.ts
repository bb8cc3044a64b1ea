/**
 * CPU time of the processes that share the bench machine with exsync during a measurement: the
 * simulators' child process and the Postgres backends serving the bench database. Read from
 * /proc/<pid>/stat (utime + stime, fields 14 and 15, in clock ticks of 10 ms on Linux; proc(5)),
 * so on a 2-core machine one can tell how much of a wall-clock second went to exsync, to the
 * simulators and to Postgres. Linux only; elsewhere every figure is null.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const TICK_MS = 10;

/** utime + stime of `pid` in ms, or null when the process is gone or /proc is not there. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/** CPU ms of every backend connected to the pool's database, by pid. */
async function backendCpu(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== null) out.set(pid, ms);
  }
  return out;
}

export interface SideCpu {
  /** CPU ms of the simulators' process */
  simulatorMs: number | null;
  /** CPU ms of the Postgres backends of the bench database (backends that exited are not counted) */
  postgresMs: number | null;
}

/** Starts counting the simulators' and Postgres' CPU; the returned function gives what they used since. */
export async function startSideCpu(simPid: number, pool: pg.Pool): Promise<() => Promise<SideCpu>> {
  const sim0 = processCpuMs(simPid);
  const pg0 = await backendCpu(pool);
  return async () => {
    const sim1 = processCpuMs(simPid);
    const pg1 = await backendCpu(pool);
    let postgresMs = 0;
    for (const [pid, ms] of pg1) postgresMs += ms - (pg0.get(pid) ?? 0);
    return { simulatorMs: sim0 === null || sim1 === null ? null : sim1 - sim0, postgresMs: pg1.size ? postgresMs : null };
  };
}
