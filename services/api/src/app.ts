import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import autoload from '@fastify/autoload';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { DestinationStream } from 'pino';
import { endpointPolicyOf, type Config, type EndpointPolicy, type HostResolver } from '@exsync/config';
import type { EnqueueSync } from '@exsync/canonical';
import { secretBoxFromConfig, type SecretBox } from '@exsync/db';
import { installBodyParsers } from './bodyParsers';
import { frameworkErrors, installErrorHandler } from './errorHandler';
import { installRateLimits } from './rateLimits';
import { lowerCaseIdParams } from './auth';
import { loggerOptions, requestPath } from './logger';
import { installMetrics } from './metrics';
import { installSwagger } from './swagger';
import { installValidators } from './validation';
import { adminPage } from './admin/adminPage';

export interface AppDeps {
  config: Config;
  pool: pg.Pool;
  /** Asks the worker to sync a mailbox soon (the port the worker's queue implements); absent when no queue is wired (the scheduler still finds due mailboxes). */
  enqueueSync?: EnqueueSync;
  /** Used by /readyz; when absent the app opens (and closes) its own connection to config.redisUrl. */
  redis?: Redis;
  /** A ready-made logger; otherwise one is built from config.logLevel, writing to logStream or stdout. */
  logger?: FastifyBaseLogger;
  logStream?: DestinationStream;
  secretBox?: SecretBox;
  /** resolves endpoint host names for the connect-time policy check (default: the system resolver); tests inject a table */
  resolveHost?: HostResolver;
}

/** AppDeps with the optional services resolved; routes read them from `app.deps`. */
export interface ResolvedDeps extends AppDeps {
  redis: Redis;
  secretBox: SecretBox;
  /** where organisations' endpoints may point (EXSYNC_ALLOWED_HOSTS, EXSYNC_ALLOW_INSECURE_AUTHORITY, the resolver) */
  endpointPolicy: EndpointPolicy;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ResolvedDeps;
  }
}

/**
 * The routes: one folder per URL segment under routes/ (`_orgId` is `:orgId`), each folder's
 * index.ts its routes, and autohooks.ts the hooks of everything below it (routes/v1: bearer
 * authentication; routes/v1/orgs/_orgId: the organisation scope). From the sources (tsx, Vitest)
 * these are TypeScript files; `npm run build` emits each as JavaScript under dist/routes.
 */
const ROUTES_DIR = join(__dirname, 'routes');
// autoload only loads .ts files when it recognises a TypeScript runtime; `node --import tsx` is one it does not name.
if (__filename.endsWith('.ts')) process.env.FASTIFY_AUTOLOAD_TYPESCRIPT ??= '1';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;
const MAX_PARAM_LENGTH = 2048;

/**
 * Builds the API (not listening): the cross-cutting plugins, the admin page, then every route
 * folder under routes/. Rejects when a route file fails to load or the admin page does not build.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const ownRedis = !deps.redis;
  const redis = deps.redis ?? new Redis(deps.config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  // An unreachable Redis must show up in /readyz, not crash the process.
  if (ownRedis) redis.on('error', () => {});

  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions(deps.config.logLevel, deps.logStream) }),
    // Fastify's own request lines carry the full URL (and so OAuth codes); we log the path ourselves.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    requestIdHeader: false,
    bodyLimit: 1_048_576,
    // crmIds may be 200 characters (the schema's maxLength), percent-encoded up to 9 characters each
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    // autoload imports the route files while the app starts; from TypeScript sources on a busy
    // machine (tests) that first import can outlast Fastify's 10 s default for one plugin.
    pluginTimeout: 60_000,
  });

  app.decorate('deps', {
    ...deps,
    redis,
    secretBox: deps.secretBox ?? secretBoxFromConfig(deps.config),
    endpointPolicy: { ...endpointPolicyOf(deps.config), resolve: deps.resolveHost },
  });
  installBodyParsers(app);
  installValidators(app);
  installErrorHandler(app);
  installMetrics(app);
  await installSwagger(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', lowerCaseIdParams);
  await installRateLimits(app, deps.config.rateLimit, redis, deps.config.redisPrefix);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, path: requestPath(request.url), statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });
  if (ownRedis) app.addHook('onClose', async () => void redis.disconnect());

  await app.register(adminPage);
  await app.register(autoload, {
    dir: ROUTES_DIR,
    dirNameRoutePrefix: (_parent: string, folder: string) => folder.replace(/^_/, ':'),
    autoHooks: true,
    cascadeHooks: true,
  });
  return app;
}
