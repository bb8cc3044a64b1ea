import { describe, expect, it } from 'vitest';
import type { Appointment, Contact } from '@exsync/canonical';
import { decide, type CrmState, type DecideInput, type ExchangeChange, type LinkState, type SyncAction } from '../../packages/sync-engine/src/decide';
import type { ConflictPolicy, SyncDirection } from '../../packages/sync-engine/src/syncTypes';

const base: Contact = { givenName: 'Ada', surname: 'Lovelace', emails: [{ address: 'ada@example.org' }], phones: {}, addresses: {} };
const crmEdit: Contact = { ...base, jobTitle: 'Analyst' };
const exEdit: Contact = { ...base, companyName: 'Engines Ltd' };

const link: LinkState<Contact> = { id: 'L1', crmId: 'c1', ewsItemId: 'E1', ewsChangeKey: 'K1', crmVersion: 3, snapshot: base };

type Ex = 'none' | 'echoKey' | 'echoContent' | 'changed' | 'deleted';
type Crm = 'absent' | 'unchanged' | 'echo' | 'changed' | 'deleted';

function exchange(ex: Ex): ExchangeChange<Contact> | null {
  switch (ex) {
    case 'none':
      return null;
    case 'echoKey':
      return { type: 'changed', itemId: 'E1', changeKey: 'K1', item: exEdit };
    case 'echoContent':
      return { type: 'changed', itemId: 'E1', changeKey: 'K2', item: { ...base } };
    case 'changed':
      return { type: 'changed', itemId: 'E1', changeKey: 'K2', item: exEdit, lastModified: '2026-01-02T00:00:00Z' };
    case 'deleted':
      return { type: 'deleted', itemId: 'E1' };
  }
}

function crm(c: Crm): CrmState<Contact> | null {
  switch (c) {
    case 'absent':
      return null;
    case 'unchanged':
      return { crmId: 'c1', version: 3, deleted: false, item: base };
    case 'echo':
      return { crmId: 'c1', version: 4, deleted: false, item: { ...base } };
    case 'changed':
      return { crmId: 'c1', version: 4, deleted: false, item: crmEdit, updatedAt: '2026-01-01T00:00:00Z' };
    case 'deleted':
      return { crmId: 'c1', version: 4, deleted: true, item: null };
  }
}

function run(ex: Ex, c: Crm, opts: { linked?: boolean; policy?: ConflictPolicy; direction?: SyncDirection } = {}): SyncAction<Contact> {
  const input: DecideInput<Contact> = {
    kind: 'contact',
    exchange: exchange(ex),
    crm: crm(c),
    link: opts.linked === false ? null : link,
    policy: opts.policy ?? 'newest-wins',
    direction: opts.direction ?? 'two-way',
  };
  return decide(input);
}

// [exchange, crm, linked, policy, direction, expected action type]
const table: [Ex, Crm, boolean, ConflictPolicy, SyncDirection, SyncAction['type']][] = [
  // No link: creates on the other side, or nothing.
  ['none', 'absent', false, 'newest-wins', 'two-way', 'doNothing'],
  ['changed', 'absent', false, 'newest-wins', 'two-way', 'createInCrm'],
  ['changed', 'absent', false, 'newest-wins', 'crm-to-exchange', 'doNothing'],
  ['none', 'changed', false, 'newest-wins', 'two-way', 'createInExchange'],
  ['none', 'changed', false, 'newest-wins', 'exchange-to-crm', 'doNothing'],
  ['deleted', 'absent', false, 'newest-wins', 'two-way', 'doNothing'],
  ['none', 'deleted', false, 'newest-wins', 'two-way', 'doNothing'],
  ['changed', 'changed', false, 'newest-wins', 'two-way', 'merge'], // first-sync pair that differs
  // Linked, echoes.
  ['none', 'unchanged', true, 'newest-wins', 'two-way', 'doNothing'],
  ['echoKey', 'unchanged', true, 'newest-wins', 'two-way', 'skipEcho'],
  ['echoContent', 'unchanged', true, 'newest-wins', 'two-way', 'skipEcho'],
  ['none', 'echo', true, 'newest-wins', 'two-way', 'skipEcho'],
  ['echoContent', 'echo', true, 'newest-wins', 'two-way', 'skipEcho'],
  // One side changed.
  ['changed', 'unchanged', true, 'newest-wins', 'two-way', 'updateCrm'],
  ['echoContent', 'changed', true, 'newest-wins', 'two-way', 'updateExchange'],
  ['none', 'changed', true, 'newest-wins', 'two-way', 'updateExchange'],
  ['deleted', 'unchanged', true, 'newest-wins', 'two-way', 'deleteInCrm'],
  ['none', 'deleted', true, 'newest-wins', 'two-way', 'deleteInExchange'],
  // Both changed.
  ['changed', 'changed', true, 'newest-wins', 'two-way', 'merge'],
  ['changed', 'changed', true, 'crm-wins', 'two-way', 'merge'],
  ['changed', 'changed', true, 'exchange-wins', 'two-way', 'merge'],
  ['deleted', 'deleted', true, 'newest-wins', 'two-way', 'forgetLink'],
  // Update against delete.
  ['deleted', 'changed', true, 'newest-wins', 'two-way', 'restoreInExchange'],
  ['deleted', 'changed', true, 'crm-wins', 'two-way', 'restoreInExchange'],
  ['deleted', 'changed', true, 'exchange-wins', 'two-way', 'deleteInCrm'],
  ['changed', 'deleted', true, 'newest-wins', 'two-way', 'restoreInCrm'],
  ['changed', 'deleted', true, 'exchange-wins', 'two-way', 'restoreInCrm'],
  ['changed', 'deleted', true, 'crm-wins', 'two-way', 'deleteInExchange'],
  // crm-to-exchange: Exchange is a mirror of the CRM.
  ['changed', 'unchanged', true, 'newest-wins', 'crm-to-exchange', 'skipEcho'],
  ['deleted', 'unchanged', true, 'newest-wins', 'crm-to-exchange', 'restoreInExchange'],
  ['changed', 'changed', true, 'newest-wins', 'crm-to-exchange', 'updateExchange'],
  ['changed', 'deleted', true, 'newest-wins', 'crm-to-exchange', 'deleteInExchange'],
  ['deleted', 'changed', true, 'newest-wins', 'crm-to-exchange', 'restoreInExchange'],
  ['none', 'changed', true, 'newest-wins', 'crm-to-exchange', 'updateExchange'],
  ['none', 'deleted', true, 'newest-wins', 'crm-to-exchange', 'deleteInExchange'],
  // exchange-to-crm: the CRM is a mirror of Exchange.
  ['none', 'changed', true, 'newest-wins', 'exchange-to-crm', 'relinkOnly'],
  ['none', 'deleted', true, 'newest-wins', 'exchange-to-crm', 'restoreInCrm'],
  ['changed', 'changed', true, 'newest-wins', 'exchange-to-crm', 'updateCrm'],
  ['changed', 'deleted', true, 'newest-wins', 'exchange-to-crm', 'restoreInCrm'],
  ['deleted', 'changed', true, 'newest-wins', 'exchange-to-crm', 'deleteInCrm'],
  ['changed', 'unchanged', true, 'newest-wins', 'exchange-to-crm', 'updateCrm'],
];

