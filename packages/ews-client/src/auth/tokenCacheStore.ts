import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';

/**
 * Where MSAL's serialised cache for one confidential client is shared between processes. Values
 * are opaque strings; implementations that leave the process must encrypt them
 * (see RedisTokenCache).
 */
export interface TokenCacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /**
   * Optional cross-process mutual exclusion for a cold cache: returns a release function when the
   * lock was taken, undefined when another process holds it.
   */
  tryLock?(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

const MIN_TTL_SECONDS = 60;

/** An MSAL cache plugin that loads the client's cache from the store before each access and writes it back when it changed. */
export function storeCachePlugin(store: TokenCacheStore, key: string): ICachePlugin {
  return {
    async beforeCacheAccess(ctx: TokenCacheContext): Promise<void> {
      const data = await store.get(key);
      if (data !== undefined) ctx.tokenCache.deserialize(data);
    },
    async afterCacheAccess(ctx: TokenCacheContext): Promise<void> {
      if (!ctx.cacheHasChanged) return;
      const data = ctx.tokenCache.serialize();
      await store.set(key, data, Math.max(MIN_TTL_SECONDS, latestAccessTokenExpiry(data) - Math.floor(Date.now() / 1000)));
    },
  };
}

/** Seconds since the epoch at which the last access token in a serialised MSAL cache expires (0 if none). */
export function latestAccessTokenExpiry(serialised: string): number {
  try {
    const cache = JSON.parse(serialised) as { AccessToken?: Record<string, { expires_on?: string }> };
    let latest = 0;
    for (const at of Object.values(cache.AccessToken ?? {})) latest = Math.max(latest, Number(at.expires_on ?? 0));
    return latest;
  } catch {
    return 0;
  }
}
