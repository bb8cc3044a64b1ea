import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSim, type GraphSim } from '@exsync/graph-sim';
import { startTestIssuer, TEST_APP, TEST_TENANT, type TestIssuer } from '../support/sims';
import { appToken, ews, graph, startSimulators, type Simulators } from './support/graph';

/**
 * Auth, scope, $batch, OData parsing, throttling and faults, over HTTP; the EWS policy block; the
 * shared request log.
 */
const CAROL = 'carol@contoso.example';
const ALICE = 'alice@contoso.example';
const GET_FOLDER =
  '<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>';

let sims: Simulators;
let token: string;
let ewsToken: string;
let issuer: TestIssuer;
/** A second Graph endpoint over the same store, trusting the test issuer (token shapes Entra will not mint). */
let graph2: GraphSim;

const control = (method: string, path: string, body?: unknown) => graph(sims, undefined, method, `${sims.ews.url}${path}`, { body });

beforeAll(async () => {
  sims = await startSimulators();
  token = await appToken(sims, 'https://graph.microsoft.com');
  ewsToken = await appToken(sims, 'https://outlook.office365.com');
  issuer = await startTestIssuer();
  graph2 = await startGraphSim({ ews: sims.ews, jwksUrl: issuer.jwksUrl });
});

afterAll(async () => {
  await graph2?.close();
  await issuer?.close();
  await sims?.close();
});

beforeEach(async () => {
  await control('DELETE', '/_sim/faults');
});

describe('auth', () => {
  it("refuses missing, foreign-audience, expired and role-less tokens with Graph's error JSON", async () => {
    const none = await graph(sims, undefined, 'GET', `/users/${CAROL}/events`);
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token is empty.' });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const ewsAud = await graph(sims, ewsToken, 'GET', `/users/${CAROL}/events`);
    expect(ewsAud.status).toBe(401);
    expect(ewsAud.json.error.message).toContain('Invalid audience');
    // ... and the other way round: the Graph token does not open EWS.
    expect((await ews(sims, token, CAROL, GET_FOLDER)).status).toBe(401);

    const base = { iss: `https://sts.windows.net/${TEST_TENANT}/`, tid: TEST_TENANT, appid: TEST_APP };
    const expired = await issuer.sign({ ...base, aud: 'https://graph.microsoft.com', roles: ['Calendars.ReadWrite'] }, { expiresInSeconds: -3600 });
    expect((await graph(sims, expired, 'GET', `/users/${CAROL}/events`, { base: graph2.graphUrl })).json.error.message).toContain('expired');
    const v2 = await issuer.sign({
      ...base,
      iss: `https://login.microsoftonline.com/${TEST_TENANT}/v2.0`,
      aud: '00000003-0000-0000-c000-000000000000',
      roles: ['Calendars.Read'],
    });
    expect((await graph(sims, v2, 'GET', `/users/${CAROL}/events`, { base: graph2.graphUrl })).status).toBe(200);
    const readOnly = await graph(sims, v2, 'POST', `/users/${CAROL}/events`, { base: graph2.graphUrl, body: { subject: 'x' } });
    expect(readOnly.status).toBe(403);
    expect(readOnly.json.error.code).toBe('ErrorAccessDenied');
    const contactsOnly = await issuer.sign({ ...base, aud: 'https://graph.microsoft.com', roles: ['Contacts.ReadWrite'] });
    expect((await graph(sims, contactsOnly, 'GET', `/users/${CAROL}/events`, { base: graph2.graphUrl })).status).toBe(403);
    expect((await graph(sims, contactsOnly, 'GET', `/users/${CAROL}/contacts`, { base: graph2.graphUrl })).status).toBe(200);

    // An app registered with EWS's permission only gets a Graph token without Graph roles.
    sims.entra.addApp({
      tenantId: sims.tenantId,
      appId: '0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
      secrets: ['s-ews-only'],
      roles: ['full_access_as_app'],
      consented: true,
    });
    const ewsOnly = await appToken(sims, 'https://graph.microsoft.com', '0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b', 's-ews-only');
    expect((await graph(sims, ewsOnly, 'GET', `/users/${CAROL}/events`)).status).toBe(403);
  });

  it('accepts a delegated Graph token the Entra simulator issues through the authorization-code flow', async () => {
    const alice = sims.users[0];
    const redirect = 'http://127.0.0.1:9/callback';
    const authorize = new URL(`${sims.entraUrl}/${sims.tenantId}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      client_id: sims.applicationId,
      response_type: 'code',
      redirect_uri: redirect,
      scope: 'https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/Contacts.ReadWrite offline_access',
      login_hint: alice.email,
      state: 's1',
    }).toString();
    const signIn = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(signIn.headers.get('location')!).searchParams.get('code');
    expect(code).toBeTruthy();
    const tokenRes = await fetch(`${sims.entraUrl}/${sims.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: sims.applicationId,
        client_secret: sims.clientSecret,
        code: code!,
        redirect_uri: redirect,
      }),
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ aud: 'https://graph.microsoft.com', scp: 'Calendars.ReadWrite Contacts.ReadWrite', upn: alice.email });
    const me = await graph(sims, access_token, 'GET', '/me/contactFolders');
    expect(me.status).toBe(200);
    expect((await graph(sims, access_token, 'GET', `/users/${CAROL}/contactFolders`)).status).toBe(403);
  });

  it('serves /me for delegated tokens only, users by id or UPN, and a per-tenant mailbox scope', async () => {
    const base = { iss: `https://sts.windows.net/${TEST_TENANT}/`, tid: TEST_TENANT, appid: TEST_APP, aud: 'https://graph.microsoft.com' };
    const delegated = await issuer.sign({ ...base, scp: 'Calendars.ReadWrite Contacts.ReadWrite', upn: CAROL });
    const me = await graph(sims, delegated, 'GET', '/me/calendarView?startDateTime=2026-01-01T00:00:00Z&endDateTime=2026-01-02T00:00:00Z', {
      base: graph2.graphUrl,
    });
    expect(me.status).toBe(200);
    expect((await graph(sims, delegated, 'GET', `/users/${ALICE}/events`, { base: graph2.graphUrl })).status).toBe(403);
    const appMe = await graph(sims, token, 'GET', '/me/events');
    expect(appMe.status).toBe(400);
    expect(appMe.json.error.message).toContain('delegated authentication flow');

    const alice = sims.users[0];
    const user = await graph(sims, token, 'GET', `/users/${alice.email}`);
    expect(user.json).toMatchObject({ userPrincipalName: alice.email, id: '11111111-aaaa-4aaa-8aaa-000000000001' });
    expect((await graph(sims, token, 'GET', `/users/${user.json.id}/events`)).status).toBe(200);
    const nobody = await graph(sims, token, 'GET', '/users/nobody@contoso.example/events');
    expect(nobody.status).toBe(404);
    expect(nobody.json.error.code).toBe('ErrorInvalidUser');

    expect((await control('PUT', `/_sim/tenants/${sims.tenantId}/graph-scope`, { mailboxes: [ALICE] })).status).toBe(200);
    const denied = await graph(sims, token, 'GET', `/users/${CAROL}/events`);
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('ErrorAccessDenied');
    expect((await graph(sims, token, 'GET', `/users/${ALICE}/events`)).status).toBe(200);
    await control('PUT', `/_sim/tenants/${sims.tenantId}/graph-scope`, { mailboxes: null });
    expect((await graph(sims, token, 'GET', `/users/${CAROL}/events`)).status).toBe(200);
  });
});

