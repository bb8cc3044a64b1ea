import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/**
 * The counters behind the API's request limits: one Redis key per limiter key, named
 * `<nameSpace><key>` (`exsync:rate-limit:ip:127.0.0.1`). @fastify/rate-limit's own Redis store
 * appends the route's method and URL to every key, and limiters made by createRateLimit have no
 * route, so its keys read `...:rate-limit:undefinedundefined-ip:...`; this store keeps the key the
 * key generator gives, which already names the limiter (`ip:`, `token:`, `sign-in:`).
 */

// INCR, the window starting at the first request; a key left without an expiry gets one.
const INCR = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;
const COMMAND = 'exsyncRateLimitIncr';

type IncrCommand = (key: string, windowMs: number) => Promise<[number, number]>;

/** The store class for @fastify/rate-limit's `store` option: counters in `redis` under `nameSpace`. */
export function redisRateLimitStore(redis: Redis, nameSpace: string): FastifyRateLimitStoreCtor {
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: INCR });
  const incr = (redis as unknown as Record<string, IncrCommand>)[COMMAND].bind(redis);

  return class RedisRateLimitStore implements FastifyRateLimitStore {
    /** Answers `{current, ttl}` (ttl in ms); a Redis error goes to `done` (skipOnError lets the request through). */
    incr(key: string, done: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      incr(nameSpace + key, timeWindow).then(
        ([current, ttl]) => done(null, { current, ttl }),
        (err: Error) => done(err),
      );
    }

    /** Every limiter shares the one key space: the keys carry the limiter's name. */
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
