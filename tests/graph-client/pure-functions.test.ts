import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalizeContact, type Contact } from '@exsync/canonical';
import {
  errorFromGraph,
  graphBaseUrl,
  graphOperation,
  Semaphore,
  toCanonicalContact,
  toGraphContact,
  toCanonicalAppointment,
  toGraphEvent,
} from '@exsync/graph-client';

/** Pure parts of the Graph transport: error classification, URL base, mappers, the semaphore. */
describe('errorFromGraph', () => {
  const cases: [number, unknown, string | undefined, Record<string, unknown>][] = [
    [410, { error: { code: 'SyncStateNotFound', message: 'The sync state generation is not found' } }, undefined, { kind: 'SyncStateInvalid' }],
    [400, { error: { code: 'syncStateNotFound', message: '' } }, undefined, { kind: 'SyncStateInvalid' }],
    [400, { error: { code: 'resyncRequired', message: '' } }, undefined, { kind: 'SyncStateInvalid' }],
    [429, { error: { code: 'ApplicationThrottled', message: 'MailboxConcurrency' } }, '7', { kind: 'Throttled', backoffMs: 7000 }],
    [503, undefined, undefined, { kind: 'Throttled', backoffMs: 5000 }],
    [504, undefined, undefined, { kind: 'Transient' }],
    [500, '<html>', undefined, { kind: 'Transient' }],
    [401, { error: { code: 'InvalidAuthenticationToken', message: '' } }, undefined, { kind: 'AuthFailed', reason: 'token-rejected' }],
    [
      403,
      { error: { code: 'ErrorAccessDenied', message: 'Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.' } },
      undefined,
      { kind: 'ImpersonationDenied', scope: 'mailbox' },
    ],
    [
      403,
      { error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' } },
      undefined,
      { kind: 'AuthFailed', reason: 'role-missing', scope: 'organisation' },
    ],
    [404, { error: { code: 'ErrorInvalidUser', message: '' } }, undefined, { kind: 'MailboxNotFound' }],
    [404, { error: { code: 'ErrorItemNotFound', message: '' } }, undefined, { kind: 'ItemNotFound', scope: 'item' }],
    [412, { error: { code: 'ErrorIrresolvableConflict', message: '' } }, undefined, { kind: 'ChangeKeyConflict' }],
    [400, { error: { code: 'RequestBodyRead', message: 'bad' } }, undefined, { kind: 'Permanent', scope: 'item', code: 'RequestBodyRead' }],
  ];
  it.each(cases)('HTTP %i %j (Retry-After %s) -> %j', (status, body, retryAfter, want) => {
    expect(errorFromGraph(status, body, retryAfter)).toMatchObject(want);
  });
});

describe('graphBaseUrl', () => {
  it.each([
    ['https://graph.microsoft.com', 'https://graph.microsoft.com/v1.0'],
    ['https://graph.microsoft.com/', 'https://graph.microsoft.com/v1.0'],
    ['http://127.0.0.1:4300/v1.0', 'http://127.0.0.1:4300/v1.0'],
    ['http://127.0.0.1:4300/v1.0/', 'http://127.0.0.1:4300/v1.0'],
  ])('%s -> %s', (input, want) => expect(graphBaseUrl(input)).toBe(want));
});

describe('mappers', () => {
  const text = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() === s && s.trim() !== '');
  const contact = fc.record({
    givenName: fc.option(text, { nil: undefined }),
    surname: fc.option(text, { nil: undefined }),
    companyName: fc.option(text, { nil: undefined }),
    jobTitle: fc.option(text, { nil: undefined }),
    emails: fc.array(
      fc.emailAddress().map((address) => ({ address })),
      { maxLength: 3 },
    ),
    phones: fc.record({
      business: fc.option(text, { nil: undefined }),
      home: fc.option(text, { nil: undefined }),
      mobile: fc.option(text, { nil: undefined }),
    }),
    addresses: fc.record({ home: fc.option(fc.record({ city: text }), { nil: undefined }) }),
    notes: fc.option(text, { nil: undefined }),
    birthday: fc.option(
      fc.date({ min: new Date('1900-01-01'), max: new Date('2020-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
      { nil: undefined },
    ),
  });
  const strip = (o: Record<string, unknown>) => JSON.parse(JSON.stringify(o)) as Contact;

  it('a contact written as Graph JSON reads back as the same canonical contact (v1.0 fields)', () => {
    fc.assert(
      fc.property(contact, (c) => {
        const input = strip(c as Record<string, unknown>);
        expect(normalizeContact(toCanonicalContact(toGraphContact(input)))).toEqual(normalizeContact(input));
      }),
    );
  });

  it('an appointment written as Graph JSON is local time in its Windows zone; UTC answers read back to the same instants', () => {
    const a = { subject: 'S', start: '2026-07-01T08:00:00Z', end: '2026-07-01T09:30:00Z', timeZone: 'Europe/Berlin', isAllDay: false };
    const g = toGraphEvent(a);
    expect(g.start).toEqual({ dateTime: '2026-07-01T10:00:00', timeZone: 'W. Europe Standard Time' });
    expect(g).not.toHaveProperty('attendees');
    const back = toCanonicalAppointment({
      ...g,
      start: { dateTime: '2026-07-01T08:00:00.0000000', timeZone: 'UTC' },
      end: { dateTime: '2026-07-01T09:30:00.0000000', timeZone: 'UTC' },
      originalStartTimeZone: 'W. Europe Standard Time',
    });
    expect(back).toMatchObject({ subject: 'S', start: a.start, end: a.end, timeZone: 'Europe/Berlin', isAllDay: false });
  });

  it('refuses an answer whose times are not UTC instead of guessing', () => {
    expect(() => toCanonicalAppointment({ subject: 'x', start: { dateTime: '2026-01-01T00:00:00', timeZone: 'Pacific Standard Time' }, end: {} })).toThrow(
      /not UTC/,
    );
  });
});

describe('Semaphore', () => {
  it('never runs more than its permits, a multi-permit holder counting for each', async () => {
    const s = new Semaphore(4);
    let cur = 0;
    let max = 0;
    const job = (n: number) =>
      s.run(n, async () => {
        cur += Math.min(n, 4);
        max = Math.max(max, cur);
        await new Promise((r) => setTimeout(r, 5));
        cur -= Math.min(n, 4);
      });
    await Promise.all([job(1), job(20), job(1), job(3), job(1), job(2), job(1)]);
    expect(max).toBeLessThanOrEqual(4);
  });
});

describe('graphOperation (metrics label)', () => {
  it.each([
    ['GET', 'http://h/v1.0/users/ada%40example.com/calendarView/delta?startDateTime=x', 'GET calendarView/delta'],
    ['POST', 'http://h/v1.0/$batch', 'POST $batch'],
    ['PATCH', 'http://h/v1.0/users/ada%40example.com/events/AAMkAGI2TAAA%3D', 'PATCH events'],
    ['GET', 'http://h/v1.0/me/contactFolders/AQMkADAw%3D/contacts/delta', 'GET contactFolders/contacts/delta'],
    ['GET', 'http://h/v1.0/users/a%40b/events/AAMk-1_2/instances', 'GET events/instances'],
  ])('%s %s -> %s', (method, url, want) => expect(graphOperation(method, new URL(url))).toBe(want));
});
