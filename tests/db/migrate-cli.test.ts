import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { withDefaultDatabaseUser } from '@exsync/db';

const ROOT = path.resolve(__dirname, '../..');
const ADMIN_URL = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const created: string[] = [];

afterAll(async () => {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
});

function migrateCli(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'packages/db/src/migrateCli.ts'], { cwd: ROOT, env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('withDefaultDatabaseUser', () => {
  const me = userInfo().username;
  it.each([
    ['postgres://localhost:5432/exsync', {}, `postgres://${me}@localhost:5432/exsync`],
    ['postgres://127.0.0.1/exsync?sslmode=disable', {}, `postgres://${me}@127.0.0.1/exsync?sslmode=disable`],
    ['postgres://ann@localhost:5432/exsync', {}, 'postgres://ann@localhost:5432/exsync'],
    ['postgres://ann:pw@localhost/exsync', {}, 'postgres://ann:pw@localhost/exsync'],
    ['postgres://localhost:5432/exsync', { PGUSER: 'bob' }, 'postgres://localhost:5432/exsync'],
    ['not a url', {}, 'not a url'],
  ])('%s with %j -> %s', (url, env, expected) => {
    expect(withDefaultDatabaseUser(url, env)).toBe(expected);
  });
});

describe('npm run migrate', () => {
  it('creates and migrates the database with USER and PGUSER unset, and a second run applies nothing', async () => {
    const name = `exsync_migrate_cli_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const admin = new URL(ADMIN_URL);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `postgres://${admin.host}/${name}` };
    const first = await migrateCli(env);
    expect(first.out).toContain(`created database ${name}`);
    expect(first.out).toContain('applied 1732300000000_initial-schema');
    expect(first.code).toBe(0);
    const second = await migrateCli(env);
    expect(second.out).toContain('nothing to apply');
    expect(second.code).toBe(0);
  });
});
