import { describe, expect, it } from 'vitest';
import type { Contact, CrmItemRow, LinkRow } from '@exsync/canonical';
import { planPending, planPendingWrite, planPush } from '../../packages/sync-engine/src/push';
import { syncedContent } from '../../packages/sync-engine/src/syncedContent';
import { crmRow, linkRow } from '../support/engineRows';

const person: Contact = { givenName: 'Ada', surname: 'Lovelace', emails: [{ address: 'ada@fabrikam.example' }], phones: {}, addresses: {} };
const row = (patch: Partial<CrmItemRow> = {}): CrmItemRow => crmRow({ version: 2, data: person, ...patch });
const link = (patch: Partial<LinkRow> = {}): LinkRow => linkRow({ crmVersion: 1, snapshot: syncedContent('contact', person), ...patch });
const two = { kind: 'contact' as const, policy: 'newest-wins' as const, direction: 'two-way' as const };

describe('planPush: a CRM change becomes one push action', () => {
  it.each([
    ['an unlinked CRM item', row(), null, 'create'],
    ['an edit', row({ data: { ...person, jobTitle: 'CTO' } }), link(), 'update'],
    ['an edit back to the snapshot (an echo)', row(), link(), 'refreshLink'],
    ['a tombstone', row({ data: null, deleted: true }), link(), 'delete'],
    ['an item that cannot be mapped', row({ data: { ...person, birthday: 'not a date' } as never }), link(), 'fail'],
  ] as const)('%s -> %s', (_name, r, l, type) => {
    expect(planPush(two, r, l).type).toBe(type);
  });

  it('exchange-to-crm: a CRM delete is undone in the CRM, an edit only moves the link', () => {
    const direction = 'exchange-to-crm' as const;
    expect(planPush({ ...two, direction }, row({ data: null, deleted: true }), link())).toMatchObject({ type: 'restoreInCrm' });
    expect(planPush({ ...two, direction }, row({ data: { ...person, jobTitle: 'CTO' } }), link())).toMatchObject({
      type: 'refreshLink',
      link: { crmVersion: 2 },
    });
    expect(planPush({ ...two, direction }, row(), null)).toEqual({ type: 'none' });
  });

  it('a create is planned with a new pending link measured against the content sent', () => {
    const a = planPush(two, row(), null);
    expect(a).toMatchObject({ type: 'create', link: { crmId: 'c-1', ewsItemId: null, crmVersion: 2, snapshot: syncedContent('contact', person) } });
  });
});

describe('planPending: a pending create after a crash or a restore', () => {
  const pending = link({ ewsItemId: null, ewsChangeKey: null });
  const found = [
    { itemId: 'ex-a', changeKey: 'ck-a' },
    { itemId: 'ex-b', changeKey: 'ck-b' },
  ];
  it.each([
    ['found by tag, CRM item live: attach the first, delete the copies', row(), found, { type: 'attach', link: { ewsItemId: 'ex-a' }, strays: ['ex-b'] }],
    ['found by tag, CRM item deleted: drop it and delete what it made', row({ data: null, deleted: true }), found, { type: 'drop', strays: ['ex-a', 'ex-b'] }],
    ['not found, CRM item live: create it', row(), [], { type: 'create', link: { id: pending.id, crmVersion: 2 } }],
    ['not found, CRM item gone: drop it', undefined, [], { type: 'drop', strays: [] }],
  ] as const)('%s', (_name, r, tagged, expected) => {
    expect(planPending(two, pending, r, [...tagged])).toMatchObject(expected);
  });

  it('exchange-to-crm never creates in Exchange', () => {
    expect(planPending({ ...two, direction: 'exchange-to-crm' }, pending, row(), [])).toMatchObject({ type: 'drop' });
  });
});

describe('planPendingWrite: an Exchange write a pull left pending is executed as decided', () => {
  const edited: Contact = { ...person, jobTitle: 'CTO' };
  it.each([
    [
      'an update: the item and CRM version as the pull decided',
      { op: 'update', crmVersion: 2, item: edited },
      row(),
      [],
      { type: 'update', item: edited, crmVersion: 2 },
    ],
    [
      'an update whose CRM item changed since: still the decided version',
      { op: 'update', crmVersion: 2, item: edited },
      row({ version: 3 }),
      [],
      { type: 'update', crmVersion: 2 },
    ],
    ['a delete', { op: 'delete', crmVersion: 2, item: null }, row({ data: null, deleted: true }), [], { type: 'delete', crmVersion: 2 }],
    ['a restore not yet in Exchange: created', { op: 'create', crmVersion: 2, item: null }, row(), [], { type: 'create', link: { ewsItemId: null } }],
    [
      'a restore already made (found by tag): attached',
      { op: 'create', crmVersion: 2, item: null },
      row(),
      [{ itemId: 'ex-a', changeKey: 'ck-a' }],
      { type: 'attach' },
    ],
    ['a restore whose CRM item is gone: dropped', { op: 'create', crmVersion: 2, item: null }, undefined, [], { type: 'drop' }],
  ] as const)('%s', (_name, w, r, tagged, expected) => {
    const l = w.op === 'create' ? link({ ewsItemId: null, ewsChangeKey: null }) : link();
    expect(planPendingWrite(two, { linkId: l.id, crmId: 'c-1', ...w }, l, r, [...tagged])).toMatchObject(expected);
  });
});
