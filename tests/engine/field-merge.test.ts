import { describe, expect, it } from 'vitest';
import type { Appointment, Contact } from '@exsync/canonical';
import { mergeItems, policyWinner } from '../../packages/sync-engine/src/fieldMerge';

const baseAppt: Appointment = {
  subject: 'Review',
  location: 'Room 1',
  start: '2026-03-02T09:00:00Z',
  end: '2026-03-02T10:00:00Z',
  timeZone: 'Europe/Berlin',
  isAllDay: false,
};

describe('mergeItems (appointments)', () => {
  const crm = { ...baseAppt, subject: 'Review (CRM)', location: 'Room 2' };
  const ex = { ...baseAppt, location: 'Room 3', body: 'agenda' };
  const cases = [
    { policy: 'crm-wins' as const, location: 'Room 2', resolvedTo: 'crm' },
    { policy: 'exchange-wins' as const, location: 'Room 3', resolvedTo: 'exchange' },
    {
      policy: 'newest-wins' as const,
      location: 'Room 3',
      resolvedTo: 'exchange',
      crmModified: '2026-01-01T00:00:00Z',
      exchangeModified: '2026-01-01T00:00:05Z',
    },
    { policy: 'newest-wins' as const, location: 'Room 2', resolvedTo: 'crm', crmModified: '2026-01-01T00:00:09Z', exchangeModified: '2026-01-01T00:00:05Z' },
  ];
  it.each(cases)('$policy: one-sided fields survive, the both-sided one goes to $resolvedTo', (c) => {
    const r = mergeItems({
      kind: 'appointment',
      base: baseAppt,
      crm,
      exchange: ex,
      policy: c.policy,
      crmModified: c.crmModified,
      exchangeModified: c.exchangeModified,
    });
    expect(r.merged.subject).toBe('Review (CRM)');
    expect(r.merged.body).toBe('agenda');
    expect(r.merged.location).toBe(c.location);
    expect(r.conflicts).toEqual(['location']);
    expect(r.resolvedTo).toBe(c.resolvedTo);
  });

  it('moves start and end together so an event never ends before it starts', () => {
    const crmT = { ...baseAppt, start: '2026-03-02T11:00:00Z', end: '2026-03-02T12:00:00Z' };
    const exT = { ...baseAppt, end: '2026-03-02T10:30:00Z' };
    const r = mergeItems({ kind: 'appointment', base: baseAppt, crm: crmT, exchange: exT, policy: 'crm-wins' });
    expect([r.merged.start, r.merged.end]).toEqual(['2026-03-02T11:00:00Z', '2026-03-02T12:00:00Z']);
    expect(r.conflicts).toEqual(['time']);
  });

  it('takes a one-sided recurrence change whole', () => {
    const rec = { pattern: { type: 'daily' as const, interval: 1 }, range: { type: 'numbered' as const, startDate: '2026-03-02', numberOfOccurrences: 5 } };
    const exR = { ...baseAppt, recurrence: { ...rec, deletedOccurrences: ['2026-03-03T09:00:00Z'] } };
    const r = mergeItems<Appointment>({
      kind: 'appointment',
      base: { ...baseAppt, recurrence: rec },
      crm: { ...baseAppt, recurrence: rec, subject: 'X' },
      exchange: exR,
      policy: 'crm-wins',
    });
    expect(r.merged.recurrence?.deletedOccurrences).toEqual(['2026-03-03T09:00:00Z']);
    expect(r.merged.subject).toBe('X');
    expect(r.conflicts).toEqual([]);
  });

  it('ignores read-only fields and representation noise', () => {
    const r = mergeItems({
      kind: 'appointment',
      base: baseAppt,
      crm: { ...baseAppt, start: '2026-03-02T10:00:00.000+01:00' },
      exchange: { ...baseAppt, iCalUId: 'uid-1', attendees: [{ email: 'a@b.c' }] },
      policy: 'crm-wins',
    });
    expect(r.conflicts).toEqual([]);
    // nothing changed, so the CRM's item comes back as the CRM wrote it
    expect(r.merged).toEqual({ ...baseAppt, start: '2026-03-02T10:00:00.000+01:00' });
  });
});

describe('mergeItems (contacts)', () => {
  const base: Contact = {
    givenName: 'Ada',
    emails: [{ address: 'ada@example.org' }],
    phones: { mobile: '1', home: '2' },
    addresses: { home: { city: 'London' } },
  };
  it('merges phones and addresses per kind', () => {
    const crm: Contact = { ...base, phones: { mobile: '10', home: '2' } };
    const ex: Contact = { ...base, phones: { mobile: '1', home: '20', business: '30' }, addresses: { home: { city: 'London' }, business: { city: 'Leeds' } } };
    const r = mergeItems({ kind: 'contact', base, crm, exchange: ex, policy: 'crm-wins' });
    expect(r.merged.phones).toEqual({ business: '30', home: '20', mobile: '10' });
    expect(r.merged.addresses).toEqual({ business: { city: 'Leeds' }, home: { city: 'London' } });
    expect(r.conflicts).toEqual([]);
  });
  it('reports a phone changed on both sides and applies the policy', () => {
    const crm: Contact = { ...base, phones: { ...base.phones, mobile: 'crm' } };
    const ex: Contact = { ...base, phones: { ...base.phones, mobile: 'ex' } };
    expect(mergeItems({ kind: 'contact', base, crm, exchange: ex, policy: 'exchange-wins' })).toMatchObject({
      conflicts: ['phones.mobile'],
      merged: { phones: { mobile: 'ex' } },
    });
    expect(mergeItems({ kind: 'contact', base, crm, exchange: ex, policy: 'crm-wins' })).toMatchObject({
      conflicts: ['phones.mobile'],
      merged: { phones: { mobile: 'crm' } },
    });
  });
  it('a removal on one side is a change', () => {
    const crm: Contact = { ...base, phones: { mobile: '1' } };
    const r = mergeItems({ kind: 'contact', base, crm, exchange: base, policy: 'exchange-wins' });
    expect(r.merged.phones).toEqual({ mobile: '1' });
  });
  it('first pairing without a snapshot fills gaps from either side', () => {
    const crm: Contact = { givenName: 'Ada', emails: [{ address: 'ada@example.org' }], phones: { mobile: '1' }, addresses: {} };
    const ex: Contact = { givenName: 'Ada', jobTitle: 'Analyst', emails: [{ address: 'ada@example.org' }], phones: { home: '2' }, addresses: {} };
    const r = mergeItems({ kind: 'contact', base: null, crm, exchange: ex, policy: 'crm-wins' });
    expect(r.merged).toMatchObject({ jobTitle: 'Analyst', phones: { home: '2', mobile: '1' } });
    expect(r.conflicts).toEqual([]);
  });
});

describe('policyWinner', () => {
  it('newest-wins compares times, ties and unknowns go to the CRM', () => {
    expect(policyWinner('newest-wins', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z')).toBe('exchange');
    expect(policyWinner('newest-wins', '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z')).toBe('crm');
    expect(policyWinner('newest-wins', undefined, undefined)).toBe('crm');
    expect(policyWinner('newest-wins', undefined, '2026-01-01T00:00:01Z')).toBe('exchange');
  });
});
