import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { AuthFailedError, EwsError, ThrottledError } from '../../packages/ews-client/src/errors';
import { openMailbox, type EwsMailbox } from '../../packages/ews-client/src/mailboxSession';
import { installProcessGuards } from '../../packages/ews-client/src/processGuards';
import { ALICE, BOB, CAROL, collectPages, startSimHarness, type SimHarness } from '../support/sims';

let h: SimHarness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  h = await startSimHarness();
  h.sim.store.seed(ALICE.email, { calendarItems: 20, recurringEvery: 0 });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h?.close();
});

afterEach(async () => {
  h.sim.faults.clear();
  h.sim.store.setTenantEws(h.tenantId, true);
  h.sim.store.setImpersonation(ALICE.email, true);
  h.entra.setRoles(DEFAULT_SEED.applicationId, ['full_access_as_app']);
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled).toEqual([]);
});

async function failure(p: Promise<unknown>): Promise<EwsError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EwsError);
  return e as EwsError;
}

function appOnlyFresh(email: string, timeoutMs = 10_000): EwsMailbox {
  // a provider of its own: role changes at the Entra simulator must not meet a cached token
  return openMailbox({ ewsUrl: h.sim.ewsUrl, smtpAddress: email, mode: 'app-only', getAccessToken: h.appTokenGetter(h.creds), timeoutMs });
}

