import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@exsync/config';
import { jitteredExponentialBackoff, syncJobOptions } from '../../services/worker/src/syncJobOptions';

const load = (env: Record<string, string>) => loadConfig({ EXSYNC_MODE: 'test', ...env });

describe('retry schedule configuration', () => {
  it('defaults to 6 attempts, 2 s doubling up to 5 min', () => {
    expect(load({}).syncRetry).toEqual({ attempts: 6, baseDelayMs: 2_000, maxDelayMs: 300_000 });
    expect(syncJobOptions(load({}).syncRetry).attempts).toBe(6);
  });

  it('takes the documented variables, so tests run retries in seconds', () => {
    const retry = load({ EXSYNC_SYNC_ATTEMPTS: '3', EXSYNC_RETRY_BASE_DELAY_MS: '100', EXSYNC_RETRY_MAX_DELAY_MS: '250' }).syncRetry;
    expect(retry).toEqual({ attempts: 3, baseDelayMs: 100, maxDelayMs: 250 });
    expect(syncJobOptions(retry).attempts).toBe(3);
    // [cap/2, cap] with cap = min(max, base * 2^(n-1))
    expect(jitteredExponentialBackoff(1, retry, () => 0)).toBe(50);
    expect(jitteredExponentialBackoff(1, retry, () => 1)).toBe(100);
    expect(jitteredExponentialBackoff(2, retry, () => 1)).toBe(200);
    expect(jitteredExponentialBackoff(5, retry, () => 1)).toBe(250);
  });

  it.each([
    [{ EXSYNC_SYNC_ATTEMPTS: '0' }, 'EXSYNC_SYNC_ATTEMPTS'],
    [{ EXSYNC_SYNC_ATTEMPTS: 'many' }, 'EXSYNC_SYNC_ATTEMPTS'],
    [{ EXSYNC_RETRY_BASE_DELAY_MS: '5' }, 'EXSYNC_RETRY_BASE_DELAY_MS'],
    [{ EXSYNC_RETRY_MAX_DELAY_MS: '7200000' }, 'EXSYNC_RETRY_MAX_DELAY_MS'],
    [{ EXSYNC_RETRY_BASE_DELAY_MS: '5000', EXSYNC_RETRY_MAX_DELAY_MS: '1000' }, 'EXSYNC_RETRY_MAX_DELAY_MS'],
    [{ EXSYNC_DATABASE_POOL_SIZE: '1' }, 'EXSYNC_DATABASE_POOL_SIZE'],
  ])('%o is refused naming %s', (env, variable) => {
    let err: unknown;
    try {
      load(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as ConfigError).message).toMatch(new RegExp(`^${variable}`));
    expect((err as ConfigError).message).not.toContain('\n');
  });
});
