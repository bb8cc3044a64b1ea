/**
 * A mailbox's status is changed by one module, through the status machine's named transitions:
 * packages/db/src/mailboxStatusRepository.ts is the only product file whose SQL writes
 * `mailboxes.state`, and the only one that writes the
 * organisation-wide stop, `exchange_settings.org_error_*`. Tests and the bench set states directly
 * and are not product code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tsFiles } from './sourceFiles';

const STATUS_MODULE = 'packages/db/src/mailboxStatusRepository.ts';

/**
 * The columns each INSERT or UPDATE of `table` in `text` writes, one entry per statement: an
 * UPDATE's SET targets (an assignment follows SET or a comma; a CASE condition follows WHEN/AND),
 * an INSERT's column list and its ON CONFLICT ... DO UPDATE SET targets. A statement ends with its
 * template literal.
 */
function writtenColumns(text: string, table: string): string[][] {
  const start = new RegExp(`\\b(UPDATE|INSERT INTO)\\s+${table}\\b`, 'g');
  const out: string[][] = [];
  for (const m of text.matchAll(start)) {
    const rest = text.slice(m.index + m[0].length);
    const end = rest.indexOf('`');
    const stmt = end >= 0 ? rest.slice(0, end) : rest;
    const cols = [...stmt.matchAll(/(?:\bSET|,)\s*([a-z_]+)\s*=(?!>)/g)].map((c) => c[1]);
    if (m[1] === 'INSERT INTO') {
      const list = /^\s*\(([^)]*)\)/.exec(stmt);
      if (list) cols.push(...list[1].split(',').map((c) => c.trim()));
    }
    out.push(cols);
  }
  return out;
}

const product = ['packages', 'services', 'scripts']
  .flatMap((d) => tsFiles(path.join(ROOT, d)))
  .map((f) => path.relative(ROOT, f).split(path.sep).join('/'))
  .filter((f) => !f.endsWith('.test.ts') && !f.includes('/bench/'));
const source = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

/** Product files with a statement that writes one of `columns` of `table`. */
function writers(table: string, writes: (col: string) => boolean): string[] {
  return product.filter((f) => writtenColumns(source(f), table).some((cols) => cols.some(writes)));
}

describe('one module changes the mailbox status', () => {
  it('reads the columns a statement writes, not the ones it tests', () => {
    const sample = [
      'db.query(`UPDATE mailboxes SET sync_progress = $2::jsonb WHERE id = $1 AND state = $3`)',
      'db.query(`UPDATE mailboxes m SET next_run_at = now(),\n  last_error_code = CASE WHEN m.state = ANY($4) THEN NULL END, state = $5`)',
      'db.query(`INSERT INTO mailboxes (org_id, user_id, state) VALUES ($1, $2, $3)`)',
      'db.query(`INSERT INTO exchange_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO UPDATE SET org_error_code = NULL`)',
    ].join('\n');
    expect(writtenColumns(sample, 'mailboxes')).toEqual([['sync_progress'], ['next_run_at', 'last_error_code', 'state'], ['org_id', 'user_id', 'state']]);
    expect(writtenColumns(sample, 'exchange_settings')).toEqual([['org_error_code', 'org_id']]);
  });

  it(`only ${STATUS_MODULE} writes mailboxes.state`, () => {
    expect(writers('mailboxes', (c) => c === 'state')).toEqual([STATUS_MODULE]);
  });

  it('every named transition it applies writes the state (one statement each, at least)', () => {
    const statements = writtenColumns(source(STATUS_MODULE), 'mailboxes').filter((cols) => cols.includes('state'));
    // enable/disable, sign-in, run-started, run-succeeded, run-throttled, attempt-failed/retries-exhausted,
    // mailbox-stopped, manual-sync, organisation-stopped, cause-fixed (twice), run-abandoned
    expect(statements.length).toBeGreaterThanOrEqual(12);
  });

  it('only it writes the organisation-wide stop', () => {
    expect(writers('exchange_settings', (c) => c.startsWith('org_error_'))).toEqual([STATUS_MODULE]);
  });
});