describe('every error class, produced by the simulators over real HTTP', () => {
  it('HTTP 500 ErrorServerBusy -> Throttled with BackOffMilliseconds', async () => {
    h.sim.faults.set({ serverBusyRate: 1, backOffMs: 5000 }, ALICE.email);
    const e = await failure(h.appOnly(ALICE.email).checkAccess());
    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as ThrottledError).backoffMs).toBe(5000);
    expect(e.code).toBe('ErrorServerBusy');
  });

  it('HTTP 503 Retry-After -> Throttled', async () => {
    h.sim.faults.set({ http503Rate: 1, retryAfterSeconds: 30 }, ALICE.email);
    const e = await failure(collectPages(h.appOnly(ALICE.email), 'calendar'));
    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as ThrottledError).backoffMs).toBe(30_000);
  });

  it('per-item ErrorServerBusy in HTTP 200 -> per-item Throttled results', async () => {
    const ids = h.sim.store
      .readFolder(ALICE.email, 'calendar')
      .slice(0, 3)
      .map((i) => i.id);
    h.sim.faults.set({ itemServerBusyRate: 1 }, ALICE.email);
    const results = await h.appOnly(ALICE.email).getItems('appointment', ids);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(ThrottledError);
        // the simulator sends no MessageXml here, so the default back-off applies (the
        // BackOffMilliseconds path is covered with Exchange Online's own answer in transport-faults)
        expect((r.error as ThrottledError).backoffMs).toBeGreaterThan(0);
        expect(r.error.code).toBe('ErrorServerBusy');
      }
    }
  });

  it('a throttled batch fails all its items and the remaining batches are not sent', async () => {
    const ids = h.sim.store
      .readFolder(ALICE.email, 'calendar')
      .slice(0, 5)
      .map((i) => i.id);
    h.sim.faults.set({ serverBusyRate: 1, backOffMs: 9000 }, ALICE.email);
    const before = h.sim.requestLog.list(ALICE.email).length;
    const results = await h.appOnly(ALICE.email, { getItemsBatchSize: 2 }).getItems('appointment', ids);
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect((r.error as ThrottledError).backoffMs).toBe(9000);
    }
    // one request: sending the other two batches would only prolong the back-off
    expect(h.sim.requestLog.list(ALICE.email).length - before).toBe(1);
  });

  it('a hung server times out as Transient', async () => {
    h.sim.faults.set({ hangRate: 1 }, ALICE.email);
    const e = await failure(appOnlyFresh(ALICE.email, 500).checkAccess());
    expect(e.kind).toBe('Transient');
    expect(e.code).toBe('Timeout');
  });

  it('HTML 500 and truncated XML are Transient and the process survives', async () => {
    h.sim.faults.set({ malformedRate: 1 }, ALICE.email);
    const uninstall = installProcessGuards({ error: () => undefined });
    try {
      const first = await failure(collectPages(h.appOnly(ALICE.email), 'calendar'));
      const second = await failure(collectPages(h.appOnly(ALICE.email), 'calendar'));
      const kinds = [first, second].map((e) => [e.kind, e.httpStatus]);
      expect(kinds).toContainEqual(['Transient', 500]);
      expect(kinds).toContainEqual(['Transient', 200]);
    } finally {
      uninstall();
    }
    // still alive and still serving: the next call works
    h.sim.faults.clear();
    expect((await h.appOnly(ALICE.email).checkAccess()).ok).toBe(true);
  });

  it('a reset connection is Transient', async () => {
    h.sim.faults.set({ resetRate: 1 }, ALICE.email);
    const e = await failure(h.appOnly(ALICE.email).checkAccess());
    expect(e.kind).toBe('Transient');
  });

  it('ErrorImpersonateUserDenied -> ImpersonationDenied', async () => {
    h.sim.store.setImpersonation(ALICE.email, false);
    const e = await failure(h.appOnly(ALICE.email).checkAccess());
    expect(e.kind).toBe('ImpersonationDenied');
    expect(e.code).toBe('ErrorImpersonateUserDenied');
  });

  it('ErrorNonExistentMailbox -> MailboxNotFound', async () => {
    const e = await failure(h.appOnly('nobody@contoso.example').checkAccess());
    expect(e.kind).toBe('MailboxNotFound');
    expect(e.code).toBe('ErrorNonExistentMailbox');
  });

  it('an empty 403 (EWS off for the tenant) -> EwsDisabledForTenant', async () => {
    h.sim.store.setTenantEws(h.tenantId, false);
    const e = await failure(h.appOnly(ALICE.email).checkAccess());
    expect(e.kind).toBe('EwsDisabledForTenant');
    expect(e.httpStatus).toBe(403);
  });

  it('a token without roles (401 2000008) and with the wrong roles (403 2000008) -> AuthFailed role-missing', async () => {
    h.entra.setRoles(DEFAULT_SEED.applicationId, []);
    const none = await failure(appOnlyFresh(ALICE.email).checkAccess());
    expect(none).toBeInstanceOf(AuthFailedError);
    expect((none as AuthFailedError).reason).toBe('role-missing');
    expect(none.httpStatus).toBe(401);
    h.entra.setRoles(DEFAULT_SEED.applicationId, ['Mail.Read']);
    const wrong = await failure(appOnlyFresh(ALICE.email).checkAccess());
    expect((wrong as AuthFailedError).reason).toBe('role-missing');
    expect(wrong.httpStatus).toBe(403);
  });

  it('a token rejected before its expiry is replaced once, past the caches, and the request succeeds', async () => {
    const good = await h.appTokenGetter()();
    const [head, body] = good.split('.');
    const stale = `${head}.${body}.${Buffer.from('signed with a retired key').toString('base64url')}`;
    const asked: (boolean | undefined)[] = [];
    const mb = openMailbox({
      ewsUrl: h.sim.ewsUrl,
      smtpAddress: ALICE.email,
      mode: 'app-only',
      getAccessToken: async (o) => {
        asked.push(o?.forceRefresh);
        return o?.forceRefresh ? good : stale;
      },
    });
    h.sim.requestLog.clear();
    await mb.checkAccess();
    expect(asked).toEqual([undefined, true]);
    expect(h.sim.requestLog.list().map((r) => r.status)).toEqual([401, 200]); // the 401 names no mailbox: auth comes first
  });

  it('a token with a bad signature -> AuthFailed token-rejected', async () => {
    const good = await h.appTokenGetter()();
    const [head, body] = good.split('.');
    const forged = `${head}.${body}.${Buffer.from('not the signature').toString('base64url')}`;
    const mb = openMailbox({ ewsUrl: h.sim.ewsUrl, smtpAddress: ALICE.email, mode: 'app-only', getAccessToken: async () => forged });
    const e = await failure(mb.checkAccess());
    expect(e).toBeInstanceOf(AuthFailedError);
    expect((e as AuthFailedError).reason).toBe('token-rejected');
    expect(e.httpStatus).toBe(401);
  });

  it('a wrong client secret at the Entra simulator -> AuthFailed invalid-secret (through MSAL)', async () => {
    const mb = openMailbox({
      ewsUrl: h.sim.ewsUrl,
      smtpAddress: ALICE.email,
      mode: 'app-only',
      getAccessToken: h.appTokenGetter({ ...h.creds, clientSecret: 'wrong-secret' }),
    });
    const e = await failure(mb.checkAccess());
    expect(e).toBeInstanceOf(AuthFailedError);
    expect((e as AuthFailedError).reason).toBe('invalid-secret');
  });

  it('invalid sync state, missing item, stale change key, malformed id: SyncStateInvalid, ItemNotFound, ChangeKeyConflict, Permanent', async () => {
    const mb = h.appOnly(BOB.email);
    expect((await failure(collectPages(mb, 'contacts', 'garbage'))).kind).toBe('SyncStateInvalid');
    const c = h.sim.store.createContact(BOB.email, { givenName: 'Temp', emails: [] });
    const stale = c.changeKey;
    h.sim.store.editItem(BOB.email, c.id, { jobTitle: 'Edited' });
    const [upd] = await mb.updateItems('contact', [
      { itemId: c.id, changeKey: stale, item: { givenName: 'Temp', jobTitle: 'CRM', emails: [], phones: {}, addresses: {} } },
    ]);
    expect(upd).toMatchObject({ ok: false, error: { kind: 'ChangeKeyConflict' } });
    h.sim.store.removeItem(BOB.email, c.id);
    const [missing, malformed] = await mb.getItems('contact', [c.id, 'not an id!']);
    expect(missing).toMatchObject({ ok: false, error: { kind: 'ItemNotFound', code: 'ErrorItemNotFound' } });
    expect(malformed).toMatchObject({ ok: false, error: { kind: 'Permanent', code: 'ErrorInvalidIdMalformed' } });
  });
});

