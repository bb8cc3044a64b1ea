/**
 * Issue 16, point 1: the engine and the worker know no transport. A transport that is not EWS (an
 * in-memory MailboxPort raising canonical's SyncError) is handed to startWorker and runs through
 * the API, Redis, the worker and the engine; its failures become the same status and admin
 * messages as EWS's, from their data alone.
 */
import { SyncError, type MailboxOpener, type MailboxPort } from '@exsync/canonical';
import { startWorker } from '@exsync/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMailbox } from '../support/memoryMailbox';
import { startStack, testLogger, waitFor, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let user: StackUser;
const mailboxes = new Map<string, MemoryMailbox>();
let failWith: SyncError | undefined;

/** The memory mailbox of an address, failing every call with `failWith` while it is set. */
const openMemoryMailbox: MailboxOpener = ({ smtpAddress }) => {
  let mb = mailboxes.get(smtpAddress);
  if (!mb) mailboxes.set(smtpAddress, (mb = new MemoryMailbox()));
  const target = mb;
  return new Proxy(target, {
    get(obj, prop: keyof MailboxPort) {
      const v = (obj as MailboxPort)[prop];
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (failWith) throw failWith;
        return (v as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
};

beforeAll(async () => {
  stack = await startStack({ worker: false });
  stack.workers.push(
    await startWorker({
      config: stack.config,
      pool: stack.pool,
      logger: testLogger,
      schedulerTickMs: 1_000,
      shutdownTimeoutMs: 10_000,
      openMailbox: openMemoryMailbox,
    }),
  );
  user = await stack.addUser({ syncContacts: false });
  await stack.waitForRunAfter(user, new Date(0));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('a transport other than EWS', () => {
  it('syncs through the unchanged engine and worker', async () => {
    const put = await stack.api('PUT', `/v1/orgs/${stack.orgId}/users/${user.userId}/appointments/neutral-1`, {
      subject: 'over another transport',
      start: '2026-12-01T09:00:00Z',
      end: '2026-12-01T10:00:00Z',
      timeZone: 'UTC',
      isAllDay: false,
    });
    expect(put.status).toBe(201);
    const s = await stack.syncNow(user);
    expect(s.state).toBe('healthy');
    expect(
      mailboxes
        .get(user.email)!
        .list('appointment')
        .map((i) => (i.item as { subject: string }).subject),
    ).toContain('over another transport');
  });

  it('its failures are classified from SyncError data: an organisation-wide cause stops the organisation with the catalogue message', async () => {
    failWith = new SyncError('AuthFailed', 'remote words that must not show', { reason: 'consent-missing', code: 'AADSTS65001' });
    try {
      const s = await stack.syncNow(user);
      expect(s.state).toBe('error');
      expect(s.lastError.code).toBe('AdminConsentMissing');
      expect(s.lastError.message).not.toContain('remote words');
      expect(s.nextRunAt).toBeNull();
      const settings = (await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body;
      expect(settings.status.code).toBe('AdminConsentMissing');
    } finally {
      failWith = undefined;
    }
    // fixed in the settings: the mailbox comes back by itself
    const fixedAt = await stack.dbNow();
    await stack.pool.query(`UPDATE exchange_settings SET updated_at = now() WHERE org_id = $1`, [stack.orgId]);
    await waitFor(
      'healthy again',
      async () => {
        const s = (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync-status`)).body;
        return s.state === 'healthy' && Date.parse(s.lastSuccessAt) > fixedAt.getTime() ? s : false;
      },
      30_000,
    );
  });
});
