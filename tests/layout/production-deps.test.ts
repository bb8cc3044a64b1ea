/**
 * The production image installs no development package and runs what `npm run build` emits with
 * plain node. No Docker engine runs here, so this checks the Dockerfile's text and does what its
 * production stage does in a temporary directory: the manifests and the lockfile, `npm ci
 * --omit=dev`, the build output and migrations/; then the built migrate and API entries run there.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/freePort';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
/** Tools no production process may load, wherever they would come from. */
const TOOLS = [
  'vitest',
  'tsx',
  'esbuild',
  'typescript',
  'playwright-core',
  'fast-check',
  'pino-pretty',
  'smtp-server',
  'xmllint-wasm',
  'eslint',
  'prettier',
  'knip',
];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
interface LsNode {
  dependencies?: Record<string, LsNode>;
}

async function workspaceDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const parent of ['packages', 'services']) {
    for (const name of (await readdir(path.join(ROOT, parent))).sort()) dirs.push(`${parent}/${name}`);
  }
  return dirs;
}

async function manifests(): Promise<Manifest[]> {
  const dirs = ['.', ...(await workspaceDirs())];
  return Promise.all(dirs.map(async (d) => JSON.parse(await readFile(path.join(ROOT, d, 'package.json'), 'utf8')) as Manifest));
}

/** Every package in an `npm ls --json` tree, with the names of the packages that require it. */
function requirers(tree: LsNode, parent = '(root)', into = new Map<string, Set<string>>()): Map<string, Set<string>> {
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    if (!into.has(name)) into.set(name, new Set());
    into.get(name)!.add(parent);
    requirers(node, name, into);
  }
  return into;
}

/** The Dockerfile's stages by name, each its lines. */
function stages(dockerfile: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of dockerfile.split('\n').map((l) => l.trim())) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) out.set(from[1], (current = []));
    else if (line && !line.startsWith('#')) current.push(line);
  }
  return out;
}

describe('npm ls --omit=dev', () => {
  it('holds no package that exsync declares only for development, except where a production package requires it', async () => {
    const all = await manifests();
    const production = new Set(all.flatMap((m) => Object.keys(m.dependencies ?? {})));
    // workspaces are linked whatever is omitted; the build bundles them, so none is loaded from there
    const devOnly = new Set(all.flatMap((m) => Object.keys(m.devDependencies ?? {})).filter((n) => !production.has(n) && !n.startsWith('@exsync/')));
    const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--json'], { cwd: ROOT, maxBuffer: 64 << 20 });
    const found = requirers(JSON.parse(stdout) as LsNode);
    const ours = (parent: string) => parent === '(root)' || parent.startsWith('@exsync/');
    const declaredPulls = [...devOnly].filter((n) => [...(found.get(n) ?? [])].some(ours)).map((n) => `${n} <- ${[...found.get(n)!].join(', ')}`);
    expect(declaredPulls).toEqual([]);
    expect(TOOLS.filter((t) => found.has(t))).toEqual([]);
    // the check sees the tree: the production packages are in it
    expect(found.has('fastify') && found.has('bullmq') && found.has('pg')).toBe(true);
  });

  it('the root manifest declares development tools only: production packages belong to the workspaces that import them', async () => {
    const root = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
    expect(root.dependencies ?? {}).toEqual({});
  });
});

describe('Dockerfile', () => {
  it('builds in one stage and installs production dependencies only in the stage it runs', async () => {
    const text = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const byName = stages(text);
    const build = byName.get('build');
    const production = byName.get('production');
    expect(build, 'a stage named build').toBeDefined();
    expect(production, 'a stage named production').toBeDefined();
    expect(
      text
        .trimEnd()
        .split('\n')
        .filter((l) => /^FROM/i.test(l))
        .at(-1),
      'production is the last stage (the default target)',
    ).toMatch(/AS production$/i);
    expect(build).toContain('RUN npm run build');
    expect(production!.filter((l) => /\bnpm (ci|install)\b/.test(l))).toEqual([expect.stringMatching(/^RUN npm ci --omit=dev\b/)]);
    expect(production).toContain('COPY --from=build /app/dist ./dist');
    expect(production).toContain('COPY migrations ./migrations');
    const cmd = production!.find((l) => l.startsWith('CMD'));
    expect(JSON.parse(cmd!.slice(3))).toEqual(['node', '--enable-source-maps', 'dist/api.js']);
    expect(production!.some((l) => /\btsx\b/.test(l))).toBe(false);
  });

  it('copies every workspace manifest into both stages, so npm ci sees the lockfile whole', async () => {
    const byName = stages(await readFile(path.join(ROOT, 'Dockerfile'), 'utf8'));
    for (const dir of await workspaceDirs()) {
      expect(byName.get('build')).toContain(`COPY ${dir}/package.json ${dir}/`);
      expect(byName.get('production')).toContain(`COPY --from=build /app/${dir}/package.json ${dir}/`);
    }
  });

  it('npm start and the start scripts run the build output with node', async () => {
    const { scripts } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe('node --enable-source-maps dist/api.js --with-worker');
    expect(scripts['start:api']).toBe('node --enable-source-maps dist/api.js');
    expect(scripts['start:worker']).toBe('node --enable-source-maps dist/worker.js');
    expect(scripts.migrate).toBe('node --enable-source-maps dist/migrate.js');
  });
});

