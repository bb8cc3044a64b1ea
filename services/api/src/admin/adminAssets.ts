import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The page's TypeScript entry point (type-checked by `npm run build` through page/tsconfig.json). */
const ENTRY = join(__dirname, 'page', 'main.ts');
/** index.html and admin.css, served as they are. */
const STATIC_DIR = join(__dirname, 'static');
const STATIC_FILES = ['index.html', 'admin.css'];
/**
 * Where `npm run build` writes the finished page beside the API's bundle (dist/admin-page); absent
 * when the API runs from its TypeScript sources.
 */
const PREBUILT_DIR = join(__dirname, 'admin-page');

let assets: Promise<string> | undefined;

/**
 * The directory the admin page is served from: index.html, admin.css and admin.js (the page's
 * TypeScript bundled for the browser by esbuild). The built API (`npm run build`, what `npm start`
 * and the image run) serves the page the build wrote beside it. Run from its TypeScript sources
 * (tests, development) the page is bundled when the first app of the process starts, into a
 * directory named by the content's hash under the system temporary directory; a later process with
 * the same sources reuses it. Resolves to its path; rejects with esbuild's error when the page does
 * not compile.
 */
export function adminAssetsDir(): Promise<string> {
  if (existsSync(join(PREBUILT_DIR, 'index.html'))) return Promise.resolve(PREBUILT_DIR);
  assets ??= makeAssets().catch((err: unknown) => {
    assets = undefined;
    throw err;
  });
  return assets;
}

/**
 * The page's files by name: admin.js bundled from page/main.ts by esbuild (a development tool,
 * loaded only here), index.html and admin.css as they are. Rejects with esbuild's error when the
 * page does not compile.
 */
export async function adminPageFiles(): Promise<Map<string, Buffer>> {
  const { build } = await import('esbuild');
  const bundle = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map<string, Buffer>([['admin.js', Buffer.from(bundle.outputFiles[0].contents)]]);
  for (const name of STATIC_FILES) files.set(name, await readFile(join(STATIC_DIR, name)));
  return files;
}

async function makeAssets(): Promise<string> {
  const files = await adminPageFiles();
  const hash = createHash('sha256');
  for (const [name, body] of files) hash.update(name).update(body);
  const dir = join(tmpdir(), `exsync-admin-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'index.html'))) return dir;
  await mkdir(dir, { recursive: true });
  // index.html last and each file by rename, so a directory with index.html is complete.
  for (const [name, body] of [...files].sort(([a], [b]) => (a === 'index.html' ? 1 : b === 'index.html' ? -1 : 0))) {
    const part = join(dir, `.${name}.${process.pid}.${Date.now()}`);
    await writeFile(part, body);
    await rename(part, join(dir, name));
  }
  return dir;
}
