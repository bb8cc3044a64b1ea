import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installBodyParsers } from '../../services/api/src/bodyParsers';
import { installErrorHandler } from '../../services/api/src/errorHandler';
import { installValidators } from '../../services/api/src/validation';
import { startHarness, type Harness } from '../support/api';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

let h: Harness;
let org: { id: string; token: string };
let user: { id: string; mailboxId: string };

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
  user = await h.createUser(org.id, 'v-user');
});
afterAll(async () => h?.close());

function expect400(res: { statusCode: number; json(): any }, field: string, pattern?: RegExp) {
  expect(res.statusCode).toBe(400);
  const body = res.json();
  expect(body.error).toBe('Bad Request');
  expect(body.field).toBe(field);
  expect(body.message).toContain(field);
  if (pattern) expect(body.message).toMatch(pattern);
}

describe('malformed GUIDs', () => {
  it('names the path parameter', async () => {
    expect400(await h.call('GET', '/v1/orgs/not-a-guid', h.platformToken), 'orgId', /GUID/);
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users/1234`, h.platformToken), 'userId', /GUID/);
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/xyz`, h.platformToken, { syncCalendar: true }), 'userId');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`.replace(org.id, 'zzz'), h.platformToken), 'orgId');
  });

  it('names body GUID fields', async () => {
    expect400(
      await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: 'abc', tenantId: TENANT_ID, clientSecret: 's' }),
      'applicationId',
      /GUID/,
    );
    expect400(await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: '{nope}', clientSecret: 's' }), 'tenantId');
    expect400(
      await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, { userIds: [user.id, 'bad'], settings: { syncCalendar: true } }),
      'userIds.1',
    );
  });

  it('names a bad query parameter', async () => {
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?after=nope`, org.token), 'after');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?limit=0`, org.token), 'limit');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?colour=blue`, org.token), 'colour', /not allowed/);
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}?expand=all`, org.token), 'expand', /not allowed/);
    expect400(await h.call('GET', `/v1/orgs/${org.id}/exchange?x=1`, org.token), 'x');
  });
});

describe('unknown fields', () => {
  it('are refused, not silently dropped', async () => {
    expect400(await h.call('POST', '/v1/orgs', h.platformToken, { name: 'X', plan: 'gold' }), 'plan', /not allowed/);
    expect400(await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'u9', email: 'u9@example.com', admin: true }), 'admin');
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { syncTasks: true }), 'syncTasks');
    expect400(
      await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 's', password: 'p' }),
      'password',
    );
    expect400(
      await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, { userIds: [user.id], settings: { syncNotes: true } }),
      'settings.syncNotes',
    );
    // Nothing was created by the refused request.
    const users = await h.call('GET', `/v1/orgs/${org.id}/users`, org.token);
    expect(users.json().users.map((u: { crmUserId: string }) => u.crmUserId)).toEqual(['v-user']);
  });
});

describe('wrong types and values', () => {
  it('does not coerce body types', async () => {
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { syncCalendar: 'true' }), 'syncCalendar', /boolean/);
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: 1 }), 'mobileAccess');
    expect400(await h.call('POST', '/v1/orgs', h.platformToken, { name: 42 }), 'name', /string/);
    expect400(
      await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { calendarDirection: 'sideways' }),
      'calendarDirection',
      /^body field "calendarDirection" must be one of "two-way", "crm-to-exchange", "exchange-to-crm"$/,
    );
    expect400(await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'u2', email: 'not-an-email' }), 'email');
    expect400(await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { email: 'u3@example.com' }), 'crmUserId', /required/);
  });

  it('refuses http authorities unless insecure authorities are allowed', async () => {
    const strict = await startHarness({ EXSYNC_ALLOW_INSECURE_AUTHORITY: 'false' });
    try {
      const o = await strict.createOrg();
      expect400(
        await strict.call('PUT', `/v1/orgs/${o.id}/exchange`, o.token, {
          applicationId: APP_ID,
          tenantId: TENANT_ID,
          clientSecret: 's',
          authorityHost: 'http://127.0.0.1:4000',
        }),
        'authorityHost',
        /https/,
      );
      expect400(
        await strict.call('PUT', `/v1/orgs/${o.id}/exchange`, o.token, {
          applicationId: APP_ID,
          tenantId: TENANT_ID,
          clientSecret: 's',
          ewsUrl: 'ftp://mail.example.com/EWS/Exchange.asmx',
        }),
        'ewsUrl',
      );
    } finally {
      await strict.close();
    }
    // The test configuration allows http (the simulators speak it).
    const ok = await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: APP_ID,
      tenantId: TENANT_ID,
      clientSecret: 's',
      authorityHost: 'http://127.0.0.1:4000/',
      ewsUrl: 'http://127.0.0.1:4001/EWS/Exchange.asmx',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ authorityHost: 'http://127.0.0.1:4000', ewsUrl: 'http://127.0.0.1:4001/EWS/Exchange.asmx' });
  });

  it('answers 422 when neither a secret nor a certificate was ever given', async () => {
    const o = await h.createOrg();
    const res = await h.call('PUT', `/v1/orgs/${o.id}/exchange`, o.token, { applicationId: APP_ID, tenantId: TENANT_ID });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toMatch(/clientSecret or clientCertificate/);
  });

  it('answers 400 naming clientCertificate for a PEM that is not one', async () => {
    expect400(
      await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientCertificate: 'hello' }),
      'clientCertificate',
      /PEM/,
    );
  });

  it('answers 409 naming crmUserId for a duplicate', async () => {
    const dup = await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'v-user', email: 'v@example.com' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().field).toBe('crmUserId');
  });
});

describe('the mobile-access rule', () => {
  it('answers 422 for useOAuthForExchange without mobile access, and allows it with it', async () => {
    const res = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { useOAuthForExchange: true });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'Unprocessable Entity', field: 'useOAuthForExchange' });
    expect(res.json().message).toMatch(/mobileAccess/);
    const unchanged = await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}`, org.token);
    expect(unchanged.json().settings.useOAuthForExchange).toBe(false);

    const both = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: true, useOAuthForExchange: true });
    expect(both.statusCode).toBe(200);
    expect(both.json().settings).toMatchObject({ mobileAccess: true, useOAuthForExchange: true });

    const revoke = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: false });
    expect(revoke.statusCode).toBe(422);
    const off = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: false, useOAuthForExchange: false });
    expect(off.statusCode).toBe(200);
  });

  it('rejects per user in bulk and applies the rest', async () => {
    const withMobile = await h.createUser(org.id, 'bulk-mobile');
    const without = await h.createUser(org.id, 'bulk-plain');
    await h.call('PATCH', `/v1/orgs/${org.id}/users/${withMobile.id}`, h.platformToken, { mobileAccess: true });
    const missing = '00000000-0000-4000-8000-00000000beef';
    const res = await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, {
      userIds: [withMobile.id, without.id, missing],
      settings: { useOAuthForExchange: true, syncCalendar: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().updated).toEqual([withMobile.id]);
    expect(res.json().notFound).toEqual([missing]);
    expect(res.json().rejected).toEqual([{ userId: without.id, message: expect.stringMatching(/mobileAccess/) }]);
  });
});

