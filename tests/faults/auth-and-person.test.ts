/**
 * Token expiry mid-sync (1-second tokens) and the errors that need a person: each stops retrying
 * (no EWS or token request while it stands), names its cause and fix in sync-status, and the mailbox
 * is healthy again once the setting is fixed.
 */
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';
import { measure, secretHits } from './collector';

let stack: Stack;
let user: StackUser;
let secret: string = DEFAULT_SEED.clientSecret;
const statusBodies: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  stack.entra.setTokenLifetime(1);
  user = await stack.addUser();
  await stack.waitForRunAfter(user, new Date(0), 60_000);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const status = async () => {
  const body = (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync-status`)).body;
  statusBodies.push(JSON.stringify(body));
  return body;
};
const putSettings = () =>
  stack.api('PUT', `/v1/orgs/${stack.orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: stack.tenantId,
    clientSecret: secret,
    authMode: 'app-only',
    ewsUrl: stack.ews.ewsUrl,
    authorityHost: stack.entra.url,
  });

describe('token expiry mid-sync', () => {
  it('refreshes 1-second tokens transparently', async () => {
    await measure('token expiry mid-sync (1-second tokens)', async (setFigure) => {
      const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
      for (let i = 0; i < 60; i++) {
        expect(
          (
            await stack.api('PUT', `${base}/contacts/tok-${i}`, {
              givenName: `Tok${i}`,
              surname: 'Contact',
              emails: [`tok${i}@fabrikam.example`],
              phones: {},
              addresses: {},
            })
          ).status,
        ).toBe(201);
      }
      const mb = encodeURIComponent(user.email);
      await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 600 }); // a run of several seconds: tokens expire during it
      const tokensBefore = stack.entra.stats.total;
      const requestsBefore = stack.ews.requestLog.list(user.email).length;
      const s = await stack.syncNow(user, { timeoutMs: 120_000 });
      await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 0 });
      const requests = stack.ews.requestLog.list(user.email).slice(requestsBefore);
      const rejected = requests.filter((r) => r.status === 401).length;
      const tokens = stack.entra.stats.total - tokensBefore;
      const inExchange = stack.ews.store.readFolder(user.email, 'contacts').length;
      setFigure(
        `${requests.length} EWS requests over the run, ${tokens} token requests, ${rejected} answered 401, state ${s.state}, ${inExchange}/60 contacts written`,
      );
      expect(s.state).toBe('healthy');
      expect(s.lastError).toBeNull();
      expect(tokens).toBeGreaterThan(1);
      expect(inExchange).toBe(60);
    });
  }, 180_000);
});

/**
 * Lets time pass for the scheduler: a next run the mailbox has becomes due now, and the scheduler
 * ticks a few times. A mailbox waiting for a person has no next run (nextRunAt null) at all.
 */
async function letSchedulerTry(): Promise<void> {
  await stack.pool.query(`UPDATE mailboxes SET next_run_at = now() WHERE id = $1 AND next_run_at IS NOT NULL`, [user.mailboxId]);
  for (let i = 0; i < 3; i++) await stack.workers[0].tick();
  await new Promise((r) => setTimeout(r, 2_000));
}

interface Cause {
  name: string;
  breakIt(): Promise<void>;
  fixIt(): Promise<void>;
}

const mb = () => encodeURIComponent(user.email);
const patchUser = async () =>
  expect((await stack.api('PATCH', `/v1/orgs/${stack.orgId}/users/${user.userId}`, { displayName: `fixed ${Date.now()}` })).status).toBe(200);
