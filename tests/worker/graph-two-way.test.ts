import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStackWithUser } from '../support/stack';

/**
 * An organisation on the Graph transport, end to end: the API, Redis, the worker and the
 * simulators (Graph over the EWS simulator's mailboxes). Both directions for appointments and
 * contacts, a quiet run that writes nothing, and not one EWS request for the mailbox.
 */
let stack: Stack;
let user: StackUser;
useStackWithUser(
  (s, u) => {
    stack = s;
    user = u;
  },
  { transport: 'graph' },
);

const inDays = (d: number, hour: number) => {
  const t = new Date(Date.now() + d * 86_400_000);
  t.setUTCHours(hour, 0, 0, 0);
  return t.toISOString().replace('.000Z', 'Z');
};

const graphLog = () => stack.ews.requestLog.list(user.email, 'graph');
const isWrite = (op: string | undefined) => !!op && /(^|\s)(POST|PATCH|DELETE) /.test(op);

describe('an organisation on Graph', () => {
  it('stores the transport and tests the connection over Graph', async () => {
    const settings = await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`);
    expect(settings.body).toMatchObject({ transport: 'graph', graphUrl: stack.graph!.url });
    const test = await stack.api('POST', `/v1/orgs/${stack.orgId}/exchange/test`, { mailbox: user.email });
    expect(test.body.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['settings', true],
      ['token', true],
      ['graph', true],
    ]);
    // the organisation has synced: a plain transport change would duplicate, so it is refused
    const change = await stack.api('PATCH', `/v1/orgs/${stack.orgId}/exchange`, { transport: 'ews' });
    expect(change).toMatchObject({ status: 409, body: { field: 'transport' } });
  });

  it('checks transport and graphUrl like every endpoint setting', async () => {
    const url = `/v1/orgs/${stack.orgId}/exchange`;
    expect(await stack.api('PATCH', url, { graphUrl: 'https://graph.evil.example' })).toMatchObject({ status: 400, body: { field: 'graphUrl' } });
    expect((await stack.api('PATCH', url, { transport: 'imap' })).status).toBe(400);
    // a changed graphUrl needs the secret again, as ewsUrl does
    expect(await stack.api('PATCH', url, { graphUrl: 'http://localhost:9' })).toMatchObject({ status: 422, body: { field: 'clientSecret' } });
    // an organisation that never synced changes transport freely; Graph's default root is Microsoft's
    const org = await stack.api('POST', '/v1/orgs', { name: 'Fresh org' });
    const fresh = `/v1/orgs/${org.body.id}/exchange`;
    const put = await stack.api('PUT', fresh, { applicationId: stack.tenantId, tenantId: stack.tenantId, clientSecret: 's', transport: 'graph' });
    expect(put).toMatchObject({ status: 200, body: { transport: 'graph', graphUrl: 'https://graph.microsoft.com' } });
    // Graph runs in delegated mode too (tests/login/graph-delegated-sync.test.ts)
    expect(await stack.api('PATCH', fresh, { authMode: 'delegated' })).toMatchObject({ status: 200, body: { transport: 'graph', authMode: 'delegated' } });
    expect(await stack.api('PATCH', fresh, { transport: 'ews' })).toMatchObject({ status: 200, body: { transport: 'ews' } });
    // PUT without transport keeps the stored one
    const again = await stack.api('PUT', fresh, { applicationId: stack.tenantId, tenantId: stack.tenantId });
    expect(again.body.transport).toBe('ews');
  });

  it('syncs CRM writes to the mailbox and Outlook edits to the CRM, two ways, over Graph only', async () => {
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    const mb = encodeURIComponent(user.email);
    const appointment = {
      subject: 'Graph review',
      body: 'Agenda',
      location: 'Room 9',
      start: inDays(5, 9),
      end: inDays(5, 10),
      timeZone: 'Europe/Berlin',
      isAllDay: false,
    };
    const contact = { givenName: 'Fox', surname: 'Mulder', emails: ['fox@fbi.example'], phones: { mobile: '+1 555 0101' }, addresses: {} };
    expect((await stack.api('PUT', `${base}/appointments/apt-g1`, appointment)).status).toBe(201);
    expect((await stack.api('PUT', `${base}/contacts/con-g1`, contact)).status).toBe(201);
    let status = await stack.syncNow(user);
    expect(status.state).toBe('healthy');
    expect(status.counts.toExchange.created).toBe(2);
    const cal = stack.ews.store.readFolder(user.email, 'calendar');
    expect(cal).toHaveLength(1);
    expect(cal[0].fields).toMatchObject({ Subject: 'Graph review', Location: 'Room 9' });
    expect(stack.ews.store.readFolder(user.email, 'contacts')).toHaveLength(1);
    // the run's metrics name the organisation's transport
    const metrics = await stack.workers[0].metrics.metrics();
    expect(metrics).toMatch(/exsync_sync_items_total\{[^}]*transport="graph"[^}]*\} 1/);
    expect(metrics).toMatch(/exsync_transport_requests_total\{transport="graph"/);
    expect(metrics).not.toMatch(/transport="ews"/);

    // a person in Outlook: a new appointment and an edit of ours
    const apt = await stack.sim('POST', `/_sim/mailboxes/${mb}/calendar`, { subject: 'Lunch', start: inDays(6, 12), end: inDays(6, 13), location: 'Diner' });
    expect(apt.status).toBe(201);
    expect((await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(cal[0].id)}`, { subject: 'Graph review (moved)' })).status).toBe(200);
    status = await stack.syncNow(user);
    expect(status.counts.toCrm).toMatchObject({ created: 1, updated: 1 });
    const apts = (await stack.api('GET', `${base}/appointments`)).body.items;
    expect(apts.map((a: { item: { subject: string } }) => a.item.subject).sort()).toEqual(['Graph review (moved)', 'Lunch']);

    // a quiet run: nothing written on either side
    const mark = graphLog().length;
    status = await stack.syncNow(user);
    expect(status.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
    expect(
      graphLog()
        .slice(mark)
        .filter((e) => isWrite(e.operation)),
    ).toEqual([]);

    // deletes both ways
    expect((await stack.api('DELETE', `${base}/contacts/con-g1`)).status).toBe(200);
    expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(apt.body.id)}`)).status).toBe(204);
    status = await stack.syncNow(user);
    expect(status.counts.toExchange.deleted).toBe(1);
    expect(status.counts.toCrm.deleted).toBe(1);
    expect(stack.ews.store.readFolder(user.email, 'contacts')).toHaveLength(0);
    expect((await stack.api('GET', `${base}/appointments`)).body.items).toHaveLength(1);

    // the mailbox never saw EWS
    expect(stack.ews.requestLog.list(user.email, 'ews')).toEqual([]);
  });
});
