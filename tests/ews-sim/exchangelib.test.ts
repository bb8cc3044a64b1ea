import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { entraAppToken } from '../support/sims';

/**
 * The second, independent EWS client: exchangelib (Debian's python3-exchangelib) runs a scripted
 * impersonated session against the simulator with a token from the Entra simulator.
 */
const ALICE = 'alice@contoso.example';
// Debian's interpreter carries python3-exchangelib; a pyenv shim earlier on PATH would not.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

let sims: Simulators;

beforeAll(async () => {
  sims = await startSimulators();
});

afterAll(async () => {
  await sims?.close();
});

function runSession(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [join(__dirname, 'exchangelib_session.py')], {
      env: { ...process.env, ...env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('exchangelib against the EWS simulator', () => {
  it('creates, fetches, updates, deletes and syncs calendar items (one recurring with an exception) and a contact', async () => {
    const token = await entraAppToken(sims.entraUrl, sims.tenantId, sims.applicationId, sims.clientSecret);
    const { code, stdout, stderr } = await runSession({
      EWS_URL: sims.ewsUrl,
      EWS_MAILBOX: ALICE,
      EWS_ACCESS_TOKEN: token,
      EWS_TOKEN_URL: `${sims.entraUrl}/${sims.tenantId}/oauth2/v2.0/token`,
      EWS_CLIENT_ID: sims.applicationId,
      EWS_CLIENT_SECRET: sims.clientSecret,
      EWS_TENANT_ID: sims.tenantId,
    });
    expect(code, stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.version).toBe('15.1.2507.57');
    expect(report.calendar_sync_initial).toEqual([]);
    expect(report.contacts_sync_initial).toEqual([]);
    expect(report.occurrence_2_start).toBe('2026-09-14T12:00:00+00:00');
    expect(report.series).toMatchObject({
      subject: 'exchangelib weekly',
      type: 'RecurringMaster',
      modified_occurrences: 1,
      first_occurrence: '2026-09-07T12:00:00+00:00',
      last_occurrence: '2026-10-05T12:00:00+00:00',
    });
    expect(report.series.recurrence).toContain('occurs 5 time(s)');
    expect(report.contact).toEqual({ display_name: 'Grace Hopper', emails: ['grace@example.net'], phones: [['BusinessPhone', '+1 555 0101']] });
    expect(report.calendar_sync_after_create).toEqual([
      ['create', 'exchangelib single'],
      ['create', 'exchangelib weekly'],
    ]);
    expect(report.contacts_sync_after_create).toEqual([['create', 'Grace Hopper']]);
    expect(report.calendar_sync_after_update).toEqual([['update', 'exchangelib single (renamed)']]);
    expect(report.contacts_sync_after_update).toEqual([['update', 'Grace Hopper']]);
    expect(report.in_view).toEqual([
      'exchangelib single (renamed)',
      'exchangelib weekly',
      'exchangelib weekly',
      'exchangelib weekly',
      'exchangelib weekly',
      'exchangelib weekly (moved)',
    ]);
    expect(report.calendar_sync_after_delete).toEqual(['delete', 'delete']);
    expect(report.contacts_sync_after_delete).toEqual(['delete']);

    // Everything exchangelib did went through impersonation of Alice and left her folders empty.
    const log = sims.ews.requestLog.list(ALICE);
    expect(new Set(log.map((e) => e.operation))).toEqual(
      new Set(['ConvertId', 'GetFolder', 'SyncFolderItems', 'CreateItem', 'GetItem', 'UpdateItem', 'FindItem', 'DeleteItem']),
    );
    expect(log.every((e) => e.impersonation && e.status === 200)).toBe(true);
    expect(sims.ews.store.readFolder(ALICE, 'calendar')).toEqual([]);
    expect(sims.ews.store.readFolder(ALICE, 'contacts')).toEqual([]);
  });
});
