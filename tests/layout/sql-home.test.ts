/**
 * SQL lives in packages/db (and the schema in migrations/): no other TypeScript file of the product
 * writes a statement. Tests and the bench may (they set up and read state directly). A statement is
 * what the layout check of issue 20 greps for: an upper-case SELECT, INSERT INTO, UPDATE <table> or
 * DELETE FROM in a .ts file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tsFiles } from './sourceFiles';

/** Where SQL belongs, or is allowed because it is not product code (paths relative to the root). */
const SQL_HOMES = ['packages/db/', 'migrations/', 'tests/', 'bench/'];

const SQL = /\b(SELECT|INSERT INTO|UPDATE [a-z_]+ |DELETE FROM)\b/;

/** The file's lines that hold SQL, as `path:line: text`. */
function sqlLines(rel: string, text: string): string[] {
  return text
    .split('\n')
    .map((line, i) => (SQL.test(line) ? `${rel}:${i + 1}: ${line.trim()}` : null))
    .filter((l): l is string => l !== null);
}

const all = tsFiles(ROOT).map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
/** A workspace's bench directory (packages/ews-sim/bench) and colocated *.test.ts files are not product code either. */
const isHome = (rel: string) => SQL_HOMES.some((h) => rel.startsWith(h)) || rel.includes('/bench/') || rel.endsWith('.test.ts');

describe('no SQL outside packages/db and migrations/', () => {
  it('recognises a statement, and finds the ones packages/db holds', () => {
    expect(sqlLines('x.ts', 'await db.query(`UPDATE mailboxes SET state = $2 WHERE id = $1`);\nconst selected = 1;')).toEqual([
      'x.ts:1: await db.query(`UPDATE mailboxes SET state = $2 WHERE id = $1`);',
    ]);
    const inDb = all.filter((f) => f.startsWith('packages/db/src/')).flatMap((f) => sqlLines(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(inDb.length).toBeGreaterThan(50);
  });

  it('no product file outside packages/db writes SQL', () => {
    const found = all.filter((f) => !isHome(f)).flatMap((f) => sqlLines(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(found).toEqual([]);
  });
});
