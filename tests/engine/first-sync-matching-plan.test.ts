import { describe, expect, it } from 'vitest';
import type { Appointment, Contact } from '@exsync/canonical';
import { buildMatcher } from '../../packages/sync-engine/src/firstSyncMatching';

const c = (p: Partial<Contact>): Contact => ({ emails: [], phones: {}, addresses: {}, ...p });
const a = (p: Partial<Appointment>): Appointment => ({
  subject: 'S',
  start: '2026-01-01T09:00:00Z',
  end: '2026-01-01T10:00:00Z',
  timeZone: 'UTC',
  isAllDay: false,
  ...p,
});

describe('first-sync matching', () => {
  it('contacts match by any email case-insensitively, then by full name, each CRM item once', () => {
    const m = buildMatcher('contact', [
      { crmId: 'x', item: c({ emails: [{ address: 'Ada@Example.org' }] }) },
      { crmId: 'y', item: c({ givenName: 'Grace', surname: 'Hopper' }) },
    ]);
    expect(m.match(c({ emails: [{ address: 'other@example.org' }, { address: 'ada@example.org' }] }))).toBe('x');
    expect(m.match(c({ emails: [{ address: 'ada@example.org' }] }))).toBeUndefined();
    expect(m.match(c({ givenName: ' grace', surname: 'HOPPER' }))).toBe('y');
    expect(m.match(c({ givenName: 'Nobody' }))).toBeUndefined();
  });
  it('email beats name when both could match', () => {
    const m = buildMatcher('contact', [
      { crmId: 'byName', item: c({ givenName: 'Ada', surname: 'L' }) },
      { crmId: 'byMail', item: c({ emails: [{ address: 'ada@example.org' }] }) },
    ]);
    expect(m.match(c({ givenName: 'Ada', surname: 'L', emails: [{ address: 'ada@example.org' }] }))).toBe('byMail');
  });
  it('appointments match by iCalUId, then subject and start (any offset)', () => {
    const m = buildMatcher('appointment', [
      { crmId: 'u', item: a({ iCalUId: 'uid-1', subject: 'Other' }) },
      { crmId: 's', item: a({ subject: 'Weekly' }) },
    ]);
    expect(m.match(a({ iCalUId: 'uid-1', subject: 'Weekly' }))).toBe('u');
    expect(m.match(a({ subject: 'weekly ', start: '2026-01-01T10:00:00+01:00' }))).toBe('s');
    expect(m.match(a({ subject: 'Weekly' }))).toBeUndefined();
  });
});
