import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { entraAppToken } from '../support/sims';
import { envelope, extractPart, post, validateAll } from '../support/soap';

/** The JSON control API under /_sim/ and the injected faults, seen over HTTP. */
const CAROL = 'carol@contoso.example';
const GET_FOLDER =
  '<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>';

let sims: Simulators;
let token: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sims.ews.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function ews(mailbox = CAROL, signal?: AbortSignal) {
  return fetch(sims.ewsUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', Authorization: `Bearer ${token}` },
    body: envelope(GET_FOLDER, { impersonate: mailbox }),
    signal,
  });
}

beforeAll(async () => {
  sims = await startSimulators();
  token = await entraAppToken(sims.entraUrl, sims.tenantId, sims.applicationId, sims.clientSecret);
});

afterAll(async () => {
  await sims?.close();
});

beforeEach(async () => {
  await api('DELETE', '/_sim/faults');
});

describe('control API', () => {
  it('creates mailboxes, seeds deterministic data and reads folders back', async () => {
    const created = await api('POST', '/_sim/mailboxes', { email: 'dave@contoso.example', tenantId: sims.tenantId, displayName: 'Dave' });
    expect(created.status).toBe(201);
    const seeded = await api('POST', '/_sim/mailboxes/dave@contoso.example/seed', { calendarItems: 20, contacts: 5, seed: 7 });
    expect(seeded.json).toEqual({ calendarItems: 20, contacts: 5 });
    const cal = await api('GET', '/_sim/mailboxes/dave@contoso.example/folders/calendar');
    expect(cal.json).toHaveLength(20);
    const series = cal.json.filter((i: any) => i.recurrence);
    expect(series).toHaveLength(2);
    expect(series[0].exceptions).toHaveLength(1);
    expect(series[0].deletedOccurrences).toHaveLength(1);
    expect(series[0].fields.OccurrenceCount).toBe(9);
    const contacts = await api('GET', '/_sim/mailboxes/dave@contoso.example/folders/contacts');
    expect(contacts.json[0].fields.EmailAddresses.EmailAddress1).toMatch(/@example\.net$/);
    expect(contacts.json[0].fields.PhysicalAddresses.Business.City).toBe('Springfield');

    // The same seed gives the same data.
    await api('POST', '/_sim/mailboxes', { email: 'erin@contoso.example', tenantId: sims.tenantId });
    await api('POST', '/_sim/mailboxes/erin@contoso.example/seed', { calendarItems: 20, contacts: 5, seed: 7 });
    const again = await api('GET', '/_sim/mailboxes/erin@contoso.example/folders/calendar');
    expect(again.json.map((i: any) => [i.fields.Subject, i.fields.Start])).toEqual(cal.json.map((i: any) => [i.fields.Subject, i.fields.Start]));
  });

  it('edits items as a person in Outlook would: the ChangeKey and the sync log move', async () => {
    const made = await api('POST', `/_sim/mailboxes/${CAROL}/calendar`, {
      subject: 'Dentist',
      start: '2026-10-01T08:00:00Z',
      end: '2026-10-01T09:00:00Z',
      location: 'Main St',
      isAllDay: false,
    });
    expect(made.status).toBe(201);
    const edited = await api('PATCH', `/_sim/mailboxes/${CAROL}/items/${encodeURIComponent(made.json.id)}`, {
      subject: 'Dentist (moved)',
      start: '2026-10-02T08:00:00Z',
      end: '2026-10-02T09:00:00Z',
    });
    expect(edited.json.changeKey).not.toBe(made.json.changeKey);
    expect(edited.json.fields).toMatchObject({ Subject: 'Dentist (moved)', Location: 'Main St', Start: '2026-10-02T08:00:00Z' });
    const contact = await api('POST', `/_sim/mailboxes/${CAROL}/contacts`, {
      givenName: 'Ann',
      surname: 'Lee',
      emails: ['ann@example.net'],
      phones: ['+1 555 0000'],
      companyName: 'Acme',
    });
    expect(contact.json.fields.DisplayName).toBe('Ann Lee');
    expect(contact.json.fields.PhoneNumbers).toEqual({ BusinessPhone: '+1 555 0000' });
    const del = await api('DELETE', `/_sim/mailboxes/${CAROL}/items/${encodeURIComponent(made.json.id)}`);
    expect(del.status).toBe(204);
    const mb = sims.ews.store.getMailbox(CAROL)!;
    const log = sims.ews.store
      .folder(mb, 'calendar')
      .log.filter((e) => e.itemId === made.json.id)
      .map((e) => e.change);
    expect(log).toEqual(['Create', 'Update', 'Delete']);
  });

  it('validates input and names the problem', async () => {
    expect((await api('POST', '/_sim/mailboxes', { email: 'x' })).status).toBe(400);
    const bad = await api('POST', `/_sim/mailboxes/${CAROL}/calendar`, { subject: 'x', start: 'tomorrow', end: '2026-01-01T00:00:00Z' });
    expect(bad).toEqual({ status: 400, json: { error: 'start must be an ISO 8601 date-time' } });
    expect((await api('PUT', '/_sim/faults', { hangRate: 2 })).json.error).toMatch(/between 0 and 1/);
    expect((await api('GET', '/_sim/mailboxes/nobody@contoso.example/folders/calendar')).status).toBe(404);
  });

  it('denies impersonation per mailbox and disables EWS per tenant', async () => {
    await api('PUT', `/_sim/mailboxes/${CAROL}/impersonation`, { allowed: false });
    const denied = await ews();
    expect(denied.status).toBe(500);
    expect(await denied.text()).toContain('ErrorImpersonateUserDenied');
    await api('PUT', `/_sim/mailboxes/${CAROL}/impersonation`, { allowed: true });
    await api('PUT', `/_sim/tenants/${sims.tenantId}/ews`, { enabled: false });
    const off = await ews();
    expect([off.status, await off.text()]).toEqual([403, '']);
    await api('PUT', `/_sim/tenants/${sims.tenantId}/ews`, { enabled: true });
    expect((await ews()).status).toBe(200);
  });
});

