import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBoxError, loadCredentials } from '@exsync/db';
import { startHarness, type Harness } from '../support/api';
import { selfSignedBundle } from '../support/selfSignedCertificate';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
const SECRET = 'Sup3r~Secret.Value_f00d-4242';
const OAUTH_CODE = 'M.C507_BAY.2.U.oauth-code-that-must-not-leak';

let h: Harness;
let org: { id: string; token: string };
let certPem: string;
const bodies: string[] = [];

async function record(res: Promise<{ statusCode: number; body: string }>) {
  const r = await res;
  bodies.push(r.body);
  return r;
}

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg('Secretive');
  certPem = selfSignedBundle();
});
afterAll(async () => h?.close());

describe('the client secret', () => {
  it('is accepted, answered only as clientSecretSet, and never returned by any route', async () => {
    const put = await record(
      h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
        applicationId: APP_ID,
        tenantId: TENANT_ID,
        clientSecret: SECRET,
        authorityHost: 'login.microsoftonline.com',
      }),
    );
    expect(put.statusCode).toBe(200);
    const view = JSON.parse(put.body);
    expect(view).toMatchObject({
      applicationId: APP_ID,
      tenantId: TENANT_ID,
      clientSecretSet: true,
      clientCertificateSet: false,
      authMode: 'app-only',
      conflictPolicy: 'newest-wins',
      authorityHost: 'https://login.microsoftonline.com',
      ewsUrl: 'https://outlook.office365.com/EWS/Exchange.asmx',
    });
    expect(view).not.toHaveProperty('clientSecret');

    // A later PUT without the secret keeps it.
    const update = await record(
      h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, conflictPolicy: 'crm-wins' }),
    );
    expect(JSON.parse(update.body)).toMatchObject({ clientSecretSet: true, conflictPolicy: 'crm-wins' });

    await record(h.call('GET', `/v1/orgs/${org.id}/exchange`, org.token));
    await record(h.call('GET', `/v1/orgs/${org.id}/exchange`, h.platformToken));
    await record(h.call('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token));
    await record(h.call('GET', `/v1/orgs/${org.id}`, org.token));
    await record(h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: 'bad', tenantId: TENANT_ID, clientSecret: SECRET }));
    await record(h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: SECRET, extra: SECRET }));
    await record(h.call('GET', '/docs/json', null));
    expect(bodies.length).toBeGreaterThanOrEqual(9);
    for (const body of bodies) expect(body).not.toContain(SECRET);
  });

  it('is encrypted at rest with the key id, bound to the organisation', async () => {
    const row = (await h.pool.query('SELECT client_secret_enc, key_id FROM exchange_settings WHERE org_id = $1', [org.id])).rows[0];
    expect(row.key_id).toBe('test-k1');
    expect(Buffer.isBuffer(row.client_secret_enc)).toBe(true);
    expect(row.client_secret_enc.includes(Buffer.from(SECRET))).toBe(false);
    expect(row.client_secret_enc.toString('latin1')).not.toContain(SECRET);

    const creds = await loadCredentials(h.pool, h.app.deps.secretBox, org.id);
    expect(creds?.clientSecret).toBe(SECRET);

    // The same ciphertext copied to another organisation's row does not open there.
    const other = await h.createOrg('Thief');
    await h.call('PUT', `/v1/orgs/${other.id}/exchange`, other.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 'theirs' });
    await h.pool.query('UPDATE exchange_settings SET client_secret_enc = $2 WHERE org_id = $1', [other.id, row.client_secret_enc]);
    await expect(loadCredentials(h.pool, h.app.deps.secretBox, other.id)).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('stores a client certificate encrypted and answers only its thumbprint', async () => {
    const put = await record(
      h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientCertificate: certPem }),
    );
    expect(put.statusCode).toBe(200);
    const view = JSON.parse(put.body);
    // The certificate replaces the stored secret: the app proves who it is with one credential.
    expect(view).toMatchObject({ clientSecretSet: false, clientCertificateSet: true });
    expect(view.clientCertificateThumbprint).toMatch(/^[0-9a-f]{64}$/);
    expect(put.body).not.toContain('PRIVATE KEY');
    const row = (await h.pool.query('SELECT client_certificate_enc FROM exchange_settings WHERE org_id = $1', [org.id])).rows[0];
    expect(row.client_certificate_enc.toString('latin1')).not.toContain('PRIVATE KEY');
    const creds = await loadCredentials(h.pool, h.app.deps.secretBox, org.id);
    expect(creds?.clientCertificate?.thumbprintSha256).toBe(view.clientCertificateThumbprint);
    expect(creds?.clientCertificate?.privateKey).toContain('BEGIN PRIVATE KEY');
  });

  it('keeps one credential: a new secret replaces the certificate, and both at once answer 400', async () => {
    const both = await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: APP_ID,
      tenantId: TENANT_ID,
      clientSecret: 'x',
      clientCertificate: certPem,
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().field).toBe('clientCertificate');
    const secret = await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 'a new secret' });
    expect(secret.json()).toMatchObject({ clientSecretSet: true, clientCertificateSet: false, clientCertificateThumbprint: null });
    const kept = await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID });
    expect(kept.json()).toMatchObject({ clientSecretSet: true, clientCertificateSet: false });
    const creds = await loadCredentials(h.pool, h.app.deps.secretBox, org.id);
    expect(creds?.clientSecret).toBe('a new secret');
    expect(creds?.clientCertificate).toBeNull();
  });
});

