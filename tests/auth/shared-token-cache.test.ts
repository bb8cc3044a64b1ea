import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { AppTokenProvider, RedisTokenCache, type OrgCredentials } from '@exsync/ews-client';
import { sealingWith } from './testSealing';

const key = randomBytes(32);
const { seal, open } = sealingWith(key);

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

  it('a forced refresh (EWS rejected the token) replaces it in the shared cache for every process', async () => {
    const creds = freshApp();
    const a = processInstance();
    const rejected = await a.getToken(creds);
    const [fresh, sameRefresh] = await Promise.all([a.getToken(creds, { forceRefresh: true }), a.getToken(creds, { forceRefresh: true })]);
    expect(fresh).not.toBe(rejected);
    expect(sameRefresh).toBe(fresh); // concurrent callers that saw the same 401 share one request
    expect(await a.getToken(creds)).toBe(fresh);
    expect(await processInstance().getToken(creds)).toBe(fresh); // a cold process reads the new one
    expect(sim.stats.byClientId[creds.applicationId]).toBe(2);
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

  it('separate OS processes starting together send one token request between them', async () => {
    const creds = freshApp();
    const run = promisify(execFile);
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    const env = {
      ...process.env,
      CACHE_PREFIX: prefix,
      CACHE_KEY_HEX: key.toString('hex'),
      AUTHORITY_HOST: creds.authorityHost,
      TENANT_ID: creds.tenantId,
      APPLICATION_ID: creds.applicationId,
      CLIENT_SECRET: creds.clientSecret ?? '',
    };
    const script = path.resolve(__dirname, 'tokenProcess.ts');
    const outputs = await Promise.all([1, 2, 3].map(() => run(tsx, [script], { env, timeout: 60_000 })));
    const hashes = outputs.map((o) => o.stdout.trim());
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(new Set(hashes).size).toBe(1);
    // and this process, a fourth, reuses it too
    const mine = await processInstance().getToken(creds);
    expect(createHash('sha256').update(mine).digest('hex')).toBe(hashes[0]);
    expect(sim.stats.byClientId[creds.applicationId]).toBe(1);
  });

  it('keeps issuing tokens when Redis is unreachable', async () => {
    const creds = freshApp();
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on('error', () => {});
    const provider = new AppTokenProvider({ allowInsecureAuthority: true, cache: new RedisTokenCache({ redis: dead, prefix, seal, open }) });
    const token = await provider.getToken(creds);
    expect(token.split('.')).toHaveLength(3);
    expect(await provider.getToken(creds)).toBe(token);
    expect(sim.stats.byClientId[creds.applicationId]).toBe(1);
    dead.disconnect();
  });
});