describe('the production install, as the image makes it', () => {
  let dir: string;
  let dbName: string;
  let child: ChildProcess | undefined;
  const admin = new pg.Client({ connectionString: process.env.EXSYNC_TEST_ADMIN_DATABASE_URL });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'exsync-production-'));
    await run(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/build.ts', '--out', path.join(dir, 'dist')], { cwd: ROOT });
    for (const f of ['package.json', 'package-lock.json', ...(await workspaceDirs()).map((d) => `${d}/package.json`)]) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await cp(path.join(ROOT, f), path.join(dir, f));
    }
    await cp(path.join(ROOT, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, maxBuffer: 16 << 20 });
    await admin.connect();
    dbName = `exsync_production_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${dbName}`); // generated name
  }, 180_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    if (dbName) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs none of the development tools', async () => {
    const installed = new Set(await readdir(path.join(dir, 'node_modules')));
    expect(TOOLS.filter((t) => installed.has(t))).toEqual([]);
  });

  it('the built entries load only packages that a workspace declares as a production dependency', async () => {
    const production = new Set((await manifests()).flatMap((m) => Object.keys(m.dependencies ?? {})).filter((n) => !n.startsWith('@exsync/')));
    const packageOf = (spec: string) =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/');
    const loaded = new Set<string>();
    for (const entry of ['api.js', 'worker.js', 'migrate.js']) {
      const code = await readFile(path.join(dir, 'dist', entry), 'utf8');
      for (const m of code.matchAll(/\brequire\("([^"./][^"]*)"\)/g))
        if (!m[1].startsWith('node:') && !builtinModules.includes(m[1])) loaded.add(packageOf(m[1]));
    }
    expect(loaded.has('fastify')).toBe(true);
    expect([...loaded].filter((p) => !production.has(p)).sort()).toEqual([]);
  });

  it('migrates a database and serves the API, the health endpoints and the admin page with plain node', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${dbName}`;
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', DATABASE_URL: url.toString() };
    const migrated = await run(process.execPath, ['dist/migrate.js'], { cwd: dir, env });
    expect(migrated.stdout).toMatch(/^applied 1732300000000_initial-schema$/m);

    const port = await freePort();
    const adminToken = randomBytes(24).toString('hex');
    child = spawn(process.execPath, ['dist/api.js'], {
      cwd: dir,
      env: {
        ...env,
        EXSYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        EXSYNC_ADMIN_TOKEN: adminToken,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        EXSYNC_REDIS_PREFIX: `${process.env.EXSYNC_REDIS_PREFIX}-production`,
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const base = `http://127.0.0.1:${port}`;
    let ready: Response | undefined;
    while (!ready) {
      const early = await Promise.race([exited, new Promise((r) => setTimeout(r, 250, 'running'))]);
      if (early !== 'running') throw new Error(`dist/api.js exited (${String(early)}): ${stderr}`);
      ready = await fetch(`${base}/readyz`).catch(() => undefined);
    }
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const page = await fetch(`${base}/admin/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script');
    // the route folders (dist/routes, loaded by @fastify/autoload) with their hooks
    const auth = { authorization: `Bearer ${adminToken}` };
    const created = await fetch(`${base}/v1/orgs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"name":"built"}' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await fetch(`${base}/v1/orgs/${id}/users`, { headers: auth })).status).toBe(200);
    expect(await (await fetch(`${base}/v1/orgs/${id}/users/not-a-guid`, { headers: auth })).json()).toMatchObject({ field: 'userId' });
    expect((await fetch(`${base}/v1/orgs/${id}`)).status).toBe(401);
    expect(Object.keys(((await (await fetch(`${base}/docs/json`)).json()) as { paths: object }).paths).length).toBeGreaterThan(30);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  }, 60_000);
});
