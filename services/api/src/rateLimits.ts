import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { RateLimitConfig } from '@exsync/config';
import { HttpError } from './httpError';
import { redisRateLimitStore } from './rateLimitStore';

/**
 * Request limits (issue 13 point 5), counted in Redis by @fastify/rate-limit's store so they hold
 * across API processes. Three counters per window, each answering 429 with Retry-After (seconds):
 * - every request, per client IP (EXSYNC_RATE_LIMIT_PER_IP): wrong bearer tokens included;
 * - /v1 requests, per bearer token (EXSYNC_RATE_LIMIT_PER_TOKEN), keyed by the token's SHA-256;
 * - the unauthenticated Microsoft redirects (/oauth/...), per client IP (EXSYNC_RATE_LIMIT_SIGNIN_PER_IP).
 * /healthz and /readyz are never limited (probes). When Redis cannot be reached the request is let
 * through: /readyz reports Redis, and the API stays usable. The counters' keys are
 * `<prefix>:rate-limit:ip:<address>`, `...:token:<sha-256>` and `...:sign-in:<address>`.
 */

const UNLIMITED_PATHS = new Set(['/healthz', '/readyz']);

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

function bearerKey(req: FastifyRequest): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? createHash('sha256').update(m[1]).digest('base64url').slice(0, 32) : null;
}

function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q === -1 ? req.url : req.url.slice(0, q);
}

/** Registers the limits on `app` (call before the routes). `prefix` is EXSYNC_REDIS_PREFIX. */
export async function installRateLimits(app: FastifyInstance, limits: RateLimitConfig, redis: Redis, prefix: string): Promise<void> {
  await app.register(rateLimit, { global: false, store: redisRateLimitStore(redis, `${prefix}:rate-limit:`), skipOnError: true });
  const windowMs = limits.windowSeconds * 1000;
  const perIp = app.createRateLimit({ keyGenerator: (req) => `ip:${req.ip}`, max: limits.perIp, timeWindow: windowMs });
  const perToken = app.createRateLimit({ keyGenerator: (req) => `token:${bearerKey(req)}`, max: limits.perToken, timeWindow: windowMs });
  const signIn = app.createRateLimit({ keyGenerator: (req) => `sign-in:${req.ip}`, max: limits.signInPerIp, timeWindow: windowMs });

  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req);
    if (UNLIMITED_PATHS.has(path)) return;
    const checks: [Limiter, string][] = [[perIp, 'from this address']];
    if (path.startsWith('/oauth/')) checks.push([signIn, 'to the sign-in pages from this address']);
    if (path.startsWith('/v1/') && bearerKey(req)) checks.push([perToken, 'with this token']);
    for (const [limiter, what] of checks) {
      const r = await limiter(req);
      if (!r.isAllowed && r.isExceeded) {
        const retryAfter = Math.max(1, r.ttlInSeconds ?? limits.windowSeconds);
        reply.header('retry-after', String(retryAfter));
        throw new HttpError(429, `too many requests ${what}: try again in ${retryAfter} s`);
      }
    }
  });
}
