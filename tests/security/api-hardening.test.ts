/**
 * Issue 13 points 6, 9 and 10 over real HTTP, in production mode: admin-token list / revoke /
 * expiry; crmIds up to 200 characters and a contract error past the router's limit; /docs CSP and
 * framing; no-store on token and link answers; log redaction that keeps SQLSTATE but not Postgres'
 * row data; opaque per-organisation change cursors; an org id in upper case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecurityApi, type SecurityApi } from '../support/api';

let api: SecurityApi;
let orgA: { id: string; token: string; tokenId: string };
let orgB: { id: string; token: string; tokenId: string };

beforeAll(async () => {
  api = await startSecurityApi();
  orgA = await api.createOrg();
  orgB = await api.createOrg();
});

afterAll(async () => {
  await api?.close();
});

describe('admin tokens: list, revoke, expiry', () => {
  it("lists an organisation's tokens without the token, for the platform and for its own org admin only", async () => {
    const listed = await api.http('GET', `/v1/orgs/${orgA.id}/admin-tokens`, orgA.token);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect(listed.json().tokens).toEqual([{ id: orgA.tokenId, createdAt: expect.any(String), expiresAt: null, revokedAt: null, state: 'active' }]);
    expect(listed.text).not.toContain(orgA.token);
    expect((await api.http('GET', `/v1/orgs/${orgA.id}/admin-tokens`, api.platformToken)).json().tokens).toHaveLength(1);
    expect((await api.http('GET', `/v1/orgs/${orgA.id}/admin-tokens`, orgB.token)).status).toBe(404);
  });

  it("revokes a token (platform or the org's own admin); the revoked token is refused at once", async () => {
    const org = await api.createOrg();
    const second = (await api.http('POST', `/v1/orgs/${org.id}/admin-tokens`, api.platformToken)).json();
    expect((await api.http('DELETE', `/v1/orgs/${org.id}/admin-tokens/${second.id}`, orgB.token)).status).toBe(404);
    const revoke = await api.http('DELETE', `/v1/orgs/${org.id}/admin-tokens/${second.id}`, org.token);
    expect(revoke.status).toBe(204);
    expect((await api.http('GET', `/v1/orgs/${org.id}`, second.token)).status).toBe(401);
    expect((await api.http('GET', `/v1/orgs/${org.id}`, org.token)).status).toBe(200);
    const states = (await api.http('GET', `/v1/orgs/${org.id}/admin-tokens`, api.platformToken))
      .json()
      .tokens.map((t: { id: string; state: string }) => [t.id, t.state]);
    expect(states).toContainEqual([second.id, 'revoked']);
    expect((await api.http('DELETE', `/v1/orgs/${org.id}/admin-tokens/00000000-0000-4000-8000-000000000000`, api.platformToken)).status).toBe(404);
  });

  it('mints a token with an expiry; it is refused once expired; a past expiry answers 400', async () => {
    const org = await api.createOrg();
    const past = await api.http('POST', `/v1/orgs/${org.id}/admin-tokens`, api.platformToken, { expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.json().field).toBe('expiresAt');
    const soon = new Date(Date.now() + 3600_000).toISOString();
    const minted = await api.http('POST', `/v1/orgs/${org.id}/admin-tokens`, api.platformToken, { expiresAt: soon });
    expect(minted.status).toBe(201);
    expect(minted.headers.get('cache-control')).toBe('no-store');
    expect(minted.json().expiresAt).toBe(soon);
    expect((await api.http('GET', `/v1/orgs/${org.id}`, minted.json().token)).status).toBe(200);
    await api.pool.query(`UPDATE admin_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [minted.json().id]);
    expect((await api.http('GET', `/v1/orgs/${org.id}`, minted.json().token)).status).toBe(401);
    const listed = (await api.http('GET', `/v1/orgs/${org.id}/admin-tokens`, api.platformToken)).json().tokens;
    expect(listed.find((t: { id: string }) => t.id === minted.json().id).state).toBe('expired');
  });

  it('an org admin cannot mint tokens', async () => {
    expect((await api.http('POST', `/v1/orgs/${orgA.id}/admin-tokens`, orgA.token)).status).toBe(403);
  });
});

describe("crmIds up to the schema's 200 characters", () => {
  let userId: string;
  beforeAll(async () => {
    const res = await api.http('POST', `/v1/orgs/${orgA.id}/users`, orgA.token, { crmUserId: 'long-ids', email: 'long@example.com' });
    userId = res.json().id;
  });
  const appointment = { subject: 'Long id', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone: 'UTC', isAllDay: false };

  it.each([101, 150, 200])('%i characters work (ASCII and percent-encoded)', async (n) => {
    for (const id of ['a'.repeat(n), 'é'.repeat(n)]) {
      const path = `/v1/orgs/${orgA.id}/users/${userId}/appointments/${encodeURIComponent(id)}`;
      const put = await api.http('PUT', path, orgA.token, appointment);
      expect(put.status, put.text).toBe(201);
      const got = await api.http('GET', path, orgA.token);
      expect(got.json().crmId).toBe(id);
    }
  });

  it('201 characters answer 400 naming crmId; a huge one answers the contract body without echoing the URL', async () => {
    const over = await api.http('PUT', `/v1/orgs/${orgA.id}/users/${userId}/appointments/${'b'.repeat(201)}`, orgA.token, appointment);
    expect(over.status).toBe(400);
    expect(over.json().field).toBe('crmId');
    const huge = 'c'.repeat(5000);
    const res = await api.http('GET', `/v1/orgs/${orgA.id}/users/${userId}/appointments/${huge}`, orgA.token);
    expect(res.status).toBe(414);
    expect(Object.keys(res.json()).sort()).toEqual(['error', 'message']);
    expect(res.text).not.toContain('ccccc');
  });
});

describe('/docs and cache headers', () => {
  it('/docs has a CSP that forbids framing', async () => {
    for (const path of ['/docs', '/docs/static/index.html', '/docs/json']) {
      const res = await api.http('GET', path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("default-src 'self'");
    }
  });
});

describe('log redaction', () => {
  it("keeps Postgres' SQLSTATE, censors its row data (where, detail) and OAuth codes", async () => {
    const err = (await api.pool
      .query(`DO $$ BEGIN RAISE EXCEPTION 'probe failure' USING DETAIL = 'Key (crm_id)=(private-item-data) exists', ERRCODE = '23505'; END $$`)
      .then(
        () => ({}),
        (e: unknown) => e,
      )) as Record<string, unknown>;
    expect(err).toMatchObject({ code: '23505' });
    expect(String(err.where)).toContain('PL/pgSQL');
    api.app.log.error({ err, code: 'M.C507_BAY.2.U.an-oauth-code-value' }, 'redaction probe');
    const line = JSON.parse(api.logLines.find((l) => l.includes('redaction probe')) ?? '{}');
    expect(line.err.code).toBe('23505');
    expect(line.code).toBe('[redacted]');
    expect(line.err.where).toBe('[redacted]');
    expect(JSON.stringify(line)).not.toContain('private-item-data');
  });
});

describe('change-feed cursors', () => {
  it('are opaque and per organisation; after= with them (and with legacy numeric cursors) still works', async () => {
    const ua = (await api.http('POST', `/v1/orgs/${orgA.id}/users`, orgA.token, { crmUserId: 'feed-a', email: 'feed-a@example.com' })).json().id;
    const ub = (await api.http('POST', `/v1/orgs/${orgB.id}/users`, orgB.token, { crmUserId: 'feed-b', email: 'feed-b@example.com' })).json().id;
    const insert = (org: string, user: string, crmId: string) =>
      api.pool.query(`INSERT INTO change_feed (org_id, user_id, kind, crm_id, op, item) VALUES ($1, $2, 'contact', $3, 'delete', NULL)`, [org, user, crmId]);
    await insert(orgA.id, ua, 'a-1');
    for (let i = 0; i < 25; i++) await insert(orgB.id, ub, `b-${i}`);
    await insert(orgA.id, ua, 'a-2');

    const first = await api.http('GET', `/v1/orgs/${orgA.id}/changes?limit=1`, orgA.token);
    expect(first.status).toBe(200);
    const c1 = first.json().changes[0].cursor as string;
    expect(c1).toMatch(/^c_[A-Za-z0-9_-]{22}$/);
    const second = (await api.http('GET', `/v1/orgs/${orgA.id}/changes?after=${c1}`, orgA.token)).json();
    expect(second.changes.map((c: { crmId: string }) => c.crmId)).toEqual(['a-2']);
    // nothing in two consecutive cursors tells how many changes other tenants made in between
    expect(second.changes[0].cursor).not.toMatch(/^\d+$/);

    const bCursor = (await api.http('GET', `/v1/orgs/${orgB.id}/changes?limit=1`, orgB.token)).json().next;
    const foreign = await api.http('GET', `/v1/orgs/${orgA.id}/changes?after=${bCursor}`, orgA.token);
    expect(foreign.status).toBe(400);
    expect(foreign.json().field).toBe('after');

    const legacy = (await api.pool.query(`SELECT cursor FROM change_feed WHERE org_id = $1 AND crm_id = 'a-1'`, [orgA.id])).rows[0].cursor;
    const resumed = (await api.http('GET', `/v1/orgs/${orgA.id}/changes?after=${legacy}`, orgA.token)).json();
    expect(resumed.changes.map((c: { crmId: string }) => c.crmId)).toEqual(['a-2']);
  });
});

describe('ids are case-insensitive', () => {
  it("an org admin's own org id in upper case is their org; another org in upper case is still 404", async () => {
    const own = await api.http('GET', `/v1/orgs/${orgA.id.toUpperCase()}`, orgA.token);
    expect(own.status).toBe(200);
    expect(own.json().id).toBe(orgA.id);
    expect((await api.http('GET', `/v1/orgs/${orgB.id.toUpperCase()}`, orgA.token)).status).toBe(404);
  });
});
