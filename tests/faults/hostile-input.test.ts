/**
 * Hostile input and tenant isolation through the real API (app.inject) on a database of its own, so
 * the table hashes before and after see only this file's writes. Also scans every response body and
 * log line of this stack for the secrets it holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/api';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/stack';
import { LONG, measure, runSeed, seededRandom } from './collector';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
const SECRET_A = `alpha-client-secret-${Math.random().toString(36).slice(2)}`;
const SECRET_B = `beta-client-secret-${Math.random().toString(36).slice(2)}`;
const TABLES = [
  'organisations',
  'exchange_settings',
  'admin_tokens',
  'users',
  'mailboxes',
  'crm_items',
  'item_links',
  'sync_states',
  'change_feed',
  'sync_conflicts',
  'oauth_states',
];

let db: IsolatedDatabase;
let h: Harness;
let orgA: { id: string; token: string };
let orgB: { id: string; token: string };
let userA: { id: string; mailboxId: string };
let userB: { id: string; mailboxId: string };
const bodies: string[] = [];

async function call(method: string, url: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await h.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body !== undefined ? { payload: body as string } : {}),
  });
  bodies.push(res.body);
  return res;
}

async function tableHashes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) {
    // Table names come from the constant list above, never from input.
    const r = await db.pool.query(`SELECT count(*)::int AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM ${t} x`);
    out[t] = `${r.rows[0].n}:${r.rows[0].h}`;
  }
  return out;
}

beforeAll(async () => {
  db = await createIsolatedDatabase();
  process.env.DATABASE_URL = db.url; // this file's worker process only: the harness reads it
  h = await startHarness();
  orgA = await h.createOrg('Alpha');
  orgB = await h.createOrg('Beta');
  userA = await h.createUser(orgA.id, 'alpha-user');
  userB = await h.createUser(orgB.id, 'beta-user');
  for (const [org, secret] of [
    [orgA, SECRET_A],
    [orgB, SECRET_B],
  ] as const) {
    const put = await call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: secret });
    expect(put.statusCode).toBe(200);
  }
  for (const [org, user] of [
    [orgA, userA],
    [orgB, userB],
  ] as const) {
    const c = await call('PUT', `/v1/orgs/${org.id}/users/${user.id}/contacts/c-1`, org.token, {
      givenName: 'Ann',
      surname: 'Lee',
      emails: ['ann@example.com'],
      phones: {},
      addresses: {},
    });
    expect(c.statusCode).toBe(201);
    const a = await call('PUT', `/v1/orgs/${org.id}/users/${user.id}/appointments/a-1`, org.token, {
      subject: 'Plan',
      start: '2026-12-01T09:00:00Z',
      end: '2026-12-01T10:00:00Z',
      timeZone: 'UTC',
      isAllDay: false,
    });
    expect(a.statusCode).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await h?.close();
  await db?.drop();
});

const HOSTILE_STRINGS = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '" OR ""="',
  '../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '\u0000',
  '\uFEFF',
  '\uD800',
  '\u202Egnp.exe',
  'A\u0301\u0301\u0301',
  '𝕏'.repeat(300),
  'x'.repeat(70_000),
  '',
  ' ',
  '\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{7*7}}',
  'null',
  'true',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  // issue 12: NUL and lone surrogates inside text, leap seconds, hour-only offsets, zones
  'a\u0000b',
  'x\uDC00y',
  'end\uD83D',
  '\uDFFF\uD800',
  '2026-12-31T23:59:60Z',
  '2026-12-12T10:00:00+01',
  '2026-12-12T10:00:00-05',
  'EST5EDT',
  'Antarctica/Troll',
  'Mars/Olympus',
];
/** Every zone name the runtime lists (issue 12): each must map to a Windows zone or be refused naming timeZone. */
const ZONES = Intl.supportedValuesOf('timeZone');
const BAD_TEXT = ['x\u0000y', '\u0000', '\uD800', 'a\uDC00b', 'end\uD83D'];
const BAD_INSTANTS = [
  '2026-12-31T23:59:60Z',
  '2026-06-30T23:59:60+02:00',
  '2026-12-12T10:00:00+01',
  '2026-12-12T10:00:00-05',
  '2026-02-30T10:00:00Z',
  '2026-12-12T10:00:00',
];
const HOSTILE_VALUES: unknown[] = [null, true, 0, -1, Infinity, 2 ** 63, [], {}, [1, 2], { $gt: '' }, { __proto__: { admin: true } }, ...HOSTILE_STRINGS];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)];
}

