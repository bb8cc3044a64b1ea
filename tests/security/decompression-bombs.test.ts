/**
 * Issue 13 point 1: an org admin points an endpoint at a server whose every answer is a
 * decompression bomb. For each encoding (gzip, deflate, br) on both legs (EWS, token): the
 * connection test answers with a failed step, the process stays up, and another organisation's
 * test still passes. The typed error (ResponseTooLarge) is checked on each leg directly too.
 * Caps are lowered (EXSYNC_MAX_RESPONSE_MB=2) so a 16 MiB bomb is enough.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointPolicyFromEnv } from '@exsync/config';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { AppTokenProvider, isEwsError, openMailbox } from '@exsync/ews-client';
import { startSecurityApi, type SecurityApi } from '../support/api';
import { startBombServer, type BombEncoding } from '../support/hostileServers';

const ENCODINGS: BombEncoding[] = ['gzip', 'deflate', 'br'];
const EWS_BOMB_BYTES = 16 * 1024 * 1024;
/** the token leg's cap is 1 MiB */
const TOKEN_BOMB_BYTES = 8 * 1024 * 1024;
const ALICE = DEFAULT_SEED.users[0].email;

let api: SecurityApi;
let entra: EntraSim;
let ews: EwsSim;
let healthy: { id: string; token: string };

interface Step {
  name: string;
  ok: boolean;
  message: string;
}

async function putSettings(org: { id: string; token: string }, authorityHost: string, ewsUrl: string) {
  const res = await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: DEFAULT_SEED.clientSecret,
    authorityHost,
    ewsUrl,
  });
  expect(res.status, res.text).toBe(200);
}

async function connectionTest(org: { id: string; token: string }): Promise<{ ok: boolean; steps: Step[] }> {
  const res = await api.http('POST', `/v1/orgs/${org.id}/exchange/test`, org.token, { mailbox: ALICE });
  expect(res.status, res.text).toBe(200);
  return res.json();
}

beforeAll(async () => {
  entra = await startEntraSim();
  ews = await startEwsSim({ jwksUrl: entra.jwksUrl });
  for (const u of DEFAULT_SEED.users) ews.store.createMailbox({ email: u.email, tenantId: DEFAULT_SEED.tenantId });
  api = await startSecurityApi({ EXSYNC_ALLOW_INSECURE_AUTHORITY: 'true', EXSYNC_ALLOWED_HOSTS: '127.0.0.1', EXSYNC_MAX_RESPONSE_MB: '2' });
  healthy = await api.createOrg();
  await putSettings(healthy, entra.url, ews.ewsUrl);
});

afterAll(async () => {
  await api?.close();
  await ews?.close();
  await entra?.close();
});

describe('decompression bombs through the API (connection test)', () => {
  for (const encoding of ENCODINGS) {
    it(`EWS leg, ${encoding}: the ews step fails, the process lives, another organisation is unaffected`, async () => {
      const bomb = await startBombServer(encoding, EWS_BOMB_BYTES, 'text/xml; charset=utf-8');
      try {
        const org = await api.createOrg();
        await putSettings(org, entra.url, `${bomb.url}/EWS/Exchange.asmx`);
        const result = await connectionTest(org);
        expect(result.ok).toBe(false);
        expect(result.steps.find((s) => s.name === 'token')?.ok).toBe(true);
        const step = result.steps.find((s) => s.name === 'ews');
        expect(step?.ok).toBe(false);
        expect(bomb.requests).toBeGreaterThan(0);
        expect((await api.http('GET', '/healthz')).status).toBe(200);
        const other = await connectionTest(healthy);
        expect(other.ok).toBe(true);
      } finally {
        await bomb.close();
      }
    });

    it(`token leg, ${encoding}: the token step fails, the process lives, another organisation is unaffected`, async () => {
      const bomb = await startBombServer(encoding, TOKEN_BOMB_BYTES, 'application/json');
      try {
        const org = await api.createOrg();
        await putSettings(org, bomb.url, ews.ewsUrl);
        const result = await connectionTest(org);
        expect(result.ok).toBe(false);
        expect(result.steps.find((s) => s.name === 'token')?.ok).toBe(false);
        expect(bomb.requests).toBeGreaterThan(0);
        expect((await api.http('GET', '/healthz')).status).toBe(200);
        expect((await connectionTest(healthy)).ok).toBe(true);
      } finally {
        await bomb.close();
      }
    });
  }
});

describe('decompression bombs: the typed error on each leg', () => {
  const policy = { ...endpointPolicyFromEnv({ EXSYNC_ALLOWED_HOSTS: '127.0.0.1', EXSYNC_ALLOW_INSECURE_AUTHORITY: 'true' }) };

  for (const encoding of ENCODINGS) {
    it(`EWS answers in ${encoding} past the decoded cap are refused as ResponseTooLarge`, async () => {
      const bomb = await startBombServer(encoding, EWS_BOMB_BYTES, 'text/xml; charset=utf-8');
      try {
        const mailbox = openMailbox({
          ewsUrl: `${bomb.url}/EWS/Exchange.asmx`,
          smtpAddress: ALICE,
          mode: 'app-only',
          getAccessToken: async () => 'header.payload.signature',
          timeoutMs: 20_000,
          endpointPolicy: policy,
          maxResponseBytes: 2 * 1024 * 1024,
        });
        const err = await mailbox.checkAccess().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isEwsError(err) && err.code).toBe('ResponseTooLarge');
      } finally {
        await bomb.close();
      }
    });

    it(`token answers in ${encoding} past the cap are refused as ResponseTooLarge`, async () => {
      const bomb = await startBombServer(encoding, TOKEN_BOMB_BYTES, 'application/json');
      try {
        const provider = new AppTokenProvider({ allowInsecureAuthority: true, endpointPolicy: policy });
        const err = await provider
          .getToken({ authorityHost: bomb.url, tenantId: DEFAULT_SEED.tenantId, applicationId: DEFAULT_SEED.applicationId, clientSecret: 'bomb-test-secret' })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isEwsError(err) && err.code).toBe('ResponseTooLarge');
        expect(isEwsError(err) && err.kind).toBe('Permanent');
      } finally {
        await bomb.close();
      }
    });
  }
});
