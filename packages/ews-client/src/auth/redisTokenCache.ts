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
 * request.
 */
export class RedisTokenCache implements TokenCacheStore {
  constructor(private readonly opts: RedisTokenCacheOptions) {}

  private k(key: string): string {
    return `${this.opts.prefix}:msal-cache:${key}`;
  }

  async get(key: string): Promise<string | undefined> {
    const sealed = await this.opts.redis.get(this.k(key));
    if (sealed === null) return undefined;
    try {
      return this.opts.open(sealed);
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.opts.redis.set(this.k(key), this.opts.seal(value), 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const token = randomUUID();
    const ok = await this.opts.redis.set(this.k(key), token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    return async () => {
      await this.opts.redis.eval(RELEASE_IF_OWNER, 1, this.k(key), token);
    };
  }
}
