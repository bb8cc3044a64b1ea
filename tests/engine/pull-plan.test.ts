import { describe, expect, it } from 'vitest';
import type { Appointment, Contact, CrmItemRow, LinkRow } from '@exsync/canonical';
import type { ExchangeChange } from '../../packages/sync-engine/src/decide';
import { planPull, type PulledItem, type PullAction, type PullRules } from '../../packages/sync-engine/src/pullPlan';
import { syncedContent } from '../../packages/sync-engine/src/syncedContent';
import { crmRow, LINK_ID, linkRow } from '../support/engineRows';
import type { ConflictPolicy, SyncDirection } from '../../packages/sync-engine/src/syncTypes';

const base: Contact = { givenName: 'Ada', surname: 'Lovelace', emails: [{ address: 'ada@fabrikam.example' }], phones: {}, addresses: {} };
const crmEdit: Contact = { ...base, jobTitle: 'Analyst' };
const exEdit: Contact = { ...base, companyName: 'Engines Ltd' };

const link = (patch: Partial<LinkRow> = {}): LinkRow => linkRow({ crmVersion: 3, snapshot: syncedContent('contact', base), ...patch });

type Crm = 'absent' | 'unchanged' | 'echo' | 'changed' | 'deleted' | 'tombstoneSeen' | 'unmappable';
function crm(c: Crm): CrmItemRow | null {
  const row = (version: number, data: Contact | null): CrmItemRow => crmRow({ version, data, deleted: data === null });
  switch (c) {
    case 'absent':
      return null;
    case 'unchanged':
      return row(3, base);
    case 'echo':
      return row(4, { ...base });
    case 'changed':
      return row(4, crmEdit);
    case 'deleted':
      return row(4, null);
    case 'tombstoneSeen':
      return row(3, null);
    case 'unmappable':
      return row(4, { ...base, birthday: 'not a date' } as never);
  }
}

type Ex = 'echoKey' | 'echoContent' | 'changed' | 'sameAsCrm' | 'deleted';
function exchange(ex: Ex): ExchangeChange<Contact> {
  switch (ex) {
    case 'echoKey':
      return { type: 'changed', itemId: 'ex-1', changeKey: 'ck-1', item: exEdit };
    case 'echoContent':
      return { type: 'changed', itemId: 'ex-1', changeKey: 'ck-2', item: { ...base } };
    case 'changed':
      return { type: 'changed', itemId: 'ex-1', changeKey: 'ck-2', item: exEdit, lastModified: '2026-01-02T00:00:00Z' };
    case 'sameAsCrm':
      return { type: 'changed', itemId: 'ex-1', changeKey: 'ck-2', item: crmEdit };
    case 'deleted':
      return { type: 'deleted', itemId: 'ex-1' };
  }
}

let ids = 0;
const newId = () => `new-${++ids}`;
function plan(ex: Ex, c: Crm, opts: { linked?: boolean; attached?: boolean; policy?: ConflictPolicy; direction?: SyncDirection } = {}): PullAction {
  const rules: PullRules = { kind: 'contact', policy: opts.policy ?? 'newest-wins', direction: opts.direction ?? 'two-way' };
  const p: PulledItem = { exchange: exchange(ex), link: opts.linked === false ? null : link(), attached: opts.attached ?? false, crm: crm(c) };
  return planPull(rules, p, newId);
}

// [exchange, crm, linked, policy, direction, expected action, and for writeExchange/merge the pending write's op]
const table: [Ex, Crm, boolean, ConflictPolicy, SyncDirection, PullAction['type'], string | null][] = [
  // Unpaired Exchange items: a new CRM item, a first-sync pairing or merge, or nothing.
  ['changed', 'absent', false, 'newest-wins', 'two-way', 'createInCrm', null],
  ['changed', 'absent', false, 'newest-wins', 'crm-to-exchange', 'none', null],
  ['sameAsCrm', 'changed', false, 'newest-wins', 'two-way', 'pair', null],
  ['changed', 'changed', false, 'newest-wins', 'two-way', 'merge', 'update'],
  ['changed', 'deleted', false, 'newest-wins', 'two-way', 'createInCrm', null], // a match pairs only with a live item
  // Our own writes coming back.
  ['echoKey', 'unchanged', true, 'newest-wins', 'two-way', 'link', null],
  ['echoContent', 'unchanged', true, 'newest-wins', 'two-way', 'link', null],
  // Exchange edits.
  ['changed', 'unchanged', true, 'newest-wins', 'two-way', 'updateCrm', null],
  ['changed', 'unchanged', true, 'newest-wins', 'crm-to-exchange', 'link', null],
  ['changed', 'changed', true, 'newest-wins', 'two-way', 'merge', 'update'],
  ['sameAsCrm', 'changed', true, 'newest-wins', 'two-way', 'merge', null],
  ['changed', 'changed', true, 'newest-wins', 'crm-to-exchange', 'writeExchange', 'update'],
  ['sameAsCrm', 'changed', true, 'newest-wins', 'crm-to-exchange', 'link', null],
  ['changed', 'changed', true, 'newest-wins', 'exchange-to-crm', 'updateCrm', null],
  ['changed', 'deleted', true, 'newest-wins', 'two-way', 'updateCrm', null], // restored in the CRM
  ['changed', 'deleted', true, 'crm-wins', 'two-way', 'writeExchange', 'delete'],
  // Exchange deletes.
  ['deleted', 'unchanged', true, 'newest-wins', 'two-way', 'deleteInCrm', null],
  ['deleted', 'tombstoneSeen', true, 'newest-wins', 'two-way', 'dropLink', null],
  ['deleted', 'deleted', true, 'newest-wins', 'two-way', 'dropLink', null],
  ['deleted', 'changed', true, 'newest-wins', 'two-way', 'writeExchange', 'create'],
  ['deleted', 'changed', true, 'exchange-wins', 'two-way', 'deleteInCrm', null],
  ['deleted', 'unchanged', true, 'newest-wins', 'crm-to-exchange', 'writeExchange', 'create'],
  // A CRM item the engine cannot compare fails alone.
  ['changed', 'unmappable', true, 'newest-wins', 'two-way', 'fail', null],
];

