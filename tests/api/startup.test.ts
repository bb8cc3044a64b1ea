import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@exsync/config';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const KEY = randomBytes(32).toString('base64');

/** Runs a script with only the given variables (plus PATH/HOME), as a fresh shell would. */
function run(script: string, env: Record<string, string>) {
  const res = spawnSync(TSX, [script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, lines: res.stderr.split('\n').filter(Boolean) };
}

describe('npm start', () => {
  it('exits non-zero with one line when EXSYNC_ENCRYPTION_KEY is missing', () => {
    const res = run('services/api/src/main.ts', { EXSYNC_ADMIN_TOKEN: 'a-long-enough-admin-token' });
    expect(res.status).not.toBe(0);
    expect(res.lines).toEqual(['EXSYNC_ENCRYPTION_KEY is missing: set it to 32 random bytes, base64 (openssl rand -base64 32)']);
  });

  it('names a malformed variable and the fix', () => {
    const res = run('services/api/src/main.ts', { EXSYNC_ENCRYPTION_KEY: KEY, EXSYNC_ADMIN_TOKEN: 'a-long-enough-admin-token', PORT: 'eighty' });
    expect(res.status).toBe(1);
    expect(res.lines).toHaveLength(1);
    expect(res.lines[0]).toMatch(/^PORT is "eighty": set it to a whole number/);
  });

  it('refuses to start on a database without the schema, telling to run npm run migrate', async () => {
    const admin = new pg.Client({ connectionString: process.env.EXSYNC_TEST_ADMIN_DATABASE_URL });
    await admin.connect();
    const name = `exsync_empty_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`); // generated name
    try {
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = `/${name}`;
      const res = run('services/api/src/main.ts', {
        EXSYNC_ENCRYPTION_KEY: KEY,
        EXSYNC_ADMIN_TOKEN: 'a-long-enough-admin-token',
        DATABASE_URL: url.toString(),
        PORT: '0',
      });
      expect(res.status).toBe(1);
      expect(res.lines).toHaveLength(1);
      expect(res.lines[0]).toMatch(/run npm run migrate$/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('npm run migrate', () => {
  it('says there is nothing to apply on a current schema', () => {
    const res = spawnSync(TSX, ['packages/db/src/migrateCli.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: process.env.DATABASE_URL! },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe('nothing to apply: the schema is current');
  });
});

describe('loadConfig', () => {
  const base = { EXSYNC_ENCRYPTION_KEY: KEY, EXSYNC_ADMIN_TOKEN: 'a-long-enough-admin-token' };

  it('applies the contract defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      mode: 'production',
      databaseUrl: 'postgres://localhost:5432/exsync',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'exsync',
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:3000',
      syncIntervalSeconds: 300,
      workerConcurrency: 10,
      ewsTimeoutSeconds: 100,
      graphTimeoutSeconds: 100,
      allowInsecureAuthority: false,
      logLevel: 'info',
      ephemeralSecrets: false,
      allowedHosts: [],
      maxResponseBytes: 64 * 1024 * 1024,
      rateLimit: { windowSeconds: 60, perIp: 3000, perToken: 3000, signInPerIp: 60 },
      oauthStateLimits: { perLink: 5, perOrg: 200 },
    });
    expect(c.encryptionKey).toEqual({ id: 'k1', key: Buffer.from(KEY, 'base64') });
  });

  it('generates ephemeral secrets in demo and test mode only', () => {
    expect(loadConfig({ EXSYNC_MODE: 'demo' })).toMatchObject({ mode: 'demo', ephemeralSecrets: true });
    expect(loadConfig({ NODE_ENV: 'test' }).mode).toBe('test');
    expect(() => loadConfig({ EXSYNC_ENCRYPTION_KEY: KEY })).toThrow(/^EXSYNC_ADMIN_TOKEN is missing/);
  });

  it.each([
    [{ EXSYNC_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'EXSYNC_ENCRYPTION_KEY'],
    [{ EXSYNC_ENCRYPTION_KEY_ID: 'has space' }, 'EXSYNC_ENCRYPTION_KEY_ID'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ EXSYNC_SYNC_INTERVAL_SECONDS: '-5' }, 'EXSYNC_SYNC_INTERVAL_SECONDS'],
    [{ EXSYNC_WORKER_CONCURRENCY: '0' }, 'EXSYNC_WORKER_CONCURRENCY'],
    [{ EXSYNC_ALLOW_INSECURE_AUTHORITY: 'maybe' }, 'EXSYNC_ALLOW_INSECURE_AUTHORITY'],
    [{ EXSYNC_REDIS_PREFIX: 'a:b' }, 'EXSYNC_REDIS_PREFIX'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ EXSYNC_MODE: 'staging' }, 'EXSYNC_MODE'],
    [{ EXSYNC_PUBLIC_URL: 'exsync.example.com' }, 'EXSYNC_PUBLIC_URL'],
    [{ EXSYNC_PREVIOUS_ENCRYPTION_KEYS: 'nocolon' }, 'EXSYNC_PREVIOUS_ENCRYPTION_KEYS'],
    [{ EXSYNC_ALLOWED_HOSTS: 'https://mail.example.com' }, 'EXSYNC_ALLOWED_HOSTS'],
    [{ EXSYNC_ALLOWED_HOSTS: 'mail.example.com:99999' }, 'EXSYNC_ALLOWED_HOSTS'],
    [{ EXSYNC_RATE_LIMIT_PER_IP: '0' }, 'EXSYNC_RATE_LIMIT_PER_IP'],
    [{ EXSYNC_RATE_LIMIT_WINDOW_SECONDS: 'minute' }, 'EXSYNC_RATE_LIMIT_WINDOW_SECONDS'],
    [{ EXSYNC_OAUTH_STATES_PER_LINK: '-1' }, 'EXSYNC_OAUTH_STATES_PER_LINK'],
    [{ EXSYNC_MAX_RESPONSE_MB: '0' }, 'EXSYNC_MAX_RESPONSE_MB'],
    [{ EXSYNC_WORKER_METRICS_PORT: '0' }, 'EXSYNC_WORKER_METRICS_PORT'],
    [{ EXSYNC_WORKER_METRICS_PORT: 'http' }, 'EXSYNC_WORKER_METRICS_PORT'],
  ])('refuses %o with a one-line ConfigError naming it', (env, variable) => {
    let error: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message.startsWith(variable)).toBe(true);
    expect((error as ConfigError).message).not.toContain('\n');
    expect((error as ConfigError).message).toMatch(/: set it/);
  });

  it('reads previous keys for rotation', () => {
    const old = randomBytes(32).toString('base64');
    const c = loadConfig({ ...base, EXSYNC_ENCRYPTION_KEY_ID: 'k2', EXSYNC_PREVIOUS_ENCRYPTION_KEYS: `k1:${old}` });
    expect(c.encryptionKey.id).toBe('k2');
    expect(c.previousEncryptionKeys).toEqual([{ id: 'k1', key: Buffer.from(old, 'base64') }]);
  });
});