describe('faults', () => {
  it('HTTP 503 with Retry-After, and ErrorServerBusy with back-off, for one mailbox only', async () => {
    await api('PUT', `/_sim/mailboxes/${CAROL}/faults`, { http503Rate: 1, retryAfterSeconds: 30 });
    const r = await ews();
    expect([r.status, r.headers.get('retry-after')]).toEqual([503, '30']);
    expect((await ews('alice@contoso.example')).status).toBe(200);
    await api('PUT', `/_sim/mailboxes/${CAROL}/faults`, { http503Rate: 0, serverBusyRate: 1, backOffMs: 5000 });
    const busy = await ews();
    expect(busy.status).toBe(500);
    expect(await busy.text()).toContain('<t:Value Name="BackOffMilliseconds">5000</t:Value>');
  });

  it('malformed answers alternate between an HTML error page and truncated XML', async () => {
    await api('PUT', '/_sim/faults', { malformedRate: 1 });
    const html = await ews();
    expect([html.status, html.headers.get('content-type')]).toEqual([500, 'text/html; charset=utf-8']);
    expect(await html.text()).toContain('<html>');
    const truncated = await ews();
    const text = await truncated.text();
    expect(truncated.status).toBe(200);
    expect(text.startsWith('<?xml')).toBe(true);
    expect(text).not.toContain('</s:Envelope>');
  });

  it('resets the connection, or hangs until the client gives up', async () => {
    await api('PUT', '/_sim/faults', { resetRate: 1 });
    await expect(ews()).rejects.toThrow();
    await api('PUT', '/_sim/faults', { resetRate: 0, hangRate: 1 });
    const aborted = await ews(CAROL, AbortSignal.timeout(300)).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    expect(aborted).toBe('TimeoutError');
    const entries = (await api('GET', `/_sim/requests?mailbox=${CAROL}`)).json;
    expect(entries.some((e: any) => e.fault === 'reset')).toBe(true);
  });

  it('draws faults from a seeded generator: the same seed, the same sequence', async () => {
    const run = async () => {
      await api('PUT', '/_sim/faults', { seed: 99, http503Rate: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await ews()).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([200, 503]));
  });
});

describe('Exchange concurrency budgets', () => {
  it('answers a 6th concurrent SyncFolderItems with ErrorServerBusy (ConcurrentSyncCalls) and a 28th connection with ErrorExceededConnectionCount', async () => {
    // Latency keeps the requests in flight together; the budgets count requests, not time.
    await api('PUT', `/_sim/mailboxes/${CAROL}/faults`, { latencyMs: 1500 });
    const sync =
      '<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>';
    const syncs = await Promise.all(Array.from({ length: 7 }, () => post(sims.ewsUrl, envelope(sync, { impersonate: CAROL }), token)));
    const busy = syncs.filter((r) => r.text.includes('ErrorServerBusy'));
    expect(syncs.every((r) => r.status === 200)).toBe(true);
    expect(busy).toHaveLength(2);
    expect(busy[0].text).toContain("policy part 'ConcurrentSyncCalls'");
    expect(busy[0].text).toContain('<t:Value Name="BackOffMilliseconds">5000</t:Value>');
    expect(busy[0].text).toContain('<m:SyncState/>');
    const many = await Promise.all(Array.from({ length: 28 }, () => ews()));
    const statuses = many.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    const fault = await many.find((r) => r.status === 500)!.text();
    expect(fault).toContain('a:ErrorExceededConnectionCount');
    expect(fault).toContain('<t:Value Name="MaxConcurrencyLimit">27</t:Value>');
    expect(
      await validateAll([
        { label: 'sync-ConcurrentSyncCalls', xml: extractPart(busy[0].text, 'Body') },
        { label: 'fault-ExceededConnectionCount', xml: extractPart(fault, 'Body') },
      ]),
    ).toEqual([]);
  });
});

describe('request log', () => {
  it('records mailbox, operation, status, impersonation and anchor for every request', async () => {
    await api('DELETE', '/_sim/requests');
    await post(sims.ewsUrl, envelope(GET_FOLDER, { impersonate: CAROL }), token, { 'X-AnchorMailbox': CAROL });
    await Promise.all([ews(), ews(), ews()]);
    const entries = sims.ews.requestLog.list(CAROL);
    expect(entries).toHaveLength(4);
    expect(entries[0]).toMatchObject({ mailbox: CAROL, operation: 'GetFolder', status: 200, impersonation: true, anchorMailbox: CAROL });
    expect(entries.every((e) => e.endedAt! >= e.startedAt)).toBe(true);
    expect(sims.ews.requestLog.maxConcurrency(CAROL, new Set(['SyncFolderItems']))).toBe(0);
    expect(sims.ews.requestLog.maxConcurrency(CAROL)).toBeGreaterThanOrEqual(1);
  });
});
