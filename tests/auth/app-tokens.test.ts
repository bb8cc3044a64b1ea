import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { AppTokenProvider, AuthFailedError, EwsError, type OrgCredentials } from '@exsync/ews-client';
import { makeCertificate } from './certificate';

let sim: EntraSim;
beforeAll(async () => {
  sim = await startEntraSim();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.setTokenLifetime(3900);
  sim.resetStats();
});

function creds(over: Partial<OrgCredentials> = {}): OrgCredentials {
  return {
    authorityHost: sim.url,
    tenantId: DEFAULT_SEED.tenantId,
    applicationId: DEFAULT_SEED.applicationId,
    clientSecret: DEFAULT_SEED.clientSecret,
    ...over,
  };
}

const insecure = { allowInsecureAuthority: true };

describe('app-only tokens through real msal-node and the Entra simulator', () => {
  it('gets an EWS token with a client secret and reuses it from the cache', async () => {
    const provider = new AppTokenProvider(insecure);
    const token = await provider.getToken(creds());
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(sim.jwksUrl)), {
      audience: 'https://outlook.office365.com',
    });
    expect(payload).toMatchObject({ tid: DEFAULT_SEED.tenantId, appid: DEFAULT_SEED.applicationId, appidacr: '1', roles: ['full_access_as_app'] });
    expect(await provider.getToken(creds())).toBe(token);
    expect(sim.stats.byGrantType.client_credentials).toBe(1);
  });

  it('gets an EWS token with a certificate (client assertion, appidacr 2)', async () => {
    const cert = makeCertificate();
    const appId = 'c0ffee00-0000-4000-8000-000000000c01';
    sim.addApp({
      tenantId: DEFAULT_SEED.tenantId,
      appId,
      secrets: [],
      certificates: [{ thumbprint: cert.sha1Thumbprint, thumbprintSha256: cert.sha256Thumbprint, publicKeyPem: cert.publicKeyPem }],
      roles: ['full_access_as_app'],
      consented: true,
    });
    const provider = new AppTokenProvider(insecure);
    for (const thumbprint of [cert.sha1Thumbprint, cert.sha256Thumbprint]) {
      const token = await new AppTokenProvider(insecure).getToken(
        creds({ applicationId: appId, clientSecret: undefined, clientCertificate: { privateKeyPem: cert.privateKeyPem, thumbprint } }),
      );
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(sim.jwksUrl)));
      expect(payload).toMatchObject({ appid: appId, appidacr: '2' });
    }
    const other = makeCertificate();
    const err = await provider
      .getToken(
        creds({ applicationId: appId, clientSecret: undefined, clientCertificate: { privateKeyPem: other.privateKeyPem, thumbprint: other.sha1Thumbprint } }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthFailedError);
    expect((err as AuthFailedError).reason).toBe('invalid-secret');
    expect((err as AuthFailedError).code).toBe('AADSTS700027');
  });

  it('shares one in-flight request between 20 concurrent cold callers', async () => {
    const provider = new AppTokenProvider(insecure);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken(creds())));
    expect(new Set(tokens).size).toBe(1);
    expect(sim.stats.byClientId[DEFAULT_SEED.applicationId]).toBe(1);
  });

  it('fetches a new token once the cached one is within the renewal window', async () => {
    // MSAL renews 300 s before expiry, so a 301 s token is fresh for about one second.
    sim.setTokenLifetime(301);
    const provider = new AppTokenProvider(insecure);
    const first = await provider.getToken(creds());
    await new Promise((r) => setTimeout(r, 2100));
    const second = await provider.getToken(creds());
    expect(second).not.toBe(first);
    expect(sim.stats.byGrantType.client_credentials).toBe(2);
  });

  it.each([
    ['wrong secret', () => creds({ clientSecret: 'not-the-secret' }), 'invalid-secret', 'AADSTS7000215'],
    ['unknown app', () => creds({ applicationId: '0badc0de-0000-4000-8000-000000000000' }), 'app-not-found', 'AADSTS700016'],
    ['unknown tenant', () => creds({ tenantId: '0badc0de-0000-4000-8000-00000000aaaa' }), 'tenant-not-found', 'AADSTS90002'],
  ] as const)('classifies %s', async (_n, make, reason, code) => {
    const err = await new AppTokenProvider(insecure).getToken(make()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthFailedError);
    expect(err).toMatchObject({ kind: 'AuthFailed', reason, code });
    expect((err as Error).message).toMatch(/^AADSTS\d+: /);
  });

  it('classifies missing admin consent', async () => {
    sim.setConsent(DEFAULT_SEED.applicationId, false);
    try {
      const err = await new AppTokenProvider(insecure).getToken(creds()).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'AuthFailed', reason: 'consent-missing', code: 'AADSTS65001' });
    } finally {
      sim.setConsent(DEFAULT_SEED.applicationId, true);
    }
  });

  it('classifies an unavailable token endpoint as transient', async () => {
    sim.failNextTokenRequests(10, 503);
    try {
      const err = await new AppTokenProvider(insecure).getToken(creds()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EwsError);
      expect((err as EwsError).kind).toBe('Transient');
      expect((err as EwsError).retryable).toBe(true);
    } finally {
      sim.failNextTokenRequests(0);
    }
  });

  it('after a 503 with Retry-After, MSAL holds further requests back and both failures are transient', async () => {
    sim.failNextTokenRequests(1, 503, 30);
    const provider = new AppTokenProvider(insecure);
    const first = await provider.getToken(creds()).catch((e: unknown) => e);
    const second = await provider.getToken(creds()).catch((e: unknown) => e);
    expect(first).toMatchObject({ kind: 'Transient', code: 'AADSTS90033', httpStatus: 503 });
    expect(second).toMatchObject({ kind: 'Transient', code: 'AADSTS90033' });
    expect(sim.stats.total).toBe(1);
  });

  it('classifies an unreachable authority as transient', async () => {
    const closed = await startEntraSim();
    const url = closed.url;
    await closed.close();
    const err = await new AppTokenProvider(insecure).getToken(creds({ authorityHost: url })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'Transient' });
  });

  it('rejects a token issued for another tenant', async () => {
    sim.setTidOverride('99999999-9999-4999-8999-999999999999');
    try {
      const err = await new AppTokenProvider(insecure).getToken(creds()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthFailedError);
      expect(err).toMatchObject({ reason: 'token-rejected', code: 'tenant_mismatch' });
    } finally {
      sim.setTidOverride(undefined);
    }
  });

  it('refuses an http authority unless insecure authorities are allowed', async () => {
    const err = await new AppTokenProvider().getToken(creds()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EwsError);
    expect(err).toMatchObject({ kind: 'Permanent', code: 'insecure_authority' });
    expect((err as Error).message).toMatch(/EXSYNC_ALLOW_INSECURE_AUTHORITY/);
    expect(sim.stats.total).toBe(0);
  });
});

