/**
 * `npm run build` (after the type checks): the JavaScript that production runs with plain node.
 *   dist/api.js       services/api/src/main.ts   (`npm start`, `npm run start:api`)
 *   dist/worker.js    services/worker/src/main.ts (`npm run start:worker`)
 *   dist/migrate.js   packages/db/src/migrateCli.ts (`npm run migrate`)
 *   dist/routes/      the API's route folders, one file per file @fastify/autoload loads from
 *                     services/api/src/routes (index.ts, autohooks.ts, and the files of a folder
 *                     without index.ts), same names, so autoload finds the same tree at run time
 *   dist/admin-page/  the admin page: index.html, admin.css and admin.js bundled for the browser
 * The exsync workspaces are bundled in (their package.json points at TypeScript sources); every
 * other package stays an import of node_modules, so `npm ci --omit=dev` installs what runs.
 * `--out DIR` writes elsewhere than dist/ (tests/layout/production-deps.test.ts).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { adminPageFiles } from '../services/api/src/admin/adminAssets';

const ROOT = join(__dirname, '..');
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(ROOT, 'dist');

/** Bare imports other than `@exsync/...` are left to node_modules. */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@exsync/') ? undefined : { path: args.path, external: true }));
  },
};

const API_SRC = 'services/api/src';

/**
 * The files @fastify/autoload loads under `dir` (services/api/src/app.ts registers it): each
 * folder's autohooks.ts and index.ts, or every script of a folder without an index. The folder
 * tree is the only list of routes; this walks it as autoload does.
 */
async function routeFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const scripts = entries.filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')).map((e) => e.name);
  const loaded = scripts.includes('index.ts') ? scripts.filter((n) => n === 'index.ts' || n === 'autohooks.ts') : scripts;
  const below = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => routeFiles(join(dir, e.name))));
  return [...loaded.map((n) => join(dir, n)), ...below.flat()];
}

async function main(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  // Each route file is a bundle of its own (autoload requires it by path): code they share is
  // copied into each, so nothing may depend on the identity of a module-level value across them
  // (errorHandler.ts matches HttpError by name for this reason).
  const routes = (await routeFiles(join(ROOT, API_SRC, 'routes'))).map((file) => {
    const rel = relative(join(ROOT, API_SRC), file);
    return { in: relative(ROOT, file), out: rel.slice(0, -'.ts'.length) };
  });
  await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: 'services/api/src/main.ts', out: 'api' },
      { in: 'services/worker/src/main.ts', out: 'worker' },
      { in: 'packages/db/src/migrateCli.ts', out: 'migrate' },
      ...routes,
    ],
    outdir: OUT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    plugins: [externalPackages],
    logLevel: 'warning',
  });
  const page = join(OUT, 'admin-page');
  await mkdir(page, { recursive: true });
  for (const [name, body] of await adminPageFiles()) await writeFile(join(page, name), body);
}

main().catch((err: unknown) => {
  process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
