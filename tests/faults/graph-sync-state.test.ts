/**
 * Graph's delta state expiring under the real stack (410 Gone SyncStateNotFound, as Outlook answers
 * a token it no longer keeps): once in the middle of a contacts round (after its first page, with
 * deletes on both sides pending), once at the start of a calendar round with deletes pending. The
 * worker starts the folder over (as for EWS's SyncStateInvalid) and converges; no deleted item
 * comes back on either side, nothing is lost or duplicated.
 */
import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStack } from '../support/stack';
import { measure } from './collector';
import { addItems, compareStores, converge, emptyExpected, expectSame, userBase, type Expected } from './graphFaultKit';

let stack: Stack;
useStack((s) => (stack = s), { transport: 'graph' });

/** Deletes `n` items of each origin on each side: CRM-made ones in Outlook and in the CRM, Outlook-made ones likewise. */
async function deleteSome(user: StackUser, expected: Expected, kind: 'contacts' | 'appointments', n: number): Promise<void> {
  const base = userBase(stack, user);
  const mb = encodeURIComponent(user.email);
  const folder = stack.ews.store.readFolder(user.email, kind === 'contacts' ? 'contacts' : 'calendar');
  const nameOf = (fields: unknown) =>
    kind === 'contacts' ? JSON.stringify(fields).match(/[a-z]+\d+@(fabrikam|contoso)\.example/)?.[0] : String((fields as Record<string, unknown>).Subject);
  const crmList = (await stack.api('GET', `${base}/${kind}?limit=1000`)).body.items as { id?: string; crmId?: string; item: any }[];
  const crmName = (x: { item: any }) => (kind === 'contacts' ? x.item.emails[0]?.address : x.item.subject);
  for (const origin of ['crm', 'outlook']) {
    const names = [...(kind === 'contacts' ? expected.contacts : expected.subjects)].filter((x) => x.toLowerCase().startsWith(origin));
    // the first n in Outlook, the next n in the CRM
    for (const name of names.slice(0, n)) {
      const item = folder.find((i) => nameOf(i.fields) === name);
      expect(item, name).toBeDefined();
      expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(item!.id)}`)).status).toBe(204);
      (kind === 'contacts' ? expected.contacts : expected.subjects).delete(name);
    }
    for (const name of names.slice(n, 2 * n)) {
      const row = crmList.find((x) => crmName(x) === name) as Record<string, unknown> | undefined;
      expect(row, name).toBeDefined();
      const crmId = String(row!.crmId ?? row!.id);
      expect((await stack.api('DELETE', `${base}/${kind}/${encodeURIComponent(crmId)}`)).status).toBe(200);
      (kind === 'contacts' ? expected.contacts : expected.subjects).delete(name);
    }
  }
}

describe('Graph delta state expired (410 SyncStateNotFound)', () => {
  it('mid-round and at a round start: restarts the folder, converges, resurrects no delete', async () => {
    await measure('Graph 410 SyncStateNotFound mid-round (contacts) and at round start (calendar), deletes pending both sides', async (setFigure) => {
      const user = await stack.addUser();
      await stack.waitForRunAfter(user, new Date(0), 60_000);
      const expected = emptyExpected();
      await addItems(stack, user, expected, 0, { crm: 120, outlook: 40, crmAppointments: 8, outlookAppointments: 8 });
      expect((await converge(stack, user)).converged).toBe(true);

      // Deletes on both sides and more than a page (100) of new contacts, then the tokens expire
      // as soon as a contacts round hands out its first next-page link: that page answers 410.
      const email = user.email.toLowerCase();
      const log = stack.ews.requestLog;
      const tokens = stack.graph!.state.delta;
      const encode = tokens.encode.bind(tokens);
      let expiredAt: number | undefined;
      tokens.encode = (chain, generation, page) => {
        const token = encode(chain, generation, page);
        if (expiredAt === undefined && page !== undefined && chain.kind === 'contacts' && chain.mailbox === email) {
          expiredAt = log.list().at(-1)?.seq ?? 0;
          // once this answer has gone out, before the client can ask for the next page
          setImmediate(() => tokens.expire(email));
        }
        return token;
      };
      await deleteSome(user, expected, 'contacts', 6);
      // CRM writes start runs: the new Outlook contacts land at once (one synchronous loop on the
      // in-process store), so whichever round sees them has more than a page
      for (let i = 1000; i < 1110; i++) {
        stack.ews.store.createContact(user.email, { givenName: `Outlook${i}`, surname: 'Contact', emails: [`outlook${i}@contoso.example`] });
        expected.contacts.add(`outlook${i}@contoso.example`);
      }
      await addItems(stack, user, expected, 1000, { crm: 10, outlook: 0 });
      let midRound;
      try {
        midRound = await converge(stack, user);
      } finally {
        tokens.encode = encode;
      }
      const gone = log.list(email, 'graph').filter((e) => e.status === 410 && expiredAt !== undefined && e.seq > expiredAt);
      expect(expiredAt).toBeDefined();
      expect(gone.length).toBeGreaterThan(0);
      // the same run's next contacts page met it (the next run would begin with the calendar)
      expect(gone[0].operation).toBe('GET contacts/delta');
      expect(midRound.converged).toBe(true);
      const afterContacts = await compareStores(stack, user, expected);
      expectSame(afterContacts, expected);

      // Calendar: deletes on both sides pending when the tokens are gone; the next round starts with a 410.
      await deleteSome(user, expected, 'appointments', 2);
      expect((await stack.sim('DELETE', `/_sim/mailboxes/${encodeURIComponent(user.email)}/graph-delta-tokens`)).status).toBe(200);
      const mark = log.list(email, 'graph').length;
      const atStart = await converge(stack, user);
      const gone2 = log
        .list(email, 'graph')
        .slice(mark)
        .filter((e) => e.status === 410);
      expect(atStart.converged).toBe(true);
      expect(gone2.length).toBeGreaterThan(0);

      const c = await compareStores(stack, user, expected);
      setFigure(
        `${expected.contacts.size} contacts + ${expected.subjects.size} appointments, 24 contact and 8 appointment deletes pending; 410s: ${gone.length} mid-round, ${gone2.length} at round start; converged after ${midRound.runs} + ${atStart.runs} runs; lost ${c.lost}, duplicates ${c.duplicates}, resurrected/extra ${c.extra}`,
      );
      expectSame(c, expected);
    });
  }, 600_000);
});
