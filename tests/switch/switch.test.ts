/**
 * The switch of an organisation from EWS to Graph with every link kept (issue 16, point 4), end to
 * end: the API, Redis, the worker, MSAL against the Entra simulator, the EWS and Graph simulators
 * over the same mailboxes, at the full size: 1,000 appointments (10% recurring) + 500
 * contacts (about 10 s on the 2-core machine, so no smaller default is needed).
 */
import { describe, expect, it } from 'vitest';
import { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '@exsync/canonical';
import { type Stack, type StackUser, startStack, useStack } from '../support/stack';
import { crmItems, expectConverged, expectedFirstRun, isItemWrite, linkCount, syncedOverEwsWithPendingEdits, type WorldSize } from './switchWorld';

const SIZE: WorldSize = { appointments: 1000, contacts: 500 };
const NONE = { created: 0, updated: 0, deleted: 0 };

let stack: Stack;
useStack((s) => (stack = s), { graphSim: true });

const graphWrites = (user: StackUser) => stack.ews.requestLog.list(user.email, 'graph').filter((e) => isItemWrite(e.operation));
const exchangeUrl = () => `/v1/orgs/${stack.orgId}/exchange`;

describe('switching an organisation from EWS to Graph', () => {
  let user: StackUser;

  it(`keeps every link: ${SIZE.appointments} appointments + ${SIZE.contacts} contacts, edits pending on both sides`, async () => {
    user = await stack.addUser();
    const edits = await syncedOverEwsWithPendingEdits(stack, user, SIZE, () => stack.syncNow(user, { timeoutMs: 120_000 }));
    const ewsRequests = stack.ews.requestLog.list(user.email, 'ews').length;

    const since = await stack.dbNow();
    const change = await stack.api('PATCH', exchangeUrl(), { transport: 'graph' });
    expect(change.status).toBe(200);
    expect(change.body).toMatchObject({ transport: 'graph', transportSwitch: { to: 'graph', state: 'running', mailboxesDone: 0, mailboxesTotal: 1 } });
    // a change while it runs is refused, naming the field
    const again = await stack.api('PATCH', exchangeUrl(), { transport: 'ews' });
    expect(again).toMatchObject({ status: 409, body: { field: 'transport' } });

    // the switch step and the first Graph run, in the job the change queued
    const first = await stack.waitForRunAfter(user, since, 180_000);
    expect(first.state).toBe('healthy');
    expect((await stack.api('GET', exchangeUrl())).body.transportSwitch).toEqual({ to: 'graph', state: 'done', mailboxesDone: 1, mailboxesTotal: 1 });
    // no item writes beyond the pending edits, on either side (the simulator's log and the run's counts)
    const want = expectedFirstRun(edits);
    expect(first.counts).toMatchObject({ ...want, conflicts: 0 });
    const writes = graphWrites(user);
    expect(writes.map((w) => w.operation).sort()).toEqual(
      [...Array(edits.crmAppointments.size).fill('$batch PATCH event'), ...Array(edits.crmContacts.size).fill('$batch PATCH contact'), 'POST contacts'].sort(),
    );
    expect(stack.ews.requestLog.list(user.email, 'ews')).toHaveLength(ewsRequests);

    // the second run writes nothing
    const second = await stack.syncNow(user, { timeoutMs: 120_000 });
    expect(second.counts).toMatchObject({ toExchange: NONE, toCrm: NONE, conflicts: 0 });
    expect(graphWrites(user)).toHaveLength(writes.length);
    expect(second.transport ?? 'graph').toBe('graph');
    await expectConverged(stack, user, SIZE, edits);
    expect(stack.ews.requestLog.list(user.email, 'ews')).toHaveLength(ewsRequests);
  }, 300_000);

  it('refuses to switch back to EWS once mailboxes synced over Graph, naming the field', async () => {
    expect(await stack.api('PATCH', exchangeUrl(), { transport: 'ews' })).toMatchObject({ status: 409, body: { field: 'transport' } });
  });
});

describe('the fallbacks of item resolution, and moves after the switch', () => {
  it('finds a moved item by its tag, an untagged moved appointment by its iCalUId, and keeps immutable ids across moves', async () => {
    const local = await startStack({ graphSim: true });
    try {
      const user = await local.addUser();
      const mb = encodeURIComponent(user.email);
      const base = `/v1/orgs/${local.orgId}/users/${user.userId}`;
      const start = (d: number) =>
        new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + d, 9)).toISOString().replace('.000Z', 'Z');
      // Etc/UTC: Graph reads a CRM's "UTC" back as Etc/UTC (one zone, two names), which a later edit would carry to the CRM
      for (let i = 0; i < 4; i++) {
        expect(
          (
            await local.api('PUT', `${base}/appointments/apt-${i}`, {
              subject: `Meeting ${i}`,
              start: start(i + 1),
              end: start(i + 1).replace('T09', 'T10'),
              timeZone: 'Etc/UTC',
              isAllDay: false,
            })
          ).status,
        ).toBe(201);
      }
      expect((await local.api('PUT', `${base}/contacts/con-0`, { givenName: 'Dana', surname: 'Scully', emails: ['dana@fbi.example'] })).status).toBe(201);
      const outlook = await local.sim('POST', `/_sim/mailboxes/${mb}/calendar`, {
        subject: 'Made in Outlook',
        start: start(6),
        end: start(6).replace('T09', 'T10'),
      });
      await local.syncNow(user);
      // an edit in Outlook: exsync reads the item, and its link learns the iCalUId
      const cal0 = local.ews.store.readFolder(user.email, 'calendar').find((a) => a.fields.Subject === 'Meeting 1')!;
      expect((await local.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(cal0.id)}`, { location: 'Room 1' })).status).toBe(200);
      await local.syncNow(user);
      expect((await local.syncNow(user)).counts).toMatchObject({ toExchange: NONE, toCrm: NONE });
      const cal = () => local.ews.store.readFolder(user.email, 'calendar');
      const bySubject = (s: string) => cal().find((a) => a.fields.Subject === s)!;
      const linksBefore = await linkCount(local, user);

      // after the last EWS run: moved out and back (a new EWS id, as Exchange gives), one also losing its tag
      const move = async (id: string) => {
        const out = await local.sim('POST', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(id)}/move`, { folder: 'deleteditems' });
        expect(out.status).toBe(200);
        const back = await local.sim('POST', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(out.body.id)}/move`, { folder: 'calendar' });
        expect(back.status).toBe(200);
        return back.body.id as string;
      };
      const tagged = bySubject('Meeting 0');
      const taggedNewId = await move(tagged.id);
      expect(taggedNewId).not.toBe(tagged.id);
      const untagged = bySubject('Meeting 1');
      expect(untagged.extendedProperties.some((p) => p.propertyName === EXSYNC_LINK_ID_PROPERTY_NAME)).toBe(true);
      const removed = await local.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(untagged.id)}`, {
        extendedProperties: [{ propertySetId: EXSYNC_PROPERTY_SET_ID, propertyName: EXSYNC_LINK_ID_PROPERTY_NAME, value: null }],
      });
      expect(removed.body.extendedProperties.some((p: { propertyName: string }) => p.propertyName === EXSYNC_LINK_ID_PROPERTY_NAME)).toBe(false);
      await move(untagged.id);
      // an Outlook item (never tagged) that moved: its iCalUId finds it
      await move(outlook.body.id);

      const since = await local.dbNow();
      expect((await local.api('PATCH', `/v1/orgs/${local.orgId}/exchange`, { transport: 'graph' })).status).toBe(200);
      const first = await local.waitForRunAfter(user, since, 120_000);
      expect(first.counts).toMatchObject({ toExchange: NONE, toCrm: NONE, conflicts: 0 });
      expect((await local.api('GET', `/v1/orgs/${local.orgId}/exchange`)).body.transportSwitch).toMatchObject({ state: 'done', mailboxesDone: 1 });
      expect(local.ews.requestLog.list(user.email, 'graph').filter((e) => isItemWrite(e.operation))).toEqual([]);
      const links = async () =>
        (await local.pool.query(`SELECT crm_id, ews_item_id, previous_item_id FROM item_links WHERE mailbox_id = $1 ORDER BY crm_id`, [user.mailboxId])).rows;
      const after = await links();
      expect(after).toHaveLength(linksBefore);
      expect(after.filter((l) => !l.ews_item_id || l.ews_item_id.startsWith('missing:'))).toEqual([]);

      // after the switch: moved out and back between two Graph runs; its immutable id holds
      const moving = bySubject('Meeting 2');
      await move(moving.id);
      const quiet = await local.syncNow(user);
      expect(quiet.counts).toMatchObject({ toExchange: NONE, toCrm: NONE });
      expect(await links()).toEqual(after);
      expect(cal()).toHaveLength(5);
      const crm = await crmItems(local, user, 'appointments');
      expect(crm.map((a) => a.item.subject).sort()).toEqual(['Made in Outlook', 'Meeting 0', 'Meeting 1', 'Meeting 2', 'Meeting 3']);
      // an edit reaches the CRM through the id found by each fallback
      for (const s of ['Meeting 0', 'Meeting 1', 'Made in Outlook']) {
        expect((await local.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(bySubject(s).id)}`, { location: `Edited ${s}` })).status).toBe(200);
      }
      const edited = await local.syncNow(user);
      expect(edited.counts).toMatchObject({ toExchange: NONE, toCrm: { created: 0, updated: 3, deleted: 0 } });
      expect(await linkCount(local, user)).toBe(linksBefore);
    } finally {
      await local.close();
    }
  }, 240_000);
});

describe('a switch that fails', () => {
  it('leaves the mailbox on EWS with the cause from the catalogue, and a later save retries it', async () => {
    const local = await startStack({ graphSim: true });
    try {
      const user = await local.addUser();
      const base = `/v1/orgs/${local.orgId}/users/${user.userId}`;
      expect((await local.api('PUT', `${base}/contacts/c-1`, { givenName: 'Walter', surname: 'Skinner', emails: ['walter@fbi.example'] })).status).toBe(201);
      await local.syncNow(user);
      // RBAC for Applications leaves this mailbox out of the app's reach over Graph
      expect((await local.sim('PUT', `/_sim/tenants/${local.tenantId}/graph-scope`, { mailboxes: [] })).status).toBe(200);
      const since = await local.dbNow();
      expect((await local.api('PATCH', `/v1/orgs/${local.orgId}/exchange`, { transport: 'graph' })).status).toBe(200);
      await local.waitForRunAfter(user, since, 120_000);
      const failed = (await local.api('GET', `/v1/orgs/${local.orgId}/exchange`)).body.transportSwitch;
      expect(failed).toMatchObject({
        to: 'graph',
        state: 'failed',
        mailboxesDone: 0,
        mailboxesTotal: 1,
        error: { code: expect.any(String), message: expect.any(String) },
      });
      expect(failed.error.message).not.toMatch(/https?:|127\.0\.0\.1/);
      // still on EWS: an edit in the CRM goes out over EWS
      const ewsBefore = local.ews.requestLog.list(user.email, 'ews').length;
      expect(
        (
          await local.api('PUT', `${base}/contacts/c-1`, {
            givenName: 'Walter',
            surname: 'Skinner',
            jobTitle: 'Assistant Director',
            emails: ['walter@fbi.example'],
          })
        ).status,
      ).toBe(200);
      const onEws = await local.syncNow(user);
      expect(onEws).toMatchObject({ state: 'healthy', counts: { toExchange: { updated: 1 } } });
      expect(local.ews.requestLog.list(user.email, 'ews').length).toBeGreaterThan(ewsBefore);
      const links = (await local.pool.query(`SELECT ews_item_id, previous_item_id FROM item_links WHERE mailbox_id = $1`, [user.mailboxId])).rows;
      expect(links).toEqual([{ ews_item_id: local.ews.store.readFolder(user.email, 'contacts')[0].id, previous_item_id: null }]);

      // fixed, and saved again: the switch is retried and completes
      expect((await local.sim('PUT', `/_sim/tenants/${local.tenantId}/graph-scope`, { mailboxes: null })).status).toBe(200);
      const again = await local.dbNow();
      expect((await local.api('PATCH', `/v1/orgs/${local.orgId}/exchange`, { transport: 'graph' })).body.transportSwitch).toMatchObject({ state: 'running' });
      const first = await local.waitForRunAfter(user, again, 120_000);
      expect(first.counts).toMatchObject({ toExchange: NONE, toCrm: NONE });
      expect((await local.api('GET', `/v1/orgs/${local.orgId}/exchange`)).body.transportSwitch).toEqual({
        to: 'graph',
        state: 'done',
        mailboxesDone: 1,
        mailboxesTotal: 1,
      });
    } finally {
      await local.close();
    }
  }, 240_000);
});