describe('impersonation and anchor headers', () => {
  it("reports every exchange with our client-request-id and Exchange's request-id", async () => {
    const records: { clientRequestId: string; requestId?: string; status?: number; error?: EwsError }[] = [];
    const mb = h.appOnly(CAROL.email, { onExchange: (r) => records.push(r) });
    await mb.checkAccess();
    h.sim.store.setImpersonation(CAROL.email, false);
    await mb.checkAccess().catch(() => undefined);
    h.sim.store.setImpersonation(CAROL.email, true);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ status: 200 });
    expect(records[0].clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(records[0].requestId).toBeTruthy();
    expect(records[1]).toMatchObject({ status: 500, error: expect.objectContaining({ kind: 'ImpersonationDenied' }) });
  });

  it('app-only requests carry ExchangeImpersonation and X-AnchorMailbox; delegated ones carry neither', async () => {
    const before = h.sim.requestLog.list().length;
    const app = await h.appOnly(CAROL.email).checkAccess();
    expect(app.folders.map((f) => f.folder)).toEqual(['calendar', 'contacts']);
    const token = await h.delegatedToken(BOB.email);
    const delegated = openMailbox({ ewsUrl: h.sim.ewsUrl, smtpAddress: BOB.email, mode: 'delegated', getAccessToken: async () => token });
    const d = await delegated.checkAccess();
    expect(d.ok).toBe(true);
    const entries = h.sim.requestLog.list().slice(before);
    const appEntry = entries.find((e) => e.mailbox === CAROL.email);
    const delegatedEntry = entries.find((e) => e.mailbox === BOB.email);
    expect(appEntry).toMatchObject({ impersonation: true, anchorMailbox: CAROL.email, status: 200 });
    expect(delegatedEntry).toMatchObject({ impersonation: false, anchorMailbox: undefined, status: 200 });
  });
});
