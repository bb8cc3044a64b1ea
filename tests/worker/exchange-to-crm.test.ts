import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStackWithUser, waitFor } from '../support/stack';

let stack: Stack;
let user: StackUser;
useStackWithUser((s, u) => {
  stack = s;
  user = u;
});

const WRITES = ['CreateItem', 'UpdateItem', 'DeleteItem'];

describe('Outlook edits reach the CRM, and nothing echoes', () => {
  it('an appointment and a contact made, edited and deleted in Outlook show in the CRM API and the change feed', async () => {
    const mb = encodeURIComponent(user.email);
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    const feedStart = (await stack.api('GET', `/v1/orgs/${stack.orgId}/changes?limit=1000`)).body.next;

    const apt = await stack.sim('POST', `/_sim/mailboxes/${mb}/calendar`, {
      subject: 'Lunch with Fox',
      start: '2026-12-03T12:00:00Z',
      end: '2026-12-03T13:00:00Z',
      location: 'Diner',
    });
    expect(apt.status).toBe(201);
    const con = await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, {
      givenName: 'Walter',
      surname: 'Skinner',
      emails: [{ address: 'skinner@fbi.example' }],
      companyName: 'FBI',
    });
    expect(con.status).toBe(201);

    let status = await stack.syncNow(user);
    expect(status.counts.toCrm.created).toBe(2);
    const apts = (await stack.api('GET', `${base}/appointments`)).body.items;
    expect(apts).toHaveLength(1);
    expect(apts[0]).toMatchObject({ origin: 'exchange', item: { subject: 'Lunch with Fox', location: 'Diner', start: '2026-12-03T12:00:00Z' } });
    const cons = (await stack.api('GET', `${base}/contacts`)).body.items;
    expect(cons).toHaveLength(1);
    expect(cons[0].item).toMatchObject({ givenName: 'Walter', surname: 'Skinner', emails: [{ address: 'skinner@fbi.example' }] });

    // The second sync changes nothing anywhere: no write to Exchange, nothing new for the CRM.
    const before = stack.ews.requestLog.list(user.email).length;
    status = await stack.syncNow(user);
    expect(status.counts).toEqual({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0 });
    const ops = stack.ews.requestLog
      .list(user.email)
      .slice(before)
      .map((e) => e.operation);
    expect(ops.length).toBeGreaterThan(0);
    for (const op of WRITES) expect(ops).not.toContain(op);

    // Edits in Outlook
    expect((await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(apt.body.id)}`, { subject: 'Lunch with Fox and Dana' })).status).toBe(
      200,
    );
    expect((await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(con.body.id)}`, { jobTitle: 'Assistant Director' })).status).toBe(200);
    status = await stack.syncNow(user);
    expect(status.counts.toCrm.updated).toBe(2);
    expect(status.counts.toExchange).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect((await stack.api('GET', `${base}/appointments/${apts[0].crmId}`)).body.item.subject).toBe('Lunch with Fox and Dana');
    expect((await stack.api('GET', `${base}/contacts/${cons[0].crmId}`)).body.item.jobTitle).toBe('Assistant Director');

    // Deletes in Outlook
    expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(apt.body.id)}`)).status).toBe(204);
    status = await stack.syncNow(user);
    expect(status.counts.toCrm.deleted).toBe(1);
    expect((await stack.api('GET', `${base}/appointments/${apts[0].crmId}`)).status).toBe(404);

    // The change feed holds each Exchange-originated change in order. It only shows rows older than
    // every open transaction on the server, so poll as a CRM would.
    const feed = await waitFor('five changes in the feed', async () => {
      const page = (await stack.api('GET', `/v1/orgs/${stack.orgId}/changes?limit=1000${feedStart ? `&after=${feedStart}` : ''}`)).body.changes
        .filter((c: { userId: string }) => c.userId === user.userId)
        .map((c: { kind: string; op: string; crmId: string }) => `${c.kind}:${c.op}:${c.crmId}`);
      return page.length >= 5 ? page : false;
    });
    expect(feed).toEqual([
      expect.stringMatching(/^(appointment|contact):upsert:/),
      expect.stringMatching(/^(appointment|contact):upsert:/),
      expect.stringMatching(/^(appointment|contact):upsert:/),
      expect.stringMatching(/^(appointment|contact):upsert:/),
      `appointment:delete:${apts[0].crmId}`,
    ]);

    // And once more: silence.
    const mark = stack.ews.requestLog.list(user.email).length;
    status = await stack.syncNow(user);
    expect(status.counts.toExchange).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(status.counts.toCrm).toEqual({ created: 0, updated: 0, deleted: 0 });
    for (const op of WRITES)
      expect(
        stack.ews.requestLog
          .list(user.email)
          .slice(mark)
          .map((e) => e.operation),
      ).not.toContain(op);
  });
});
