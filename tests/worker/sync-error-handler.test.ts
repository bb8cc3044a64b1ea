import { AuthFailedError, EwsError, ThrottledError } from '@exsync/ews-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyRunError, handleSyncError } from '../../services/worker/src/syncErrorHandler';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/stack';
import { seedMailbox, seedOrg } from '../support/seed';

let db: IsolatedDatabase;
beforeAll(async () => {
  db = await createIsolatedDatabase();
});
afterAll(async () => {
  await db.drop();
});

const mailboxRow = async (id: string) =>
  (
    await db.pool.query(`SELECT state, last_error_code, last_error_message, throttled_until, next_run_at, consecutive_failures FROM mailboxes WHERE id = $1`, [
      id,
    ])
  ).rows[0];

describe('classifying run errors', () => {
  it.each([
    [new AuthFailedError('invalid-secret', 'AADSTS7000215', { code: 'AADSTS7000215' }), 'organisation', 'InvalidClientCredential'],
    [new AuthFailedError('consent-missing', 'AADSTS65001', { code: 'AADSTS65001' }), 'organisation', 'AdminConsentMissing'],
    [new AuthFailedError('app-not-found', 'AADSTS700016'), 'organisation', 'ApplicationNotFound'],
    [new AuthFailedError('tenant-not-found', 'AADSTS90002'), 'organisation', 'TenantNotFound'],
    [new AuthFailedError('grant-revoked', 'invalid_grant'), 'mailbox', 'UserSignInExpired'],
    [new EwsError('ImpersonationDenied', 'denied', { code: 'ErrorImpersonateUserDenied' }), 'mailbox', 'ImpersonationDenied'],
    [new EwsError('MailboxNotFound', 'none', { code: 'ErrorNonExistentMailbox' }), 'mailbox', 'MailboxNotFound'],
    [new EwsError('EwsDisabledForTenant', 'off', { code: '403' }), 'organisation', 'EwsDisabledForTenant'],
    [new EwsError('EwsBlockedByPolicy', 'blocked', { code: 'EwsPolicyBlock' }), 'organisation', 'EwsBlockedByPolicy'],
    [new AuthFailedError('invalid-secret', 'AADSTS7000222: expired', { code: 'AADSTS7000222' }), 'organisation', 'ClientSecretExpired'],
    [new EwsError('Transient', 'busy', { code: 'ErrorInternalServerTransientError' }), 'transient', 'ErrorInternalServerTransientError'],
    [Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }), 'transient', 'ECONNREFUSED'],
    [new TypeError('x is undefined'), 'permanent', 'InternalError'],
    [new EwsError('InvalidSettings', 'ewsUrl host "10.0.0.5" is not allowed', { code: 'EndpointNotAllowed' }), 'organisation', 'EndpointNotAllowed'],
    [new EwsError('Permanent', 'EWS answer larger than 67108864 bytes once decompressed', { code: 'ResponseTooLarge' }), 'permanent', 'ResponseTooLarge'],
  ])('%s -> %s %s', (err, kind, code) => {
    const c = classifyRunError(err);
    expect(c.kind).toBe(kind);
    expect(c.code).toBe(code);
    expect(c.message.length).toBeGreaterThan(10);
  });
});

describe('recording outcomes', () => {
  it('throttling delays the job past the back-off and shows throttled without counting a failure', async () => {
    const orgId = await seedOrg(db.pool);
    const m = await seedMailbox(db.pool, orgId, { state: 'syncing' });
    const before = Date.now();
    const outcome = await handleSyncError({
      pool: db.pool,
      mailboxId: m.mailboxId,
      orgId,
      error: new ThrottledError(20_000, 'ErrorServerBusy'),
      attemptsMade: 0,
      maxAttempts: 6,
      intervalSeconds: 300,
    });
    expect(outcome.action).toBe('delay');
    expect(outcome.action === 'delay' && outcome.untilMs).toBeGreaterThanOrEqual(before + 20_000);
    const row = await mailboxRow(m.mailboxId);
    expect(row.state).toBe('throttled');
    expect(row.consecutive_failures).toBe(0);
    expect(row.throttled_until.getTime()).toBeGreaterThanOrEqual(before + 20_000);
  });

  it('a transient error is retrying (with its cause) while attempts remain, then error with the next run set', async () => {
    const orgId = await seedOrg(db.pool);
    const m = await seedMailbox(db.pool, orgId, { state: 'syncing' });
    const err = new EwsError('Transient', 'HTTP 500 <html>foreign body</html>', { code: '500' });
    const first = await handleSyncError({ pool: db.pool, mailboxId: m.mailboxId, orgId, error: err, attemptsMade: 0, maxAttempts: 3, intervalSeconds: 300 });
    expect(first.action).toBe('retry');
    const retrying = await mailboxRow(m.mailboxId);
    expect(retrying.state).toBe('retrying');
    expect(retrying.last_error_code).toBe('500');
    expect(retrying.last_error_message).not.toContain('foreign body');
    await db.pool.query(`UPDATE mailboxes SET state = 'syncing' WHERE id = $1`, [m.mailboxId]); // the next attempt runs
    const last = await handleSyncError({ pool: db.pool, mailboxId: m.mailboxId, orgId, error: err, attemptsMade: 2, maxAttempts: 3, intervalSeconds: 300 });
    expect(last.action).toBe('stop');
    const row = await mailboxRow(m.mailboxId);
    expect(row.last_error_code).toBe('500');
    expect(row.state).toBe('error');
    expect(row.next_run_at).not.toBeNull(); // the next interval tries again
  });

  it('a credential error stops the whole organisation with a message saying what to fix', async () => {
    const orgId = await seedOrg(db.pool);
    const m = await seedMailbox(db.pool, orgId);
    const sibling = await seedMailbox(db.pool, orgId, { state: 'healthy' });
    const outcome = await handleSyncError({
      pool: db.pool,
      mailboxId: m.mailboxId,
      orgId,
      error: new AuthFailedError('invalid-secret', 'AADSTS7000215: Invalid client secret provided.', { code: 'AADSTS7000215' }),
      attemptsMade: 0,
      maxAttempts: 6,
      intervalSeconds: 300,
    });
    expect(outcome.action).toBe('stop');
    for (const id of [m.mailboxId, sibling.mailboxId]) {
      const row = await mailboxRow(id);
      expect(row.state).toBe('error');
      expect(row.last_error_code).toBe('InvalidClientCredential');
      expect(row.last_error_message).toMatch(/new one/);
    }
    const s = await db.pool.query(`SELECT org_error_code, org_error_at FROM exchange_settings WHERE org_id = $1`, [orgId]);
    expect(s.rows[0].org_error_code).toBe('InvalidClientCredential');
    expect(s.rows[0].org_error_at).not.toBeNull();
  });

  it('a mailbox error stops only that mailbox', async () => {
    const orgId = await seedOrg(db.pool);
    const m = await seedMailbox(db.pool, orgId);
    const sibling = await seedMailbox(db.pool, orgId);
    await handleSyncError({
      pool: db.pool,
      mailboxId: m.mailboxId,
      orgId,
      error: new EwsError('MailboxNotFound', 'no such mailbox', { code: 'ErrorNonExistentMailbox' }),
      attemptsMade: 0,
      maxAttempts: 6,
      intervalSeconds: 300,
    });
    expect((await mailboxRow(m.mailboxId)).state).toBe('error');
    expect((await mailboxRow(sibling.mailboxId)).state).toBe('scheduled');
  });
});
