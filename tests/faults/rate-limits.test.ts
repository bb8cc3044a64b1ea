/**
 * Rate limits (issue 13 point 5), over real HTTP with the limits this file sets: floods of
 * unauthenticated sign-in starts, consent-URL requests and wrong bearer tokens are answered 429
 * with Retry-After once past their limit, and the OAuth states they create stay bounded per link
 * and per organisation. The figures: requests answered 429 and rows created.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startSecurityApi, type HttpAnswer, type SecurityApi } from '../support/api';
import { LONG, measure } from './collector';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
const FLOOD = LONG ? 2000 : 300;
const LIMITS = {
  EXSYNC_RATE_LIMIT_WINDOW_SECONDS: '60',
  EXSYNC_RATE_LIMIT_PER_IP: '250',
  EXSYNC_RATE_LIMIT_PER_TOKEN: '100',
  EXSYNC_RATE_LIMIT_SIGNIN_PER_IP: '40',
  EXSYNC_OAUTH_STATES_PER_LINK: '5',
  EXSYNC_OAUTH_STATES_PER_ORG: '20',
};

const apis: SecurityApi[] = [];
/** A fresh API (its own Redis prefix, so counters start at zero) with this file's limits. */
async function freshApi(): Promise<SecurityApi> {
  const api = await startSecurityApi(LIMITS);
  apis.push(api);
  return api;
}

afterAll(async () => {
  for (const api of apis) await api.close();
});

/** Fires `n` requests, 20 at a time; returns the answers. */
async function flood(n: number, one: () => Promise<HttpAnswer>): Promise<HttpAnswer[]> {
  const out: HttpAnswer[] = [];
  for (let i = 0; i < n; i += 20) out.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, one))));
  return out;
}

/** The per-token counter's key part: the token's SHA-256, base64url, first 32 characters (rateLimits.ts). */
function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 32);
}

function limited(answers: HttpAnswer[]): HttpAnswer[] {
  const hit = answers.filter((a) => a.status === 429);
  for (const a of hit) {
    expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(a.json()).toMatchObject({ error: 'Too Many Requests' });
  }
  return hit;
}

async function statesOf(api: SecurityApi, orgId: string): Promise<number> {
  return (await api.pool.query('SELECT count(*)::int AS n FROM oauth_states WHERE org_id = $1', [orgId])).rows[0].n;
}

async function orgWithSettingsAndUser(api: SecurityApi) {
  const org = await api.createOrg();
  const put = await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
    applicationId: APP_ID,
    tenantId: TENANT_ID,
    clientSecret: 'rate-limit-secret',
  });
  expect(put.status).toBe(200);
  const user = await api.http('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'flood', email: 'flood@contoso.example' });
  return { org, userId: user.json().id as string };
}

describe('rate limits', () => {
  it('sign-in link flood: 429 past the sign-in limit, states bounded per link', async () => {
    await measure('rate limits: GET /oauth/start flood', async (setFigure) => {
      const api = await freshApi();
      const { org, userId } = await orgWithSettingsAndUser(api);
      const link = new URL((await api.http('POST', `/v1/orgs/${org.id}/users/${userId}/microsoft-login`, org.token)).json().url);
      const answers = await flood(FLOOD, () => api.http('GET', link.pathname + link.search));
      const hit = limited(answers);
      const rows = await statesOf(api, org.id);
      setFigure(`${FLOOD} requests: ${hit.length} answered 429, ${answers.filter((a) => a.status === 302).length} redirected, ${rows} oauth_states rows kept`);
      expect(answers.filter((a) => a.status === 302).length).toBeLessThanOrEqual(40);
      expect(hit.length).toBe(FLOOD - 40);
      expect(rows).toBeLessThanOrEqual(5);
    });
  });

  it('consent-URL flood with an org-admin token: 429 past the per-token limit, states bounded per organisation', async () => {
    await measure('rate limits: consent-URL flood (one token)', async (setFigure) => {
      const api = await freshApi();
      const { org } = await orgWithSettingsAndUser(api);
      const answers = await flood(Math.min(FLOOD, 240), () => api.http('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token));
      const hit = limited(answers);
      const rows = await statesOf(api, org.id);
      setFigure(`${answers.length} requests: ${hit.length} answered 429, ${rows} oauth_states rows kept`);
      expect(hit.length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(100);
      expect(rows).toBeLessThanOrEqual(20);
    });
  });

  it('wrong bearer tokens: 429 per client address past its limit', async () => {
    await measure('rate limits: wrong bearer tokens', async (setFigure) => {
      const api = await freshApi();
      const answers = await flood(FLOOD, () => api.http('GET', '/v1/orgs', `exs_${Math.random().toString(36).slice(2)}`));
      const hit = limited(answers);
      setFigure(`${FLOOD} wrong tokens: ${answers.filter((a) => a.status === 401).length} answered 401, ${hit.length} answered 429`);
      expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(250);
      expect(hit.length).toBe(FLOOD - 250);
      // probes are never limited
      expect((await api.http('GET', '/healthz')).status).toBe(200);
    });
  });

  it('counts under <prefix>:rate-limit:<limiter>:<client> keys', async () => {
    const api = await freshApi();
    const org = await api.createOrg();
    await api.http('GET', `/v1/orgs/${org.id}/exchange`, org.token);
    await api.http('GET', '/oauth/start?s=x');
    const prefix = `${api.config.redisPrefix}:rate-limit:`;
    const keys = (await api.app.deps.redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort();
    expect(keys).toEqual(['ip:127.0.0.1', 'sign-in:127.0.0.1', `token:${tokenKey(api.platformToken)}`, `token:${tokenKey(org.token)}`].sort());
    for (const key of keys) expect(await api.app.deps.redis.pttl(prefix + key)).toBeGreaterThan(0);
  });

  it('limits hold across API processes (shared Redis counters)', async () => {
    const first = await freshApi();
    const second = await startSecurityApi({ ...LIMITS, EXSYNC_REDIS_PREFIX: first.config.redisPrefix });
    apis.push(second);
    const one = await flood(30, () => first.http('GET', '/oauth/start?s=x'));
    const two = await flood(30, () => second.http('GET', '/oauth/start?s=x'));
    expect(one.filter((a) => a.status === 429)).toHaveLength(0);
    expect(two.filter((a) => a.status === 429)).toHaveLength(20);
  });
});
