import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TokenCacheStore } from './tokenCacheStore';

export interface RedisTokenCacheOptions {
  redis: Redis;
  /** key prefix, e.g. process.env.EXSYNC_REDIS_PREFIX */
  prefix: string;
  /** encrypts the serialised MSAL cache (the caller's AES-256-GCM) */
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * MSAL's serialised cache in Redis, sealed: it holds bearer tokens for whole tenants. A value that
 * no longer opens (key rotated, tampered) counts as a miss, so the worst case is one more token
 * request. Redis being down degrades the same way: each process then fetches and caches its own.
 */
export class RedisTokenCache implements TokenCacheStore {
  constructor(private readonly opts: RedisTokenCacheOptions) {}

  private k(key: string): string {
    return `${this.opts.prefix}:msal-cache:${key}`;
  }

  async get(key: string): Promise<string | undefined> {
    let sealed: string | null;
    try {
      sealed = await this.opts.redis.get(this.k(key));
    } catch {
      // Redis unavailable: carry on with this process's own tokens rather than fail every EWS call.
      return undefined;
    }
    if (sealed === null) return undefined;
    try {
      return this.opts.open(sealed);
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const sealed = this.opts.seal(value);
    try {
      await this.opts.redis.set(this.k(key), sealed, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    } catch {
      // best effort: the token is still cached in this process
    }
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const token = randomUUID();
    let ok: string | null;
    try {
      ok = await this.opts.redis.set(this.k(key), token, 'PX', ttlMs, 'NX');
    } catch {
      // Without Redis there is no one to coordinate with: act as the holder.
      return async () => {};
    }
    if (ok !== 'OK') return undefined;
    return async () => {
      await this.opts.redis.eval(RELEASE_IF_OWNER, 1, this.k(key), token).catch(() => undefined);
    };
  }
}
