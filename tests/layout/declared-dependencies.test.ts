/**
 * Each workspace's package.json declares what its code imports, and nothing more: read with
 * TypeScript's own import scanner (ts.preProcessFile), so `import type`, `export ... from` and
 * dynamic `import()` count. Test, build and bench tools are the root's devDependencies; a
 * simulator's packages are its devDependencies (the production install leaves them out).
 * `npm run lint` also runs knip over the whole tree (unused and unlisted dependencies).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, tsFiles } from './sourceFiles';

/** Workspaces that serve tests, the demo and the bench only: their packages are devDependencies. */
const SIMULATORS = new Set(['packages/entra-sim', 'packages/ews-sim', 'packages/graph-sim', 'packages/mail-sim']);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
const declared = (m: Manifest) => new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.devDependencies ?? {})]);

/** The packages a file imports: `pkg` or `@scope/pkg`, without node's built-in modules. */
function importedPackages(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s.split('/')[0]))
    .map((s) =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

const workspaces = ['packages', 'services'].flatMap((p) =>
  readdirSync(path.join(ROOT, p))
    .sort()
    .map((n) => `${p}/${n}`),
);
const rootDeclared = declared(manifest('.'));
const isTest = (f: string) => f.endsWith('.test.ts');

describe.each(workspaces)('%s/package.json', (dir) => {
  const m = manifest(dir);
  const files = tsFiles(path.join(ROOT, dir, 'src'));
  const product = new Set(files.filter((f) => !isTest(f)).flatMap(importedPackages));
  const tests = new Set(files.filter(isTest).flatMap(importedPackages));
  // A workspace's own build scripts (e.g. a generator over CLDR data) may use its devDependencies.
  const scriptsDir = path.join(ROOT, dir, 'scripts');
  const scripts = new Set((existsSync(scriptsDir) ? tsFiles(scriptsDir) : []).flatMap(importedPackages));

  it('declares every package its code imports', () => {
    expect([...product].filter((p) => !declared(m).has(p)).sort()).toEqual([]);
  });

  it('declares nothing its code does not import', () => {
    expect([...declared(m)].filter((p) => !product.has(p) && !(scripts.has(p) && p in (m.devDependencies ?? {}))).sort()).toEqual([]);
  });

  it('its tests and scripts import what it or the root declares', () => {
    expect([...tests, ...scripts].filter((p) => !declared(m).has(p) && !rootDeclared.has(p)).sort()).toEqual([]);
  });

  it(SIMULATORS.has(dir) ? 'a simulator: its packages are devDependencies' : 'a product workspace: depends on no simulator', () => {
    if (SIMULATORS.has(dir)) expect(m.dependencies ?? {}).toEqual({});
    else {
      const sims = new Set([...SIMULATORS].map((s) => manifest(s).name));
      expect(Object.keys({ ...m.dependencies, ...m.devDependencies }).filter((d) => sims.has(d))).toEqual([]);
    }
  });
});

describe('package.json (the root)', () => {
  const files = ['tests', 'scripts', 'bench'].flatMap((d) => tsFiles(path.join(ROOT, d))).concat(path.join(ROOT, 'vitest.config.ts'));
  const imported = new Set(files.flatMap(importedPackages));
  const workspaceNames = new Set(workspaces.map((w) => manifest(w).name));

  it('declares, as devDependencies, every package that tests, scripts and the bench import', () => {
    expect([...imported].filter((p) => !workspaceNames.has(p) && !rootDeclared.has(p)).sort()).toEqual([]);
  });

  it('has no production dependencies: those belong to the workspaces', () => {
    expect(manifest('.').dependencies ?? {}).toEqual({});
  });
});