describe('credential changes an admin makes in Azure', () => {
  it('classifies an expired secret and a secret removed after a token was cached', async () => {
    const appId = 'c0ffee00-0000-4000-8000-000000000e01';
    sim.addApp({ tenantId: DEFAULT_SEED.tenantId, appId, secrets: ['old', 'new'], roles: ['full_access_as_app'], consented: true });
    sim.expireSecret(appId, 'old');
    const expired = await new AppTokenProvider(insecure).getToken(creds({ applicationId: appId, clientSecret: 'old' })).catch((e: unknown) => e);
    expect(expired).toMatchObject({ kind: 'AuthFailed', reason: 'invalid-secret', code: 'AADSTS7000222' });

    const provider = new AppTokenProvider(insecure);
    const token = await provider.getToken(creds({ applicationId: appId, clientSecret: 'new' }));
    sim.revokeSecret(appId, 'new');
    // a cached token stays usable until it expires, as with Entra ID
    expect(await provider.getToken(creds({ applicationId: appId, clientSecret: 'new' }))).toBe(token);
    const rotated = await provider.getToken(creds({ applicationId: appId, clientSecret: 'newer' })).catch((e: unknown) => e);
    expect(rotated).toMatchObject({ reason: 'invalid-secret', code: 'AADSTS7000215' });
  });

  it('rejects settings that cannot name a tenant or app before calling Entra ID', async () => {
    const err = await new AppTokenProvider(insecure).getToken(creds({ tenantId: 'contoso.example' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'InvalidSettings', code: 'invalid_configuration' });
    const both = await new AppTokenProvider(insecure)
      .getToken(creds({ clientCertificate: { privateKeyPem: '-----BEGIN PRIVATE KEY-----', thumbprint: 'ab'.repeat(20) } }))
      .catch((e: unknown) => e);
    expect(both).toMatchObject({ kind: 'InvalidSettings', code: 'invalid_configuration' });
    expect(sim.stats.total).toBe(0);
  });
});
