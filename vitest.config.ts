import { defineConfig } from 'vitest/config';

const env = {
  TZ: 'UTC',
  EXSYNC_ALLOW_INSECURE_AUTHORITY: 'true',
  // the simulators listen on loopback: the operator allow-list lets them through the endpoint policy
  EXSYNC_ALLOWED_HOSTS: '127.0.0.1,localhost',
  // tests that fire many requests measure validation, not the rate limits (tests/faults/rate-limits sets its own)
  EXSYNC_RATE_LIMIT_PER_IP: '1000000',
  EXSYNC_RATE_LIMIT_PER_TOKEN: '1000000',
  EXSYNC_RATE_LIMIT_SIGNIN_PER_IP: '1000000',
  NODE_ENV: 'test',
};

/** the engine's scenario matrix, run over EWS (project `ews`), over Graph and in memory */
const ENGINE_SCENARIOS = ['conflict', 'crash-points', 'directions', 'first-sync-matching', 'no-echo', 'recurring-and-resync'].map(
  (f) => `tests/engine/${f}.test.ts`,
);

const shared = {
  globalSetup: ['tests/support/globalSetup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
  // @fastify/autoload imports the API's route files (TypeScript) at run time: run through Vitest's
  // transform, its import() reaches them the way the tests' own imports do.
  server: { deps: { inline: ['@fastify/autoload'] } },
};

export default defineConfig({
  test: {
    // Most test time is spent waiting on simulated latency, sockets and child processes, not CPU:
    // two forks on the team's 2-core machines halve the wall time (vitest's default is cores - 1).
    maxWorkers: 2,
    projects: [
      {
        test: { ...shared, name: 'ews', env, include: ['tests/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'] },
      },
      {
        // the engine scenarios on the simulators once more over the Graph transport: the same files,
        // their driver parameterised (tests/engine/simDriver.ts), not a copy
        test: {
          ...shared,
          name: 'engine-over-graph',
          env: { ...env, EXSYNC_ENGINE_TRANSPORT: 'graph' },
          include: ENGINE_SCENARIOS,
        },
      },
      {
        // the same engine scenarios once more in memory: the in-memory SyncStore and mailbox
        // (tests/support/memorySyncStore.ts, memoryMailbox.ts), no Postgres, no simulators
        test: {
          ...shared,
          globalSetup: [],
          name: 'engine-in-memory',
          env: { ...env, EXSYNC_ENGINE_STORE: 'memory' },
          include: ENGINE_SCENARIOS,
        },
      },
    ],
  },
});
