/**
 * `npm run build` (after the type checks): the JavaScript that production runs with plain node.
 *   dist/api.js       services/api/src/main.ts   (`npm start`, `npm run start:api`)
 *   dist/worker.js    services/worker/src/main.ts (`npm run start:worker`)
 *   dist/migrate.js   packages/db/src/migrateCli.ts (`npm run migrate`)
 *   dist/admin-page/  the admin page: index.html, admin.css and admin.js bundled for the browser
 * The exsync workspaces are bundled in (their package.json points at TypeScript sources); every
 * other package stays an import of node_modules, so `npm ci --omit=dev` installs what runs.
 * `--out DIR` writes elsewhere than dist/ (tests/layout/production-deps.test.ts).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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

async function main(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: {
      api: 'services/api/src/main.ts',
      worker: 'services/worker/src/main.ts',
      migrate: 'packages/db/src/migrateCli.ts',
    },
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