describe('the admin-consent URL', () => {
  it('points at the authority with the app id, the public redirect URI and a stored single-use state', async () => {
    const res = await h.call('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token);
    expect(res.statusCode).toBe(200);
    const url = new URL(res.json().url);
    expect(`${url.origin}${url.pathname}`).toBe(`https://login.microsoftonline.com/${TENANT_ID}/adminconsent`);
    expect(url.searchParams.get('client_id')).toBe(APP_ID);
    expect(url.searchParams.get('redirect_uri')).toBe('https://exsync.example.test/oauth/admin-consent/callback');
    const state = url.searchParams.get('state')!;
    expect(state.length).toBeGreaterThanOrEqual(32);
    const row = (await h.pool.query(`SELECT org_id, purpose, extract(epoch FROM expires_at - created_at) AS ttl FROM oauth_states WHERE state = $1`, [state]))
      .rows[0];
    expect(row).toMatchObject({ org_id: org.id, purpose: 'admin-consent' });
    expect(Number(row.ttl)).toBe(600);
  });
});

describe('logs', () => {
  it('carry request ids and paths, but no secret, token, certificate or OAuth code', async () => {
    await h.call('GET', `/oauth/callback?code=${encodeURIComponent(OAUTH_CODE)}&state=abc`, null);
    await h.call('GET', `/oauth/admin-consent/callback?admin_consent=True&tenant=${TENANT_ID}&code=${encodeURIComponent(OAUTH_CODE)}`, null);
    // Anything that logs an object holding these fields gets them censored.
    h.app.log.info(
      { clientSecret: SECRET, code: OAUTH_CODE, headers: { authorization: `Bearer ${org.token}` }, body: { clientSecret: SECRET, token: org.token } },
      'redaction probe',
    );
    const text = h.logLines.join('\n');
    expect(h.logLines.some((l) => JSON.parse(l).msg === 'request completed' && JSON.parse(l).path === '/oauth/callback')).toBe(true);
    expect(h.logLines.some((l) => JSON.parse(l).msg === 'redaction probe' && JSON.parse(l).clientSecret === '[redacted]')).toBe(true);
    const completed = h.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
    expect(completed.length).toBeGreaterThanOrEqual(10);
    for (const line of completed) expect(typeof line.reqId).toBe('string');
    for (const needle of [SECRET, OAUTH_CODE, org.token, h.platformToken, 'PRIVATE KEY', 'state=abc']) {
      expect(text).not.toContain(needle);
    }
  });
});