/** One request that must be refused: every body carries at least one invalid or unknown field. */
function hostileRequest(rnd: () => number): {
  method: string;
  url: string;
  token: 'platform' | 'a' | 'none' | 'garbage';
  body?: string;
  headers?: Record<string, string>;
  expectField?: string;
} {
  // Byte-wise percent-encoding: lone surrogates go out as U+FFFD instead of throwing.
  const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const enc = (s: string) => (rnd() < 0.5 ? pct(s) : s.replace(/[?#\s%]/g, (c) => pct(c)).replace(/[^\x21-\x7e]/g, (c) => pct(c)));
  const badId = () => enc(String(pick(rnd, HOSTILE_STRINGS)).slice(0, 200));
  const token = pick(rnd, ['platform', 'a', 'a', 'none', 'garbage'] as const);
  const base = `/v1/orgs/${orgA.id}/users/${userA.id}`;
  const value = () => pick(rnd, HOSTILE_VALUES);
  const junkObject = () => {
    const o: Record<string, unknown> = {};
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++)
      o[pick(rnd, ['name', 'crmUserId', 'email', 'syncCalendar', 'subject', 'start', 'applicationId', 'clientSecret', 'userIds', 'settings', 'emails'])] =
        value();
    o[pick(rnd, ['isAdmin', 'orgId', 'plan', '__proto__x', "'; DROP TABLE x"])] = value(); // always one unknown field
    return o;
  };
  const body = () => {
    const r = rnd();
    if (r < 0.15) return '{"name": "x", ' + '"a":'.repeat(2) + '}'; // broken JSON
    if (r < 0.2) return JSON.stringify({ name: 'x'.repeat(2_000_000), bogus: 1 }); // huge
    if (r < 0.25) return JSON.stringify(value());
    return JSON.stringify(junkObject());
  };
  const kind = Math.floor(rnd() * 15);
  switch (kind) {
    case 12: {
      // A valid appointment but for one text field holding NUL or a lone surrogate: 400 naming it.
      const field = pick(rnd, ['subject', 'body', 'location'] as const);
      const item = {
        subject: 'Plan',
        start: '2026-12-01T09:00:00Z',
        end: '2026-12-01T10:00:00Z',
        timeZone: pick(rnd, ZONES),
        isAllDay: false,
        [field]: pick(rnd, BAD_TEXT),
      };
      return {
        method: 'PUT',
        url: `${base}/appointments/a-1`,
        token,
        body: JSON.stringify(item),
        headers: { 'content-type': 'application/json' },
        expectField: field,
      };
    }
    case 13: {
      // A valid appointment but for a leap second or an offset the engine cannot read.
      const field = pick(rnd, ['start', 'end'] as const);
      const item = {
        subject: 'Plan',
        start: '2026-12-01T09:00:00Z',
        end: '2027-12-01T10:00:00Z',
        timeZone: pick(rnd, ZONES),
        isAllDay: false,
        [field]: pick(rnd, BAD_INSTANTS),
      };
      return {
        method: 'PUT',
        url: `${base}/appointments/a-1`,
        token,
        body: JSON.stringify(item),
        headers: { 'content-type': 'application/json' },
        expectField: field,
      };
    }
    case 14: {
      // NUL in a path parameter, a query string or the unauthenticated callback. (A lone surrogate
      // cannot be written in UTF-8: its CESU bytes %ED%A0%80 are tried too, and must not answer 5xx.)
      const surrogate = rnd() < 0.25;
      const bad = surrogate ? pick(rnd, ['%ED%A0%80', 'a%ED%B0%80b']) : pick(rnd, ['%00', 'a%00b', '%00%00']);
      const where = pick(rnd, [
        [`${base}/contacts/c${bad}`, 'crmId'],
        [`${base}/appointments?after=${bad}`, 'after'],
        [`/oauth/callback?state=${bad}`, 'state'],
        [`/oauth/callback?code=${bad}&state=s`, 'code'],
        [`/v1/orgs/${orgA.id}/users?search=${bad}`, 'search'],
      ] as const);
      return { method: 'GET', url: where[0], token, ...(surrogate ? {} : { expectField: where[1] }) };
    }
    case 0:
      return { method: 'GET', url: `/v1/orgs/${badId()}`, token };
    case 1:
      return { method: 'GET', url: `/v1/orgs/${orgA.id}/users/${badId()}`, token };
    case 2:
      return { method: 'PATCH', url: `${base}`, token, body: body(), headers: { 'content-type': 'application/json' } };
    case 3:
      return { method: 'PUT', url: `${base}/contacts/${badId()}`, token, body: body(), headers: { 'content-type': 'application/json' } };
    case 4:
      return {
        method: 'PUT',
        url: `${base}/appointments/c-1`,
        token,
        body: body(),
        headers: { 'content-type': pick(rnd, ['application/json', 'text/plain', 'application/xml', 'application/json; charset=utf-7']) },
      };
    case 5:
      return { method: 'POST', url: `/v1/orgs/${orgA.id}/users`, token, body: body(), headers: { 'content-type': 'application/json' } };
    case 6:
      return { method: 'PUT', url: `/v1/orgs/${orgA.id}/exchange`, token, body: body(), headers: { 'content-type': 'application/json' } };
    case 7:
      return { method: 'POST', url: '/v1/orgs', token, body: body(), headers: { 'content-type': 'application/json' } };
    case 8:
      return { method: 'POST', url: `/v1/orgs/${orgA.id}/users/bulk`, token, body: body(), headers: { 'content-type': 'application/json' } };
    case 9:
      return { method: 'GET', url: `/v1/orgs/${orgA.id}/users?limit=${badId()}&after=${badId()}`, token };
    case 10:
      return { method: 'DELETE', url: `${base}/contacts/${badId()}/..%2F..%2Fc-1`, token };
    default:
      return { method: 'GET', url: `/v1/orgs/${orgA.id}/changes?after=${badId()}&${badId()}=1`, token };
  }
}

describe('hostile input', () => {
  it('answers every generated hostile request without a 5xx and changes no stored row', async () => {
    await measure('hostile input (generated API requests)', async (setFigure) => {
      const seed = runSeed('hostile input');
      const rnd = seededRandom(seed);
      const count = LONG ? 5_000 : 1_000;
      const before = await tableHashes();
      const fiveHundreds: string[] = [];
      const misnamed: string[] = [];
      const statuses = new Map<number, number>();
      for (let i = 0; i < count; i++) {
        const r = hostileRequest(rnd);
        const token = r.token === 'platform' ? h.platformToken : r.token === 'a' ? orgA.token : r.token === 'garbage' ? "exs_' OR 1=1 --" : null;
        const res = await call(r.method, r.url, token, r.body, r.headers);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) fiveHundreds.push(`${r.method} ${r.url.slice(0, 120)} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
        // A refusal of text or an instant names the field (authentication comes first on /v1).
        const authenticated = token !== null && r.token !== 'garbage';
        if (r.expectField && res.statusCode !== 401 && (authenticated || r.url.startsWith('/oauth/'))) {
          const field = res.headers['content-type']?.toString().includes('json') ? res.json().field : undefined;
          if (res.statusCode !== 400 || field !== r.expectField)
            misnamed.push(
              `${r.method} ${r.url.slice(0, 120)} ${r.body?.slice(0, 120) ?? ''} -> ${res.statusCode} ${res.body.slice(0, 160)} (want 400 ${r.expectField})`,
            );
        }
      }
      const after = await tableHashes();
      const changed = TABLES.filter((t) => before[t] !== after[t]);
      const dist = [...statuses.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
      setFigure(
        `${count} requests (seed ${seed}), ${fiveHundreds.length} answered 5xx, ${changed.length} tables changed, ${misnamed.length} refusals not naming the field; statuses ${dist}`,
      );
      expect(fiveHundreds).toEqual([]);
      expect(misnamed).toEqual([]);
      expect(changed).toEqual([]);
    });
  }, 180_000);

  it('maps every IANA zone the runtime lists to a Windows zone, or refuses it naming timeZone', async () => {
    await measure('hostile input: every IANA zone', async (setFigure) => {
      const fiveHundreds: string[] = [];
      const refused: string[] = [];
      for (const timeZone of ZONES) {
        const res = await call(
          'PUT',
          `/v1/orgs/${orgA.id}/users/${userA.id}/appointments/zone-probe`,
          orgA.token,
          JSON.stringify({ subject: 'zone', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone, isAllDay: false }),
          { 'content-type': 'application/json' },
        );
        if (res.statusCode >= 500) fiveHundreds.push(`${timeZone} -> ${res.statusCode}`);
        else if (res.statusCode === 400) {
          expect(res.json().field).toBe('timeZone');
          refused.push(timeZone);
        } else expect(res.statusCode).toBeLessThan(300);
      }
      setFigure(
        `${ZONES.length} zones: ${ZONES.length - refused.length} accepted (each with a Windows zone), ${refused.length} refused naming timeZone (${refused.join(', ')}), ${fiveHundreds.length} answered 5xx`,
      );
      expect(fiveHundreds).toEqual([]);
      expect(refused.length).toBeLessThan(3);
    });
  }, 120_000);
});

describe('tenant isolation', () => {
  it('refuses every route tried with another organisation’s token and ids', async () => {
    await measure('tenant isolation (org A token on org B routes)', async (setFigure) => {
      const before = await tableHashes();
      const b = `/v1/orgs/${orgB.id}`;
      const u = `${b}/users/${userB.id}`;
      const json = { 'content-type': 'application/json' };
      const attempts: [string, string, unknown?][] = [
        ['GET', b],
        ['POST', `${b}/admin-tokens`],
        ['GET', `${b}/exchange`],
        ['PUT', `${b}/exchange`, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 'stolen' }],
        ['GET', `${b}/exchange/admin-consent-url`],
        ['POST', `${b}/exchange/test`, {}],
        ['GET', `${b}/changes`],
        ['GET', `${b}/users`],
        ['POST', `${b}/users`, { crmUserId: 'intruder', email: 'intruder@example.com' }],
        ['GET', u],
        ['PATCH', u, { syncCalendar: false }],
        ['POST', `${b}/users/bulk`, { userIds: [userB.id], settings: { syncCalendar: false } }],
        ['POST', `${u}/sync`],
        ['GET', `${u}/sync-status`],
        ['GET', `${u}/item-errors`],
        ['GET', `/v1/orgs/${orgA.id}/users/${userB.id}/item-errors`],
        ['POST', `${u}/microsoft-login`],
        ['POST', `${u}/exchange/test`],
        ['GET', `${u}/contacts`],
        ['GET', `${u}/contacts/c-1`],
        ['PUT', `${u}/contacts/c-1`, { givenName: 'X', surname: 'Y', emails: [], phones: {}, addresses: {} }],
        ['DELETE', `${u}/contacts/c-1`],
        ['GET', `${u}/appointments`],
        ['GET', `${u}/appointments/a-1`],
        ['DELETE', `${u}/appointments/a-1`],
        ['PUT', `${u}/appointments/a-1`, { subject: 'X', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone: 'UTC', isAllDay: false }],
        // org B's user addressed under org A's own path
        ['GET', `/v1/orgs/${orgA.id}/users/${userB.id}`],
        ['PATCH', `/v1/orgs/${orgA.id}/users/${userB.id}`, { syncCalendar: false }],
        ['GET', `/v1/orgs/${orgA.id}/users/${userB.id}/contacts/c-1`],
        ['DELETE', `/v1/orgs/${orgA.id}/users/${userB.id}/contacts/c-1`],
        ['POST', `/v1/orgs/${orgA.id}/users/${userB.id}/sync`],
        ['GET', `/v1/orgs/${orgA.id}/users/${userB.id}/sync-status`],
        ['POST', `/v1/orgs/${orgA.id}/users/bulk`, { userIds: [userB.id], settings: { syncCalendar: false } }],
      ];
      const leaks: string[] = [];
      const enqueuedBefore = h.enqueued.length;
      for (const [method, url, body] of attempts) {
        const res = await call(method, url, orgA.token, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : json);
        const refused = res.statusCode === 403 || res.statusCode === 404;
        if (!refused || res.body.includes(userB.id) || res.body.includes('beta-user') || res.body.includes(SECRET_B))
          leaks.push(`${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
      // The org's own listings never show the other org's rows.
      const own = await call('GET', `/v1/orgs/${orgA.id}/users`, orgA.token);
      expect(own.statusCode).toBe(200);
      if (own.body.includes(userB.id)) leaks.push('org A user list shows org B user');
      const orgs = await call('GET', '/v1/orgs', orgA.token);
      if (orgs.statusCode === 200 && orgs.body.includes(orgB.id)) leaks.push('org A org list shows org B');
      const after = await tableHashes();
      const changed = TABLES.filter((t) => before[t] !== after[t]);
      const enqueued = h.enqueued.slice(enqueuedBefore).filter((e) => e.mailboxId === userB.mailboxId).length;
      setFigure(
        `${attempts.length} cross-org attempts: ${leaks.length} answered with data, ${changed.length} tables changed, ${enqueued} syncs queued for the other org`,
      );
      expect(leaks).toEqual([]);
      expect(changed).toEqual([]);
      expect(enqueued).toBe(0);
    });
  }, 60_000);
});

describe('secrets in this stack’s output', () => {
  it('never show a client secret or token in a response body or log line', async () => {
    await measure('secrets (API bodies and logs)', async (setFigure) => {
      const haystack = [...bodies, ...h.logLines];
      const needles = [SECRET_A, SECRET_B, orgA.token, orgB.token, h.platformToken];
      const hits = haystack.filter((s) => needles.some((n) => s.includes(n)));
      // The admin-token mint answers the new token once, by design: not counted as a leak.
      const leaks = hits.filter((s) => !/"token"\s*:/.test(s));
      setFigure(`${haystack.length} bodies and log lines scanned for ${needles.length} secrets: ${leaks.length} hits`);
      expect(leaks).toEqual([]);
    });
  });
});
