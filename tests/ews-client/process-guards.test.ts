import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CHILD = join(__dirname, 'fixtures', 'unhandledRejectionChild.ts');

function runChild(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CHILD, ...args], { timeout: 30_000 }, (err, stdout) => {
      resolve({ code: err ? (((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1) : 0, stdout });
    });
  });
}

describe('installProcessGuards', () => {
  it('without the guard an unhandled rejection kills the process (the failure it exists for)', async () => {
    const r = await runChild([]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
  });

  it('with the guard the process survives and logs the rejection without the bearer token', async () => {
    const r = await runChild(['--guard']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { alive: boolean; logged: string[] };
    expect(out.alive).toBe(true);
    expect(out.logged).toHaveLength(1);
    expect(out.logged[0]).toContain("Cannot read properties of undefined (reading 'Envelope')");
    expect(out.logged[0]).toContain('Bearer [redacted]');
    expect(out.logged[0]).not.toContain('eyJ0eXAi');
  });
});
