import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/stack';

/**
 * Two `npm run demo` at once on one machine, with no DATABASE_URL, EXSYNC_REDIS_PREFIX, PORT or
 * EXSYNC_PUBLIC_URL: each picks its own free ports, database and Redis prefix, signs Alice in
 * (organisation on EWS) and Dave in (organisation on Microsoft Graph) through its own simulators
 * and reaches a synced mailbox in both; Ctrl-C removes what each created.
 */
const ROOT = path.resolve(__dirname, '../..');
const ADMIN_URL = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface RunningDemo {
  child: ChildProcess;
  out: () => string;
  banner: { baseUrl: string; orgId: string; orgToken: string; graphOrgId: string; graphOrgToken: string; database: string; redisPrefix: string };
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
});

function demoEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGUSER: decodeURIComponent(new URL(ADMIN_URL).username) || process.env.PGUSER };
  for (const name of [
    'DATABASE_URL',
    'EXSYNC_REDIS_PREFIX',
    'PORT',
    'EXSYNC_PUBLIC_URL',
    'EXSYNC_MODE',
    'NODE_ENV',
    'EXSYNC_ADMIN_TOKEN',
    'EXSYNC_ENCRYPTION_KEY',
  ]) {
    delete env[name];
  }
  return env;
}

function field(text: string, label: string): string {
  const m = new RegExp(`^  ${label}\\s+(\\S+)`, 'm').exec(text);
  if (!m) throw new Error(`no "${label}" in the banner:\n${text}`);
  return m[1];
}

async function startDemo(): Promise<RunningDemo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--banner-every', '0'], {
    cwd: ROOT,
    env: demoEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(
    'the demo banner',
    async () => {
      if (child.exitCode !== null) throw new Error(`demo exited ${child.exitCode}:\n${out}`);
      return out.includes('Try: curl');
    },
    90_000,
  );
  return {
    child,
    out: () => out,
    banner: {
      baseUrl: field(out, 'Admin page').replace(/\/admin$/, ''),
      orgId: field(out, 'Organisation'),
      orgToken: field(out, 'Org-admin token'),
      graphOrgId: field(out, 'Graph org'),
      graphOrgToken: field(out, 'Graph org token'),
      database: field(out, 'Database'),
      redisPrefix: field(out, 'Redis prefix'),
    },
  };
}

async function api(demo: RunningDemo, p: string, token = demo.banner.orgToken): Promise<any> {
  const res = await fetch(`${demo.banner.baseUrl}${p}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, p).toBe(200);
  return res.json();
}

describe('npm run demo', () => {
  it('runs twice at once, each on its own ports and data, both reaching a synced mailbox, and cleans up after itself', async () => {
    const demos = await Promise.all([startDemo(), startDemo()]);
    const [a, b] = demos;
    expect(a.banner.baseUrl).not.toBe(b.banner.baseUrl);
    expect(a.banner.database).not.toBe(b.banner.database);
    expect(a.banner.redisPrefix).not.toBe(b.banner.redisPrefix);
    expect(a.banner.database).toMatch(/^exsync_demo_/);

    for (const demo of demos) {
      const users = await api(demo, `/v1/orgs/${demo.banner.orgId}/users`);
      const alice = users.users.find((u: { email: string }) => u.email === 'alice@contoso.example');
      await waitFor(
        'alice synced',
        async () => {
          const status = await api(demo, `/v1/orgs/${demo.banner.orgId}/users/${alice.id}/sync-status`);
          return status.state === 'healthy' && status.lastSuccessAt !== null;
        },
        60_000,
      );
      const exchange = await api(demo, `/v1/orgs/${demo.banner.orgId}/exchange`);
      expect(JSON.stringify(exchange.consent)).toContain('granted');
      expect(exchange.transport).toBe('ews');

      // The second organisation syncs Dave's mailbox over Microsoft Graph: his Outlook items reach the CRM.
      const { graphOrgId, graphOrgToken } = demo.banner;
      expect(graphOrgId).not.toBe(demo.banner.orgId);
      const graphSettings = await api(demo, `/v1/orgs/${graphOrgId}/exchange`, graphOrgToken);
      expect(graphSettings.transport).toBe('graph');
      expect(JSON.stringify(graphSettings.consent)).toContain('granted');
      const graphUsers = await api(demo, `/v1/orgs/${graphOrgId}/users`, graphOrgToken);
      const dave = graphUsers.users.find((u: { email: string }) => u.email === 'dave@contoso.example');
      await waitFor(
        'dave synced over Graph',
        async () => {
          const status = await api(demo, `/v1/orgs/${graphOrgId}/users/${dave.id}/sync-status`, graphOrgToken);
          return status.state === 'healthy' && status.totals?.appointment === 3 && status.totals?.contact === 1;
        },
        60_000,
      );
      // each org-admin token opens its own organisation only
      const other = await fetch(`${demo.banner.baseUrl}/v1/orgs/${graphOrgId}/users`, { headers: { authorization: `Bearer ${demo.banner.orgToken}` } });
      expect(other.status).toBe(404);
      // Human-readable logs: no raw JSON lines.
      expect(
        demo
          .out()
          .split('\n')
          .filter((l) => l.startsWith('{"level"')),
      ).toEqual([]);
      expect(demo.out()).toMatch(/INFO: GET \/v1\/orgs\/\S+\/users -> 200/);
    }

    // Enter shows the banner again.
    const before = a.out().split('Try: curl').length;
    a.child.stdin!.write('\n');
    await waitFor('the banner again', async () => a.out().split('Try: curl').length > before, 10_000);

    await Promise.all(
      demos.map(
        (d) =>
          new Promise<void>((resolve) => {
            d.child.once('exit', () => resolve());
            d.child.kill('SIGINT');
          }),
      ),
    );
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const left = await admin.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [demos.map((d) => d.banner.database)]);
    await admin.end();
    expect(left.rows).toEqual([]);
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    for (const d of demos) expect(await redis.keys(`${d.banner.redisPrefix}:*`)).toEqual([]);
    redis.disconnect();
  }, 240_000);
});
