/**
 * How many Postgres connections a process needs, from its shape and EXSYNC_WORKER_CONCURRENCY.
 * A running sync holds one connection for its mailbox lock (a session advisory lock) for the whole
 * run and needs at least one more for the engine's statements and transactions; the API's
 * handlers each hold one briefly. A pool smaller than that makes syncs wait on each other until
 * pg's connect timeout ("timeout exceeded when trying to connect"): issue 12, case 8.
 */
import { ConfigError } from './configError';
import type { Config } from './loadConfig';

/** `npm start` runs both in one process; `start:api` and `start:worker` one each. */
export type ProcessShape = 'api' | 'worker' | 'api+worker';

/** connections per running sync: the mailbox lock's client plus one for the engine */
export const CONNECTIONS_PER_SYNC = 2;
/** the worker's own statements beside the syncs: scheduler ticks, status writes */
export const WORKER_SPARE_CONNECTIONS = 4;
/** API requests served at once, each holding a connection for a few statements */
export const API_CONNECTIONS = 10;

function parts(shape: ProcessShape): { api: boolean; worker: boolean } {
  return { api: shape !== 'worker', worker: shape !== 'api' };
}

/** The pool a process of this shape gets by default (connections). */
export function defaultPoolSize(concurrency: number, shape: ProcessShape): number {
  const p = parts(shape);
  return (p.worker ? concurrency * CONNECTIONS_PER_SYNC + WORKER_SPARE_CONNECTIONS : 0) + (p.api ? API_CONNECTIONS : 0);
}

/** The smallest pool that can work: every sync's two connections, plus one to spare for the API and one for the worker. */
export function minimumPoolSize(concurrency: number, shape: ProcessShape): number {
  const p = parts(shape);
  return (p.worker ? concurrency * CONNECTIONS_PER_SYNC + 1 : 0) + (p.api ? 1 : 0);
}

/**
 * The pool size of this process: EXSYNC_DATABASE_POOL_SIZE when set, else defaultPoolSize.
 * Throws a ConfigError (one line, naming the variable and the fix) when the configured size
 * cannot serve EXSYNC_WORKER_CONCURRENCY syncs at once.
 */
export function poolSizeFor(config: Pick<Config, 'workerConcurrency' | 'databasePoolSize'>, shape: ProcessShape): number {
  const min = minimumPoolSize(config.workerConcurrency, shape);
  if (config.databasePoolSize === null) return defaultPoolSize(config.workerConcurrency, shape);
  if (config.databasePoolSize < min) {
    throw new ConfigError(
      'EXSYNC_DATABASE_POOL_SIZE',
      `EXSYNC_DATABASE_POOL_SIZE is ${config.databasePoolSize} but EXSYNC_WORKER_CONCURRENCY=${config.workerConcurrency} needs at least ${min} connections in this process (${shape}): raise EXSYNC_DATABASE_POOL_SIZE, lower EXSYNC_WORKER_CONCURRENCY, or unset EXSYNC_DATABASE_POOL_SIZE`,
    );
  }
  return config.databasePoolSize;
}