describe('enum and union messages', () => {
  const exchange = (extra: Record<string, unknown>) =>
    h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 's', ...extra });

  it('list the allowed values of an enum field', async () => {
    expect400(await exchange({ transport: 'smtp' }), 'transport', /^body field "transport" must be one of "ews", "graph"$/);
    expect400(await exchange({ authMode: 'basic' }), 'authMode', /^body field "authMode" must be one of "app-only", "delegated"$/);
    expect400(await exchange({ conflictPolicy: 'random' }), 'conflictPolicy', /must be one of "newest-wins", "crm-wins", "exchange-wins"$/);
    const missing = '00000000-0000-4000-8000-00000000beef';
    expect400(
      await h.call('POST', `/v1/orgs/${org.id}/mailbox-monitor/mailboxes/${missing}/authorization-link`, org.token, { returnTo: 'elsewhere' }),
      'returnTo',
      /^body field "returnTo" must be one of "exsync", "paste"$/,
    );
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?state=sleepy`, org.token), 'state', /^querystring field "state" must be one of "not-enabled", /);
  });

  it('name the deepest cause inside the union branch the value fits', async () => {
    const put = (body: unknown) => h.call('PUT', `/v1/orgs/${org.id}/users/${user.id}/contacts/c-union`, org.token, body);
    // an object entry: the object branch's error, not "must be string"
    expect400(await put({ emails: [{ address: 'a@b.c', slot: 9 }] }), 'emails.0.slot', /^body field "emails.0.slot" must be one of 1, 2, 3$/);
    expect400(await put({ emails: [{ address: 'a@b.c', colour: 'red' }] }), 'emails.0.colour', /is not allowed/);
    expect400(await put({ emails: [{ name: 'A' }] }), 'emails.0.address', /is required/);
    // a string entry: the string branch's error
    expect400(await put({ emails: [''] }), 'emails.0', /fewer than 1 characters/);
    // neither branch's type
    expect400(await put({ emails: [42] }), 'emails.0', /^body field "emails.0" must be string or object$/);
  });

  it('name the tagged-union variant the value chose, or list the tags', async () => {
    const put = (pattern: unknown) =>
      h.call('PUT', `/v1/orgs/${org.id}/users/${user.id}/appointments/a-union`, org.token, {
        subject: 'S',
        start: '2027-01-04T09:00:00Z',
        end: '2027-01-04T10:00:00Z',
        timeZone: 'UTC',
        isAllDay: false,
        recurrence: { pattern, range: { type: 'noEnd', startDate: '2027-01-04' } },
      });
    expect400(await put({ type: 'weekly', interval: 0, daysOfWeek: ['monday'] }), 'recurrence.pattern.interval', /must be >= 1/);
    expect400(await put({ type: 'hourly', interval: 1 }), 'recurrence.pattern.type', /must be one of "daily", "weekly", "absoluteMonthly"/);
  });

  it('report an unknown property before a missing one', async () => {
    const id = '00000000-0000-4000-8000-00000000cafe';
    const res = await h.call('PATCH', `/v1/orgs/${org.id}/mailbox-monitor/mailboxes/${id}`, org.token, { folder: '' });
    expect400(res, 'folder', /^body field "folder" is not allowed$/);
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/mailbox-monitor/mailboxes/${id}`, org.token, {}), 'enabled', /is required/);
  });

  it('list the literals of a TypeBox union of literals, naming the field', async () => {
    const app = Fastify({ logger: false });
    installBodyParsers(app);
    installValidators(app);
    installErrorHandler(app);
    // What TypeBox's Type.Union([Type.Literal('red'), Type.Literal('blue'), Type.Null()]) and Type.Literal(3) compile to.
    const body = {
      type: 'object',
      properties: {
        colour: { anyOf: [{ const: 'red', type: 'string' }, { const: 'blue', type: 'string' }, { type: 'null' }] },
        size: { const: 3, type: 'number' },
      },
      additionalProperties: false,
    };
    app.post('/t', { schema: { body } }, async () => ({ ok: true }));
    try {
      const post = (payload: object) => app.inject({ method: 'POST', url: '/t', payload });
      expect400(await post({ colour: 'green' }), 'colour', /^body field "colour" must be one of "red", "blue", null$/);
      expect400(await post({ colour: 7 }), 'colour', /^body field "colour" must be one of "red", "blue", null$/);
      expect400(await post({ size: 4 }), 'size', /^body field "size" must be 3$/);
      expect((await post({ colour: null, size: 3 })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('bodies that are not JSON objects', () => {
  const raw = (url: string, payload: string, contentType: string) =>
    h.app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${h.platformToken}`, 'content-type': contentType } });

  it('a "__proto__" or "constructor" key answers 400 naming it, and is still refused', async () => {
    const proto = await raw('/v1/orgs', '{"name":"P","__proto__":{"admin":true}}', 'application/json');
    expect400(proto, '__proto__', /^body key "__proto__" is not allowed$/);
    const escaped = await raw('/v1/orgs', '{"name":"P","\\u005f_proto__":{}}', 'application/json');
    expect400(escaped, '__proto__');
    const nested = await raw(
      `/v1/orgs/${org.id}/users/bulk`,
      `{"userIds":["${user.id}"],"settings":{"constructor":{"prototype":{"admin":true}}}}`,
      'application/json',
    );
    expect400(nested, 'settings.constructor', /^body key "settings.constructor" is not allowed$/);
    const orgs = (await h.call('GET', '/v1/orgs', h.platformToken)).json();
    expect(JSON.stringify(orgs)).not.toContain('"P"');
  });

  it('JSON that does not parse still says so', async () => {
    const res = await raw('/v1/orgs', '{"name":', 'application/json');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/not valid JSON/);
  });

  it('a text/plain or form body to a JSON route answers 415 naming application/json', async () => {
    for (const [type, payload] of [
      ['text/plain', '{"name":"T"}'],
      ['text/plain; charset=utf-8', 'hello'],
      ['application/x-www-form-urlencoded', 'name=T'],
      ['application/xml', '<name>T</name>'],
    ]) {
      const res = await raw('/v1/orgs', payload, type);
      expect(res.statusCode, type).toBe(415);
      expect(res.json()).toEqual({
        error: 'Unsupported Media Type',
        message: `this route takes application/json bodies, not ${type.split(';')[0]}`,
      });
    }
    const untyped = await h.app.inject({ method: 'POST', url: '/v1/orgs', payload: '{"name":"T"}', headers: { authorization: `Bearer ${h.platformToken}` } });
    expect(untyped.statusCode).toBe(415);
    expect(untyped.json().message).toBe('this route takes application/json bodies, sent with a Content-Type header');
    const json = await raw('/v1/orgs', '{"name":"T-json"}', 'application/json; charset=utf-8');
    expect(json.statusCode).toBe(201);
  });

  it('the paste page still takes its form post (and JSON), and names both types otherwise', async () => {
    const form = await h.app.inject({
      method: 'POST',
      url: '/oauth/monitor/paste',
      payload: 'state=nope&address=https%3A%2F%2Flogin.microsoftonline.com%2Fcommon%2Foauth2%2Fnativeclient%3Fcode%3Dx',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBeLessThan(500);
    expect(form.statusCode).not.toBe(415);
    expect(form.headers['content-type']).toMatch(/text\/html/);
    const json = await h.app.inject({ method: 'POST', url: '/oauth/monitor/paste', payload: { state: 'nope', address: 'x' } });
    expect(json.statusCode).not.toBe(415);
    const text = await h.app.inject({ method: 'POST', url: '/oauth/monitor/paste', payload: 'state=nope', headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    expect(text.json().message).toBe('this route takes application/json or application/x-www-form-urlencoded bodies, not text/plain');
  });
});