const causes: Cause[] = [
  {
    name: 'client secret revoked',
    breakIt: async () => stack.entra.revokeSecret(DEFAULT_SEED.applicationId, secret),
    fixIt: async () => {
      // The admin makes a new secret in Entra ID and saves it in exsync.
      secret = `rotated~${Date.now()}`;
      stack.entra.addApp({
        tenantId: stack.tenantId,
        appId: DEFAULT_SEED.applicationId,
        secrets: [secret],
        roles: ['full_access_as_app'],
        consented: true,
        servicePrincipalId: DEFAULT_SEED.servicePrincipalId,
      });
      expect((await putSettings()).status).toBe(200);
    },
  },
  {
    name: 'admin consent withdrawn',
    breakIt: async () => stack.entra.setConsent(DEFAULT_SEED.applicationId, false),
    fixIt: async () => {
      stack.entra.setConsent(DEFAULT_SEED.applicationId, true);
      expect((await putSettings()).status).toBe(200);
    },
  },
  {
    name: 'impersonation denied',
    breakIt: async () => void expect((await stack.sim('PUT', `/_sim/mailboxes/${mb()}/impersonation`, { allowed: false })).status).toBe(200),
    fixIt: async () => {
      expect((await stack.sim('PUT', `/_sim/mailboxes/${mb()}/impersonation`, { allowed: true })).status).toBe(200);
      await patchUser();
    },
  },
  {
    name: 'EWS disabled for the tenant',
    breakIt: async () => void expect((await stack.sim('PUT', `/_sim/tenants/${stack.tenantId}/ews`, { enabled: false })).status).toBe(200),
    fixIt: async () => {
      expect((await stack.sim('PUT', `/_sim/tenants/${stack.tenantId}/ews`, { enabled: true })).status).toBe(200);
      expect((await putSettings()).status).toBe(200);
    },
  },
  {
    name: 'mailbox deleted',
    breakIt: async () => void expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb()}`)).status).toBe(204),
    fixIt: async () => {
      stack.ews.store.createMailbox({ email: user.email, tenantId: stack.tenantId, displayName: user.email });
      await patchUser();
    },
  },
];

describe('errors that need a person', () => {
  it.each(causes.map((c) => [c.name, c] as const))(
    '%s: names cause and fix, stops retrying, recovers after the fix',
    async (name, cause) => {
      await measure(`needs a person: ${name}`, async (setFigure) => {
        await cause.breakIt();
        const s = await stack.syncNow(user, { timeoutMs: 90_000 });
        statusBodies.push(JSON.stringify(s));
        expect(s.state).toBe('error');
        expect(s.lastError?.code).toBeTruthy();
        expect(String(s.lastError?.message ?? '').length).toBeGreaterThan(20);
        expect(s.lastError.message).not.toContain(secret);

        const ews = stack.ews.requestLog.list(user.email).length;
        const tokens = stack.entra.stats.total;
        await letSchedulerTry();
        const extraEws = stack.ews.requestLog.list(user.email).length - ews;
        const extraTokens = stack.entra.stats.total - tokens;
        expect((await status()).state).toBe('error');

        const fixedAt = await stack.dbNow();
        await cause.fixIt();
        await stack.waitForRunAfter(user, fixedAt, 90_000);
        const healthy = await waitFor(
          'healthy again after the fix',
          async () => {
            const cur = await status();
            return cur.state === 'healthy' ? cur : false;
          },
          60_000,
        );
        setFigure(
          `status ${s.lastError.code}: "${String(s.lastError.message).slice(0, 90)}"; ${extraEws} EWS + ${extraTokens} token requests while it stood; healthy after the fix`,
        );
        expect(extraEws).toBe(0);
        expect(extraTokens).toBe(0);
        expect(healthy.lastError).toBeNull();
      });
    },
    240_000,
  );
});

describe('secrets in sync-status error messages', () => {
  it('name no client secret or token', async () => {
    await measure('secrets (sync-status bodies and error messages)', async (setFigure) => {
      const settings = JSON.stringify((await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body);
      const texts = [...statusBodies, settings];
      const hits = secretHits(texts, [DEFAULT_SEED.clientSecret, secret, stack.platformToken]);
      setFigure(`${texts.length} status bodies scanned: ${hits.length} hits`);
      expect(statusBodies.length).toBeGreaterThan(5);
      expect(hits).toEqual([]);
    });
  });
});