describe('planPull: every pulled change becomes one PullAction', () => {
  it.each(table)('Exchange %s, CRM %s, linked %s, %s, %s -> %s (pending write %s)', (ex, c, linked, policy, direction, type, op) => {
    const a = plan(ex, c, { linked, policy, direction });
    expect(a.type).toBe(type);
    const write = a.type === 'writeExchange' ? a.write : a.type === 'merge' ? a.exchangeWrite : null;
    expect(write?.op ?? null).toBe(op);
  });

  it('a merge Exchange must receive: the link describes Exchange and the agreed CRM version; the write carries the CRM item as the page leaves it', () => {
    const a = plan('changed', 'changed');
    expect(a).toMatchObject({
      type: 'merge',
      crmId: 'c-1',
      inserted: false,
      link: { id: LINK_ID, ewsItemId: 'ex-1', ewsChangeKey: 'ck-2', crmVersion: 3, snapshot: syncedContent('contact', exEdit) },
      exchangeWrite: { linkId: LINK_ID, crmId: 'c-1', op: 'update', crmVersion: 'written', item: { ...base, jobTitle: 'Analyst', companyName: 'Engines Ltd' } },
    });
    if (a.type === 'merge') expect(a.crmWrite).toEqual(a.exchangeWrite!.item);
  });

  it('a merge with nothing for Exchange moves the link to the merged content and the CRM version it writes', () => {
    expect(plan('sameAsCrm', 'changed')).toMatchObject({
      type: 'merge',
      crmWrite: null,
      exchangeWrite: null,
      link: { crmVersion: 4, snapshot: syncedContent('contact', crmEdit) },
    });
  });

  it('a conflict is described for the admin with the policy and both sides’ times', () => {
    const a = plan('changed', 'changed', { policy: 'crm-wins' });
    const both: Contact = { ...base, jobTitle: 'From Outlook' };
    const conflicting = planPull(
      { kind: 'contact', policy: 'crm-wins', direction: 'two-way' },
      {
        exchange: { type: 'changed', itemId: 'ex-1', changeKey: 'ck-2', item: both, lastModified: '2026-01-02T00:00:00Z' },
        link: link(),
        attached: false,
        crm: crm('changed'),
      },
      newId,
    );
    expect(a).toMatchObject({ conflict: null });
    expect(conflicting).toMatchObject({
      type: 'merge',
      conflict: {
        kind: 'contact',
        crmId: 'c-1',
        fields: ['jobTitle'],
        resolution: 'crm-wins: CRM value kept',
        detail: { exchangeModified: '2026-01-02T00:00:00Z', crmModified: '2026-01-01T00:00:00Z', firstSync: false },
      },
      exchangeWrite: { op: 'update' },
    });
  });

  it('a restore in Exchange makes the link pending again and records a create', () => {
    expect(plan('deleted', 'changed')).toEqual({
      type: 'writeExchange',
      link: { id: LINK_ID, crmId: 'c-1', ewsItemId: null, ewsChangeKey: null, icalUid: null, crmVersion: 3, snapshot: syncedContent('contact', base) },
      write: { linkId: LINK_ID, crmId: 'c-1', op: 'create', crmVersion: 4, item: null },
    });
  });

  it('a new Exchange item gets new ids, and the link takes the version the CRM write gets', () => {
    const a = plan('changed', 'absent', { linked: false });
    expect(a).toMatchObject({ type: 'createInCrm', item: exEdit, link: { ewsItemId: 'ex-1', ewsChangeKey: 'ck-2', crmVersion: 'written' } });
    if (a.type === 'createInCrm') expect(a.link.crmId).toBe(a.crmId);
  });

  it('a pending create found by its tag with nothing to write still stores its Exchange id', () => {
    const attached = link({ ewsItemId: 'ex-1', ewsChangeKey: null, crmVersion: 4, snapshot: syncedContent('contact', crmEdit) });
    const a = planPull(
      { kind: 'contact', policy: 'newest-wins', direction: 'two-way' },
      { exchange: { type: 'changed', itemId: 'ex-1', changeKey: 'ck-9', item: crmEdit }, link: attached, attached: true, crm: crm('changed') },
      newId,
    );
    expect(a).toMatchObject({ type: 'link', link: { id: LINK_ID, ewsItemId: 'ex-1', ewsChangeKey: 'ck-9' } });
  });

  it('an appointment keeps Exchange’s read-only fields on what the CRM stores, not in the snapshot', () => {
    const appt: Appointment = {
      subject: 'Review',
      start: '2026-03-02T09:00:00Z',
      end: '2026-03-02T10:00:00Z',
      timeZone: 'UTC',
      iCalUId: 'uid-1',
    } as Appointment;
    const a = planPull(
      { kind: 'appointment', policy: 'newest-wins', direction: 'two-way' },
      { exchange: { type: 'changed', itemId: 'ex-1', changeKey: 'ck-2', item: appt }, link: null, attached: false, crm: null, icalUid: 'uid-1' },
      newId,
    );
    expect(a).toMatchObject({ type: 'createInCrm', item: { iCalUId: 'uid-1' }, link: { icalUid: 'uid-1' } });
    if (a.type === 'createInCrm') expect((a.link.snapshot as Appointment).iCalUId).toBeUndefined();
  });
});
