/** `npm run start:worker`: a worker process alone (API elsewhere), for scaling out. */
import { exitOnConfigError, loadConfig, poolSizeFor, type Config } from '@exsync/config';
import { checkPoolFits, createPool } from '@exsync/db';
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import type { Registry } from 'prom-client';
import { startWorker } from './worker';

/** Serves `registry` at GET /metrics (Prometheus text format); everything else answers 404. */
function serveMetrics(registry: Registry, port: number, host: string): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  }).listen(port, host);
}

const HARD_EXIT_MS = 45_000;

async function main(): Promise<void> {
  let config: Config;
  let poolSize: number;
  try {
    config = loadConfig();
    poolSize = poolSizeFor(config, 'worker');
  } catch (e) {
    exitOnConfigError(e);
  }
  const logger = pino({ level: config.logLevel, base: { service: 'worker' } });
  const pool = createPool(config.databaseUrl, { max: poolSize, onError: (err) => logger.warn({ err: err.message }, 'idle postgres client error') });
  // A pool the server cannot grant is refused at once; an unreachable Postgres is not (the worker waits for it).
  const poolProblem = await checkPoolFits(pool, poolSize, config.workerConcurrency).catch(() => null);
  if (poolProblem) {
    process.stderr.write(`${poolProblem}\n`);
    process.exit(1);
  }
  startWorker({ config, pool, logger })
    .then((worker) => {
      logger.info({ concurrency: config.workerConcurrency, poolSize }, 'worker started');
      const metricsServer = config.workerMetricsPort === null ? undefined : serveMetrics(worker.metrics, config.workerMetricsPort, config.host);
      metricsServer?.on('error', (err) => logger.error({ err: err.message }, 'EXSYNC_WORKER_METRICS_PORT: cannot serve metrics'));
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'worker stopping');
        // Shutdown waits for running syncs (30 s at most), then for connections to close. If a
        // connection never answers again (seen after a Redis cut in the fault suite), exit anyway:
        // every run is safe to repeat, and a process that ignores SIGTERM gets SIGKILLed later.
        setTimeout(() => {
          logger.error({ afterMs: HARD_EXIT_MS }, 'worker shutdown did not finish; exiting');
          process.exit(1);
        }, HARD_EXIT_MS).unref();
        metricsServer?.close();
        worker
          .close()
          .then(() => pool.end())
          .then(() => process.exit(0))
          .catch((err) => {
            logger.error({ err: (err as Error).message }, 'worker shutdown failed');
            process.exit(1);
          });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    })
    .catch((err) => {
      logger.error({ err: (err as Error).message }, 'worker failed to start');
      process.exit(1);
    });
}

void main();
