import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { AppTokenProvider, RedisTokenCache, type OrgCredentials } from '@exsync/ews-client';

const key = randomBytes(32);
/** AES-256-GCM as the api's secret box does it: iv | tag | ciphertext, base64. */
function seal(plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}
function open(sealed: string): string {
  const raw = Buffer.from(sealed, 'base64');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
}

const prefix = `${process.env.EXSYNC_REDIS_PREFIX ?? 'exsync-test'}:auth-shared-cache`;
let sim: EntraSim;
const connections: Redis[] = [];

/** One "process": its own Redis connection, its own provider (own MSAL clients and memory). */
function processInstance(): AppTokenProvider {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 2 });
  connections.push(redis);
  return new AppTokenProvider({ allowInsecureAuthority: true, cache: new RedisTokenCache({ redis, prefix, seal, open }) });
}

let appSeq = 0;
/** A fresh app registration per test, so each starts with a cold shared cache. */
function freshApp(): OrgCredentials {
  appSeq += 1;
  const appId = `5ca1ab1e-0000-4000-8000-${String(appSeq).padStart(12, '0')}`;
  sim.addApp({ tenantId: DEFAULT_SEED.tenantId, appId, secrets: ['shared-secret'], roles: ['full_access_as_app'], consented: true });
  return { authorityHost: sim.url, tenantId: DEFAULT_SEED.tenantId, applicationId: appId, clientSecret: 'shared-secret' };
}

beforeAll(async () => {
  sim = await startEntraSim();
});
beforeEach(() => sim.resetStats());
afterAll(async () => {
  const admin = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  await Promise.all(connections.map((c) => c.quit()));
  await sim.close();
});

describe('token cache shared between processes through Redis', () => {
  it('a second process reuses the first process token without a token request', async () => {
    const creds = freshApp();
    const first = await processInstance().getToken(creds);
    const second = await processInstance().getToken(creds);
    expect(second).toBe(first);
    expect(sim.stats.byClientId[creds.applicationId]).toBe(1);
  });

  it('processes starting cold at the same time send one token request between them', async () => {
    const creds = freshApp();
    const a = processInstance();
    const b = processInstance();
    const c = processInstance();
    const tokens = await Promise.all([a, b, c].flatMap((p) => Array.from({ length: 5 }, () => p.getToken(creds))));
    expect(new Set(tokens).size).toBe(1);
    expect(sim.stats.byClientId[creds.applicationId]).toBe(1);
  });

  it('stores the cache sealed, and treats a value that does not open as a miss', async () => {
    const creds = freshApp();
    const token = await processInstance().getToken(creds);
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    connections.push(redis);
    const keys = (await redis.keys(`${prefix}:msal-cache:*`)).filter((k) => !k.endsWith(':lock'));
    const values = await Promise.all(keys.map((k) => redis.get(k)));
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      expect(v).not.toContain(token);
      expect(v).not.toContain(token.split('.')[1]);
      expect(v).not.toContain('AccessToken');
    }
    expect(values.some((v) => v !== null && open(v).includes(token))).toBe(true);
    // every cache entry corrupted: the next process fetches its own token instead of failing
    for (const k of keys) await redis.set(k, 'not-sealed', 'KEEPTTL');
    const again = await processInstance().getToken(creds);
    expect(again).not.toBe(token);
    expect(sim.stats.byClientId[creds.applicationId]).toBe(2);
  });
});
