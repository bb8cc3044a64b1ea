import type { FastifyPluginAsync } from 'fastify';
import { pingPostgres } from '@exsync/db';
import type { Redis } from 'ioredis';

const checkResult = { type: 'string', enum: ['ok', 'down'] } as const;
const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not-ready'] },
    checks: { type: 'object', properties: { postgres: checkResult, redis: checkResult } },
  },
} as const;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A connection still (re)connecting gets the probe's time budget before the ping is judged. */
async function pingRedis(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'wait') await redis.connect();
  else if (redis.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('end', onEnd);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onEnd = () => done(new Error('redis connection ended'));
      const timer = setTimeout(() => done(new Error(`redis not ready after ${ms} ms`)), ms);
      redis.on('ready', onReady);
      redis.on('end', onEnd);
    });
  }
  await redis.ping();
}

/** GET /healthz, /readyz and /metrics: liveness, readiness (Postgres and Redis answer) and Prometheus metrics; no auth. */
const operations: FastifyPluginAsync = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'The process is up',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Postgres and Redis are reachable',
        response: { 200: readiness, 503: readiness },
      },
    },
    async (request, reply) => {
      const { pool, redis } = app.deps;
      const probe = async (fn: () => Promise<unknown>): Promise<'ok' | 'down'> => {
        try {
          await withTimeout(fn(), 2_000);
          return 'ok';
        } catch (err) {
          request.log.warn({ err: (err as Error).message }, 'readiness check failed');
          return 'down';
        }
      };
      const [postgres, redisCheck] = await Promise.all([probe(() => pingPostgres(pool)), probe(() => pingRedis(redis, 1_500))]);
      const ready = postgres === 'ok' && redisCheck === 'ok';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks: { postgres, redis: redisCheck } });
    },
  );

  app.get('/metrics', { schema: { tags: ['operations'], security: [], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    reply.header('content-type', app.metrics.contentType);
    return app.metrics.metrics();
  });
};

export default operations;
