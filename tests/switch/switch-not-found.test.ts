/**
 * Items a switch from EWS to Graph finds nowhere (not by the derived id, exsync's tag nor iCalUId)
 * are counted, not passed over: GET /exchange `transportSwitch` and the mailbox's sync-status carry
 * `itemsNotFound` with the catalogue's cause and fix (SwitchItemsNotFound), while the switch is
 * done and the items are taken as deleted in Exchange. Real API, worker, Postgres, Redis, MSAL and
 * the EWS and Graph simulators over the same mailboxes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '@exsync/canonical';
import { startStack, type Stack } from '../support/stack';
import { crmItems } from './switchWorld';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ graphSim: true });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('items a switch finds nowhere', () => {
  it('are counted with cause and fix on the switch and on the mailbox status', async () => {
    const user = await stack.addUser();
    const mb = encodeURIComponent(user.email);
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    const day = (d: number, h: number) =>
      new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + d, h)).toISOString();
    for (let i = 0; i < 3; i++) {
      const res = await stack.api('PUT', `${base}/appointments/apt-${i}`, {
        subject: `Meeting ${i}`,
        start: day(i + 1, 9),
        end: day(i + 1, 10),
        timeZone: 'Etc/UTC',
        isAllDay: false,
      });
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < 2; i++) {
      expect(
        (await stack.api('PUT', `${base}/contacts/con-${i}`, { givenName: `Given${i}`, surname: 'Kept', emails: [`con${i}@contoso.example`] })).status,
      ).toBe(201);
    }
    expect((await stack.syncNow(user)).state).toBe('healthy');
    const before = (await stack.api('GET', `${base}/sync-status`)).body;
    expect(before.transportSwitch).toBeNull();

    // After the last EWS run: an appointment deleted in Outlook, and a contact moved out and back
    // (a new EWS id) after its tag was removed: neither can be found over Graph.
    const calendar = stack.ews.store.readFolder(user.email, 'calendar');
    const gone = calendar.find((a) => a.fields.Subject === 'Meeting 0')!;
    expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(gone.id)}`)).status).toBe(204);
    const contact = stack.ews.store.readFolder(user.email, 'contacts').find((c) => JSON.stringify(c.fields).includes('con1@contoso.example'))!;
    const untagged = await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(contact.id)}`, {
      extendedProperties: [{ propertySetId: EXSYNC_PROPERTY_SET_ID, propertyName: EXSYNC_LINK_ID_PROPERTY_NAME, value: null }],
    });
    expect(untagged.status).toBe(200);
    const out = await stack.sim('POST', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(contact.id)}/move`, { folder: 'deleteditems' });
    expect(out.status).toBe(200);
    expect((await stack.sim('POST', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(out.body.id)}/move`, { folder: 'contacts' })).status).toBe(200);

    const since = await stack.dbNow();
    expect((await stack.api('PATCH', `/v1/orgs/${stack.orgId}/exchange`, { transport: 'graph' })).status).toBe(200);
    const first = await stack.waitForRunAfter(user, since, 120_000);
    expect(first.lastError).toBeNull();
    expect(first.state).toBe('healthy');

    const sw = (await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body.transportSwitch;
    expect(sw).toMatchObject({ to: 'graph', state: 'done', mailboxesDone: 1, mailboxesTotal: 1, itemsNotFound: 2, notice: { code: 'SwitchItemsNotFound' } });
    expect(sw.notice.message).toMatch(/^2 linked items were found nowhere/);
    expect(sw.notice.message).toContain('merge it with the deleted one in the CRM');
    const status = (await stack.api('GET', `${base}/sync-status`)).body;
    expect(status.transportSwitch).toMatchObject({
      to: 'graph',
      state: 'done',
      itemsNotFound: 2,
      notice: { code: 'SwitchItemsNotFound', message: sw.notice.message },
    });

    // taken as deleted in Exchange: the deleted appointment left the CRM; the moved contact came back as a new CRM item
    const appointments = await crmItems(stack, user, 'appointments');
    expect(appointments.map((a) => a.item.subject).sort()).toEqual(['Meeting 1', 'Meeting 2']);
    const contacts = await crmItems(stack, user, 'contacts');
    expect(contacts.map((c) => c.item.emails[0].address).sort()).toEqual(['con0@contoso.example', 'con1@contoso.example']);
    expect(contacts.find((c) => c.item.emails[0].address === 'con1@contoso.example')!.crmId).not.toBe('con-1');

    // the count stays with the switch; the next run writes nothing
    const quiet = await stack.syncNow(user);
    expect(quiet.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
    expect(quiet.transportSwitch).toMatchObject({ itemsNotFound: 2 });
  }, 240_000);
});
