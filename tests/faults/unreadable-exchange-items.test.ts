/**
 * An Exchange item that cannot be read (a per-item error answer) never stops its mailbox, and never
 * leaves it healthy: new items (an appointment and a contact exsync has never read) and an Outlook
 * edit of a linked item are named on the status (`degraded`, itemErrors: the Exchange id or the CRM
 * id, the code, cause and fix) while the rest syncs; the status is healthy again once they read
 * fine (their back-off ended) or are gone. Over both transports: EWS (GetItem answers the item with
 * ResponseClass="Error") and Graph (the item's GET answers 400, inside a `$batch` too). Real API,
 * worker, Postgres, Redis, MSAL and the simulators (`PUT /_sim/mailboxes/:email/item-faults`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';

const MARK = 'unreadable-mark';
const CODE = 'ErrorCorruptData';

describe.each(['ews', 'graph'] as const)('unreadable Exchange items over %s', (transport) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ transport });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('show on the status with item, cause and fix, and leave it once they read fine or are gone', async () => {
    const user = await stack.addUser();
    const mb = encodeURIComponent(user.email);
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    const day = (d: number, h: number) =>
      new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + d, h)).toISOString();
    expect(
      (await stack.api('PUT', `${base}/appointments/linked`, { subject: 'Linked', start: day(2, 9), end: day(2, 10), timeZone: 'Etc/UTC', isAllDay: false }))
        .status,
    ).toBe(201);
    expect((await stack.syncNow(user)).state).toBe('healthy');
    const linked = stack.ews.store.readFolder(user.email, 'calendar').find((a) => a.fields.Subject === 'Linked')!;

    expect((await stack.sim('PUT', `/_sim/mailboxes/${mb}/item-faults`, { refuse: [{ contains: MARK, code: CODE }] })).status).toBeLessThan(300);
    const newApt = await stack.sim('POST', `/_sim/mailboxes/${mb}/calendar`, { subject: `${MARK} new`, start: day(3, 9), end: day(3, 10) });
    const newContact = await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: MARK, surname: 'New', emails: ['new@contoso.example'] });
    const goneContact = await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: MARK, surname: 'Gone', emails: ['gone@contoso.example'] });
    const neighbour = await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: 'Readable', surname: 'Neighbour', emails: ['n@contoso.example'] });
    for (const r of [newApt, newContact, goneContact, neighbour]) expect(r.status).toBe(201);
    expect((await stack.sim('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(linked.id)}`, { subject: `${MARK} edited` })).status).toBe(200);

    // the run goes on, the rest syncs, and the mailbox is degraded with each item named
    const degraded = await stack.syncNow(user);
    expect(degraded.lastError).toBeNull();
    expect(degraded.state).toBe('degraded');
    expect(degraded.itemErrors.count).toBe(4);
    const listed = (await stack.api('GET', `${base}/item-errors`)).body.items as {
      kind: string;
      crmId: string | null;
      ewsItemId?: string;
      code: string;
      message: string;
    }[];
    expect(listed).toHaveLength(4);
    expect(listed.every((e) => e.code === CODE)).toBe(true);
    const newOnes = listed.filter((e) => e.crmId === null);
    expect(newOnes.map((e) => e.kind).sort()).toEqual(['appointment', 'contact', 'contact']);
    for (const e of newOnes) {
      expect(e.message).toContain(`Exchange id ${e.ewsItemId}`);
      expect(e.message).toContain('Open it in Outlook and correct or delete it');
    }
    expect(listed.find((e) => e.crmId === 'linked')).toMatchObject({ kind: 'appointment', code: CODE });
    expect(degraded.itemErrors.first.map((e: { crmId: string | null }) => e.crmId)).toContain(null);
    const contacts = async () =>
      (await stack.api('GET', `${base}/contacts?limit=1000`)).body.items.map((c: { item: { surname?: string } }) => c.item.surname).sort();
    expect(await contacts()).toEqual(['Neighbour']);

    // one is deleted in Outlook: gone, it leaves the status at the next run (no back-off to wait for)
    const goneItem = stack.ews.store.readFolder(user.email, 'contacts').find((c) => JSON.stringify(c.fields).includes('gone@contoso.example'))!;
    expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(goneItem.id)}`)).status).toBe(204);
    const stillDegraded = await stack.syncNow(user);
    expect(stillDegraded.state).toBe('degraded');
    expect(stillDegraded.itemErrors.count).toBe(3);

    // Exchange reads them again: once their back-off ends (standing for 5 minutes passing) they are read, synced, and the status is healthy
    await stack.sim('PUT', `/_sim/mailboxes/${mb}/item-faults`, { refuse: [] });
    await stack.pool.query(`UPDATE exchange_read_errors SET next_at = now() WHERE mailbox_id = $1`, [user.mailboxId]);
    const healthy = await stack.syncNow(user);
    expect(healthy.state).toBe('healthy');
    expect(healthy.itemErrors.count).toBe(0);
    expect((await stack.api('GET', `${base}/item-errors`)).body.items).toEqual([]);
    expect(await contacts()).toEqual(['Neighbour', 'New']);
    const subjects = (await stack.api('GET', `${base}/appointments?limit=1000`)).body.items.map((a: { item: { subject: string } }) => a.item.subject).sort();
    expect(subjects).toEqual([`${MARK} edited`, `${MARK} new`]);
    const quiet = await stack.syncNow(user);
    expect(quiet.state).toBe('healthy');
    expect(quiet.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
  }, 180_000);
});