describe('decide()', () => {
  it.each(table)('exchange %s, crm %s, linked %s, %s, %s -> %s', (ex, c, linked, policy, direction, expected) => {
    expect(run(ex, c, { linked, policy, direction }).type).toBe(expected);
  });

  it('covers every combination of the two sides with a link in two-way mode without throwing', () => {
    const exs: Ex[] = ['none', 'echoKey', 'echoContent', 'changed', 'deleted'];
    const crms: Crm[] = ['absent', 'unchanged', 'echo', 'changed', 'deleted'];
    for (const ex of exs)
      for (const c of crms)
        for (const direction of ['two-way', 'crm-to-exchange', 'exchange-to-crm'] as const) {
          const a = run(ex, c, { direction });
          expect(typeof a.type).toBe('string');
        }
  });

  it('merges a two-sided edit keeping both one-sided fields', () => {
    const a = run('changed', 'changed');
    expect(a).toMatchObject({ type: 'merge', conflicts: [], writeCrm: true, writeExchange: true });
    if (a.type !== 'merge') throw new Error('unreachable');
    expect(a.merged).toMatchObject({ jobTitle: 'Analyst', companyName: 'Engines Ltd' });
  });

  it('carries the Exchange ChangeKey on an echo so the link is refreshed', () => {
    expect(run('echoContent', 'unchanged')).toEqual({ type: 'skipEcho', changeKey: 'K2', crmVersion: undefined });
    expect(run('none', 'echo')).toEqual({ type: 'skipEcho', changeKey: undefined, crmVersion: 4 });
  });

  it('pairs first-sync matches with equal content without writing', () => {
    const a = decide<Contact>({
      kind: 'contact',
      exchange: { type: 'changed', itemId: 'E9', changeKey: 'K9', item: base },
      crm: { crmId: 'c9', version: 1, deleted: false, item: { ...base, phones: {} } },
      link: null,
      policy: 'newest-wins',
      direction: 'two-way',
    });
    expect(a.type).toBe('relinkOnly');
  });
});

describe('field fidelity (issue 14)', () => {
  // the CRM writes all-day items as UTC midnights; Exchange holds local midnights of Auckland
  const crmAllDay: Appointment = { subject: 'B', start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z', timeZone: 'Pacific/Auckland', isAllDay: true };
  const exAllDay: Appointment = { ...crmAllDay, start: '2027-05-09T12:00:00Z', end: '2027-05-10T12:00:00Z' };
  const aptLink: LinkState<Appointment> = { id: 'L2', crmId: 'a1', ewsItemId: 'E2', ewsChangeKey: 'K1', crmVersion: 1, snapshot: crmAllDay };
  const aptCrm: CrmState<Appointment> = { crmId: 'a1', version: 1, deleted: false, item: crmAllDay };
  const at = (item: Appointment): ExchangeChange<Appointment> => ({ type: 'changed', itemId: 'E2', changeKey: 'K2', item });
  const input = (ex: Appointment): DecideInput<Appointment> => ({
    kind: 'appointment',
    exchange: at(ex),
    crm: aptCrm,
    link: aptLink,
    policy: 'newest-wins',
    direction: 'two-way',
  });

  it('local midnights naming the same dates are an echo, not an edit', () => {
    expect(decide(input(exAllDay))).toEqual({ type: 'skipEcho', changeKey: 'K2', crmVersion: undefined });
  });

  it('an Outlook location edit reaches the CRM with its own UTC-midnight bounds kept', () => {
    const action = decide(input({ ...exAllDay, location: 'Garden' }));
    expect(action).toEqual({ type: 'updateCrm', item: { ...crmAllDay, location: 'Garden' } });
  });

  it('new dates from Outlook come back as UTC midnights, the form the CRM writes', () => {
    const action = decide(input({ ...exAllDay, start: '2027-05-31T12:00:00Z', end: '2027-06-01T12:00:00Z' }));
    expect(action).toMatchObject({ type: 'updateCrm', item: { start: '2027-06-01T00:00:00Z', end: '2027-06-02T00:00:00Z' } });
  });
});