describe('OData query options', () => {
  it('parses $filter, $select, $expand and $top as OData (whitespace, quoting, operator case) and refuses what it does not support', async () => {
    sims.ews.store.createAppointment(CAROL, { subject: "O'Brien sync", start: '2026-02-02T09:00:00Z', end: '2026-02-02T10:00:00Z' });
    sims.ews.store.createAppointment(CAROL, { subject: 'Other', start: '2026-02-03T09:00:00Z', end: '2026-02-03T10:00:00Z' });
    const variants = [
      "subject eq 'O''Brien sync'",
      "  subject   EQ   'O''Brien sync'  ",
      "(subject eq 'O''Brien sync') and start/dateTime ge '2026-02-01T00:00:00'",
      "startswith(subject, 'O''B') And NOT (subject eq 'Other')",
    ];
    for (const f of variants) {
      const r = await graph(sims, token, 'GET', `/users/${CAROL}/events?$filter=${encodeURIComponent(f)}&$select=subject,start`);
      expect(r.status, f).toBe(200);
      expect(
        r.json.value.map((e: any) => e.subject),
        f,
      ).toEqual(["O'Brien sync"]);
      expect(Object.keys(r.json.value[0]).sort()).toEqual(['@odata.etag', 'id', 'start', 'subject']);
    }
    const top = await graph(sims, token, 'GET', `/users/${CAROL}/events?$top=1`);
    expect(top.json.value).toHaveLength(1);
    const refused: [string, string][] = [
      ["$filter=contains(subject,'O')", 'ErrorInvalidUrlQueryFilter'],
      ["$filter=subject eq 'unterminated", 'BadRequest'],
      ['$filter=subject eq', 'BadRequest'],
      ["$filter=nosuch eq 'x'", 'RequestBroker--ParseUri'],
      ['$select=subject,nosuch', 'RequestBroker--ParseUri'],
      ['$expand=attachments', 'BadRequest'],
      ['$top=0', 'BadRequest'],
      ['$top=abc', 'BadRequest'],
      ['$search="x"', 'ErrorInvalidUrlQuery'],
      ['$frobnicate=1', 'BadRequest'],
    ];
    for (const [q, code] of refused) {
      const r = await graph(sims, token, 'GET', `/users/${CAROL}/events?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code, q).toBe(code);
    }
  });
});

describe('bad input', () => {
  it("answers 4xx with Graph's error JSON, never 5xx, for malformed bodies, paths and values", async () => {
    const cases: [string, string, unknown, number][] = [
      ['POST', `/users/${CAROL}/events`, '{not json', 400],
      ['POST', `/users/${CAROL}/events`, [1, 2], 400],
      ['POST', `/users/${CAROL}/events`, { subject: 5 }, 400],
      ['POST', `/users/${CAROL}/events`, { start: { dateTime: 'tomorrow', timeZone: 'UTC' } }, 400],
      ['POST', `/users/${CAROL}/events`, { start: { dateTime: '2026-01-01T10:00:00' }, end: { dateTime: '2026-01-01T09:00:00' } }, 400],
      ['POST', `/users/${CAROL}/events`, { attendees: [{ emailAddress: {} }] }, 400],
      ['POST', `/users/${CAROL}/events`, { showAs: 'sleeping' }, 400],
      ['POST', `/users/${CAROL}/events`, { recurrence: { pattern: { type: 'weekly' }, range: { type: 'noEnd' } } }, 400],
      ['POST', `/users/${CAROL}/events`, { singleValueExtendedProperties: [{ id: 'Nonsense', value: 'x' }] }, 400],
      ['POST', `/users/${CAROL}/contacts`, { emailAddresses: [{}, {}, {}, {}] }, 400],
      ['POST', `/users/${CAROL}/contacts`, { businessPhones: 'one' }, 400],
      ['POST', `/users/${CAROL}/contacts`, { homeAddress: { planet: 'Mars' } }, 400],
      ['POST', `/users/${CAROL}/contacts`, { birthday: 'someday' }, 400],
      ['GET', `/users/${CAROL}/nosuchthing`, undefined, 400],
      ['PUT', `/users/${CAROL}/events`, undefined, 405],
      ['GET', `/users/${CAROL}/contactFolders/bad*id/contacts`, undefined, 400],
      ['GET', `/users/${CAROL}/calendarView?startDateTime=soon&endDateTime=later`, undefined, 400],
      ['GET', `/users/${CAROL}/calendarView/delta?startDateTime=2026-01-01T00:00:00Z&endDateTime=2026-01-02T00:00:00Z`, undefined, 200],
    ];
    for (const [method, path, body, status] of cases) {
      const res = await fetch(`${sims.graphUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Prefer: 'odata.maxpagesize=1' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      if (status >= 400) expect(json.error.code, `${method} ${path}`).toEqual(expect.any(String));
    }
    const beta = await graph(sims, token, 'GET', `${sims.graph.url}/beta/users/${CAROL}/events`);
    expect(beta.status).toBe(400);
    const badPrefer = await graph(sims, token, 'GET', `/users/${CAROL}/events`, { headers: { Prefer: 'odata.maxpagesize=-3' } });
    expect(badPrefer.status).toBe(400);
  });
});

describe('$batch', () => {
  it('answers each request on its own, sequences dependsOn and fails dependents of a failure with 424', async () => {
    const r = await graph(sims, token, 'POST', '/$batch', {
      body: {
        requests: [
          {
            id: '1',
            method: 'POST',
            url: `/users/${CAROL}/events`,
            headers: { 'Content-Type': 'application/json' },
            body: {
              subject: 'Batched',
              start: { dateTime: '2026-02-10T09:00:00', timeZone: 'UTC' },
              end: { dateTime: '2026-02-10T10:00:00', timeZone: 'UTC' },
            },
          },
          { id: '2', method: 'GET', url: `/users/${CAROL}/events?$filter=subject eq 'Batched'&$select=subject`, dependsOn: ['1'] },
          { id: '3', method: 'GET', url: `/users/${CAROL}/events/AAMkADoesNotExist0000000000000000000000000000000000000000AAA=` },
          { id: '4', method: 'DELETE', url: `/users/${CAROL}/events/x`, dependsOn: ['3'] },
          { id: '5', method: 'GET', url: `/users/${CAROL}/contactFolders` },
        ],
      },
    });
    expect(r.status).toBe(200);
    const by = Object.fromEntries(r.json.responses.map((x: any) => [x.id, x]));
    expect(by['1'].status).toBe(201);
    expect(by['2'].status).toBe(200);
    expect(by['2'].body.value).toEqual([expect.objectContaining({ subject: 'Batched' })]);
    expect(by['3'].status).toBe(404);
    expect(by['3'].body.error.code).toBe('ErrorItemNotFound');
    expect(by['4'].status).toBe(424);
    expect(by['5'].status).toBe(200);
    const tooMany = await graph(sims, token, 'POST', '/$batch', {
      body: { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: `/users/${CAROL}/contactFolders` })) },
    });
    expect(tooMany.status).toBe(400);
    // The per-item "busy" fault throttles requests inside a batch one by one; the batch itself is 200.
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { itemServerBusyRate: 1, backOffMs: 2000 });
    const busy = await graph(sims, token, 'POST', '/$batch', {
      body: {
        requests: [
          { id: '1', method: 'GET', url: `/users/${CAROL}/contactFolders` },
          { id: '2', method: 'GET', url: `/users/${ALICE}/contactFolders` },
        ],
      },
    });
    expect(busy.status).toBe(200);
    expect(busy.json.responses.map((x: any) => [x.id, x.status, x.headers['Retry-After']])).toEqual([
      ['1', 429, '2'],
      ['2', 200, undefined],
    ]);
    await control('DELETE', '/_sim/faults');
    const cycle = await graph(sims, token, 'POST', '/$batch', {
      body: {
        requests: [
          { id: 'a', method: 'GET', url: '/users/x', dependsOn: ['b'] },
          { id: 'b', method: 'GET', url: '/users/x', dependsOn: ['a'] },
        ],
      },
    });
    expect(cycle.status).toBe(400);
  });

  it("runs at most 4 of a batch at once, each in the mailbox's concurrency budget", async () => {
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { latencyMs: 150 });
    await control('DELETE', '/_sim/requests');
    const requests = Array.from({ length: 8 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: `/users/${CAROL}/contactFolders` }));
    const [batch, outside] = await Promise.all([
      graph(sims, token, 'POST', '/$batch', { body: { requests } }),
      new Promise((r) => setTimeout(r, 60)).then(() => graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`)),
    ]);
    const statuses = batch.json.responses.map((x: any) => x.status);
    expect(statuses.filter((s: number) => s === 200).length).toBeGreaterThanOrEqual(7);
    // Four from the batch already hold the budget: the request outside it is throttled.
    expect(outside.status).toBe(429);
    expect(outside.json.error).toMatchObject({ code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' });
    expect(Number(outside.headers.get('retry-after'))).toBeGreaterThan(0);
    const log = (await control('GET', `/_sim/requests?mailbox=${CAROL}&protocol=graph`)).json.filter((e: any) => e.operation?.startsWith('$batch'));
    expect(log).toHaveLength(8);
    // Largest number in flight at once: sweep over start (+1) and end (-1) events.
    const events = log
      .flatMap((e: any) => [
        [e.startedAt, 1],
        [e.endedAt, -1],
      ])
      .sort((a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let max = 0;
    for (const [, d] of events) max = Math.max(max, (cur += d));
    expect(max).toBe(4);
  });
});

describe('throttling and faults', () => {
  it('answers a fifth concurrent request per app and mailbox with 429 ApplicationThrottled and Retry-After', async () => {
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { latencyMs: 200 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    // Another mailbox has its own budget.
    await control('DELETE', '/_sim/faults');
    expect((await graph(sims, token, 'GET', `/users/${ALICE}/contactFolders`)).status).toBe(200);
  });

  it('applies the shared fault settings to both protocols: 503, 504, busy, resets, hangs and malformed answers', async () => {
    await control('PUT', '/_sim/faults', { http503Rate: 1, retryAfterSeconds: 7 });
    const g503 = await graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`);
    expect(g503.status).toBe(503);
    expect(g503.headers.get('retry-after')).toBe('7');
    expect((await ews(sims, ewsToken, CAROL, GET_FOLDER)).status).toBe(503);
    await control('PUT', '/_sim/faults', { http503Rate: 0, http504Rate: 1 });
    expect((await graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`)).status).toBe(504);
    expect((await ews(sims, ewsToken, CAROL, GET_FOLDER)).status).toBe(504);
    await control('DELETE', '/_sim/faults');
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { serverBusyRate: 1, backOffMs: 3000 });
    const busy = await graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`);
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('3');
    expect((await graph(sims, token, 'GET', `/users/${ALICE}/contactFolders`)).status).toBe(200);
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { serverBusyRate: 0, resetRate: 1 });
    await expect(graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`)).rejects.toThrow();
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { resetRate: 0, hangRate: 1 });
    const hung = fetch(`${sims.graphUrl}/users/${CAROL}/contactFolders`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(300) });
    await expect(hung).rejects.toThrow();
    await control('PUT', `/_sim/mailboxes/${CAROL}/faults`, { hangRate: 0, malformedRate: 1 });
    const bodies: { status: number; text: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${sims.graphUrl}/users/${CAROL}/contactFolders`, { headers: { Authorization: `Bearer ${token}` } });
      bodies.push({ status: res.status, text: await res.text() });
    }
    expect(bodies.map((b) => b.status).sort()).toEqual([200, 500]);
    expect(() => JSON.parse(bodies.find((b) => b.status === 200)!.text)).toThrow();
    await control('DELETE', '/_sim/faults');
  });

  it('logs both protocols in the one request log', async () => {
    await control('DELETE', '/_sim/requests');
    await graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`);
    await ews(sims, ewsToken, CAROL, GET_FOLDER);
    const all = (await control('GET', `/_sim/requests?mailbox=${CAROL}`)).json;
    expect(all.map((e: any) => `${e.protocol} ${e.operation}`)).toEqual(['graph GET contactFolders', 'ews GetFolder']);
    expect((await control('GET', '/_sim/requests?protocol=smtp')).status).toBe(400);
  });
});

describe('EWS policy block', () => {
  it('answers EWS with 403 and X-EWS-Policy-Reason when blocked by policy, a bare 403 when disabled, while Graph keeps working', async () => {
    expect((await control('PUT', `/_sim/tenants/${sims.tenantId}/ews`, { enabled: false, reason: 'policy' })).status).toBe(200);
    const blocked = await ews(sims, ewsToken, CAROL, GET_FOLDER);
    expect(blocked.status).toBe(403);
    expect(blocked.headers.get('x-ews-policy-reason')).toBe('EWS is blocked by policy for this user or tenant');
    expect((await graph(sims, token, 'GET', `/users/${CAROL}/contactFolders`)).status).toBe(200);
    await control('PUT', `/_sim/tenants/${sims.tenantId}/ews`, { enabled: false });
    const disabled = await ews(sims, ewsToken, CAROL, GET_FOLDER);
    expect(disabled.status).toBe(403);
    expect(disabled.headers.get('x-ews-policy-reason')).toBeNull();
    expect((await control('PUT', `/_sim/tenants/${sims.tenantId}/ews`, { enabled: true, reason: 'policy' })).status).toBe(400);
    await control('PUT', `/_sim/tenants/${sims.tenantId}/ews`, { enabled: true });
    expect((await ews(sims, ewsToken, CAROL, GET_FOLDER)).status).toBe(200);
  });
});

describe('control API reset', () => {
  // Last in this file: it clears the shared store.
  it('POST /_sim/reset also forgets the Graph side: scope lists, delta state, meeting messages', async () => {
    await control('PUT', `/_sim/tenants/${sims.tenantId}/graph-scope`, { mailboxes: [ALICE] });
    const round = await graph(sims, token, 'GET', `/users/${ALICE}/calendarView/delta?startDateTime=2026-01-01T00:00:00Z&endDateTime=2026-01-02T00:00:00Z`);
    expect((await control('GET', `/_sim/tenants/${sims.tenantId}/graph-scope`)).json).toEqual({ '*': [ALICE] });
    expect((await control('POST', '/_sim/reset')).status).toBe(200);
    expect((await control('GET', `/_sim/tenants/${sims.tenantId}/graph-scope`)).json).toEqual({});
    sims.ews.store.createMailbox({ email: ALICE, tenantId: sims.tenantId });
    expect((await graph(sims, token, 'GET', round.json['@odata.deltaLink'])).status).toBe(410);
    expect((await control('PUT', `/_sim/tenants/${sims.tenantId}/graph-scope`, { mailboxes: 'all' })).status).toBe(400);
  });
});
