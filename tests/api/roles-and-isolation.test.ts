import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/api';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

let h: Harness;
let orgA: { id: string; token: string };
let orgB: { id: string; token: string };
let userB: { id: string };

beforeAll(async () => {
  h = await startHarness();
  orgA = await h.createOrg('Alpha');
  orgB = await h.createOrg('Beta');
  userB = await h.createUser(orgB.id, 'beta-user');
  const put = await h.call('PUT', `/v1/orgs/${orgB.id}/exchange`, orgB.token, {
    applicationId: APP_ID,
    tenantId: TENANT_ID,
    clientSecret: 'beta-secret-value',
  });
  expect(put.statusCode).toBe(200);
});
afterAll(async () => h?.close());

describe('bearer auth', () => {
  it('answers 401 without a token or with an unknown one', async () => {
    const none = await h.call('GET', `/v1/orgs/${orgA.id}`, null);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json()).toMatchObject({ error: 'Unauthorized' });
    expect((await h.call('GET', `/v1/orgs/${orgA.id}`, 'exs_not-a-real-token')).statusCode).toBe(401);
    expect((await h.call('GET', `/v1/orgs/${orgA.id}`, `${h.platformToken}x`)).statusCode).toBe(401);
  });

  it('stores org-admin tokens hashed, never in clear', async () => {
    const rows = await h.pool.query('SELECT token_hash FROM admin_tokens WHERE org_id = $1', [orgA.id]);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0].token_hash).toHaveLength(32);
    expect(rows.rows[0].token_hash.toString('utf8')).not.toContain(orgA.token);
  });
});

describe('platform role', () => {
  it('reaches every organisation and lists them', async () => {
    expect((await h.call('GET', `/v1/orgs/${orgA.id}`, h.platformToken)).json()).toMatchObject({ id: orgA.id, name: 'Alpha' });
    expect((await h.call('GET', `/v1/orgs/${orgB.id}/users/${userB.id}`, h.platformToken)).statusCode).toBe(200);
    const list = await h.call('GET', '/v1/orgs?limit=1000', h.platformToken);
    expect(list.statusCode).toBe(200);
    expect(list.json().orgs.map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining([orgA.id, orgB.id]));
  });

  it('gets 404 for an organisation that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await h.call('GET', `/v1/orgs/${missing}`, h.platformToken)).statusCode).toBe(404);
    expect((await h.call('POST', `/v1/orgs/${missing}/users`, h.platformToken, { crmUserId: 'x', email: 'x@example.com' })).statusCode).toBe(404);
    expect((await h.call('POST', `/v1/orgs/${missing}/admin-tokens`, h.platformToken)).statusCode).toBe(404);
  });
});

describe('org-admin role', () => {
  it('works inside its own organisation', async () => {
    expect((await h.call('GET', `/v1/orgs/${orgA.id}`, orgA.token)).statusCode).toBe(200);
    const created = await h.call('POST', `/v1/orgs/${orgA.id}/users`, orgA.token, { crmUserId: 'alpha-1', email: 'a1@example.com' });
    expect(created.statusCode).toBe(201);
    const list = await h.call('GET', `/v1/orgs/${orgA.id}/users`, orgA.token);
    expect(list.json().users.map((u: { crmUserId: string }) => u.crmUserId)).toEqual(['alpha-1']);
  });

  it('answers 403 with a message on platform-only routes', async () => {
    const bulk = await h.call('POST', `/v1/orgs/${orgA.id}/users/bulk`, orgA.token, {
      userIds: ['00000000-0000-4000-8000-000000000001'],
      settings: { syncCalendar: true },
    });
    expect(bulk.statusCode).toBe(403);
    expect(bulk.json().message).toMatch(/bulk enablement goes through support/);
    const newOrg = await h.call('POST', '/v1/orgs', orgA.token, { name: 'Sneaky' });
    expect(newOrg.statusCode).toBe(403);
    expect(newOrg.json().message).toMatch(/platform/);
    expect((await h.call('POST', `/v1/orgs/${orgA.id}/admin-tokens`, orgA.token)).statusCode).toBe(403);
    expect((await h.call('GET', '/v1/orgs', orgA.token)).statusCode).toBe(403);
  });

  it('answers 404 for every route of another organisation, as listed in the OpenAPI document', async () => {
    const doc = (await h.call('GET', '/docs/json', null)).json() as { paths: Record<string, Record<string, unknown>> };
    const orgPaths = Object.entries(doc.paths).filter(([path]) => path.includes('{orgId}'));
    expect(orgPaths.length).toBeGreaterThanOrEqual(10);
    let checked = 0;
    for (const [path, operations] of orgPaths) {
      const url = path
        .replace('{orgId}', orgB.id)
        .replace('{userId}', userB.id)
        .replace(/\{[A-Za-z]+\}/g, 'crm-item-1');
      for (const method of Object.keys(operations).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
        const res = await h.call(method.toUpperCase(), url, orgA.token, method === 'get' || method === 'delete' ? undefined : {});
        expect({ method, path, status: res.statusCode }).toEqual({ method, path, status: 404 });
        expect(res.body).not.toContain('beta-user');
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('cannot reach another organisation even with a valid body', async () => {
    const patch = await h.call('PATCH', `/v1/orgs/${orgB.id}/users/${userB.id}`, orgA.token, { syncCalendar: true });
    expect(patch.statusCode).toBe(404);
    const put = await h.call('PUT', `/v1/orgs/${orgB.id}/exchange`, orgA.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 'x' });
    expect(put.statusCode).toBe(404);
    // Nothing changed in org B.
    const b = await h.call('GET', `/v1/orgs/${orgB.id}/users/${userB.id}`, orgB.token);
    expect(b.json().settings.syncCalendar).toBe(false);
  });

  it('does not see a user of another organisation through its own organisation path', async () => {
    expect((await h.call('GET', `/v1/orgs/${orgA.id}/users/${userB.id}`, orgA.token)).statusCode).toBe(404);
    expect((await h.call('PATCH', `/v1/orgs/${orgA.id}/users/${userB.id}`, orgA.token, { syncCalendar: true })).statusCode).toBe(404);
  });
});
