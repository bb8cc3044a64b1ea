/**
 * Issue 12, "input is checked once, at the edge, with the same rules the engine uses": instants
 * (case 2), text Postgres cannot store (case 4), time zones (case 6), optional fields. Every
 * refusal is a 400 naming the field, never a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeInstant, parseInstant, storableValue, findUnstorableText } from '@exsync/canonical';
import { findWindowsZone, TZDATA_LINKS } from '@exsync/calendar';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
let org: { id: string; token: string };
let user: { id: string };
let base: string;
beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
  user = await h.createUser(org.id, 'edge-user');
  base = `/v1/orgs/${org.id}/users/${user.id}`;
});
afterAll(async () => h?.close());

function expect400(res: { statusCode: number; body: string; json(): any }, field: string) {
  expect(res.statusCode, res.body).toBe(400);
  const body = res.json();
  expect(body).toMatchObject({ error: 'Bad Request', field });
  expect(body.message).toContain(field);
}

const appointment = { subject: 'x', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone: 'Europe/Berlin', isAllDay: false };

describe('one instant parser', () => {
  it.each([
    ['2026-12-31T23:59:60Z', null],
    ['2026-12-12T10:00:00+01', null],
    ['2026-12-12T10:00:00+0100', Date.UTC(2026, 11, 12, 9)],
    ['2026-12-12t10:00:00z', Date.UTC(2026, 11, 12, 10)],
    ['2026-12-12T10:00:00+010', null],
    ['2026-02-30T10:00:00Z', null],
    ['2026-12-12T24:00:00Z', null],
    ['2026-12-12T10:00:00+24:00', null],
    ['2026-12-12 10:00:00Z', null],
    ['2026-12-12T10:00Z', null],
    ['2026-12-12T10:00:00', null],
    ['', null],
    ['2026-12-12T10:00:00+01:00', Date.UTC(2026, 11, 12, 9)],
    ['2026-12-12T10:00:00.5Z', Date.UTC(2026, 11, 12, 10, 0, 0, 500)],
    ['2026-12-12T10:00:00.123456789-05:30', Date.UTC(2026, 11, 12, 15, 30, 0, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('%s -> %s', (text, ms) => {
    expect(parseInstant(text)).toBe(ms);
    if (ms === null) expect(() => normalizeInstant(text)).toThrow(/not an ISO 8601 instant/);
    else expect(Date.parse(text)).toBe(ms);
  });

  it('what the parser accepts, Date.parse reads the same (property)', () => {
    for (let i = 0; i < 2000; i++) {
      const pad = (n: number, w = 2) => String(n).padStart(w, '0');
      const r = (n: number) => Math.floor(Math.random() * n);
      const off = r(3) === 0 ? 'Z' : `${r(2) ? '+' : '-'}${pad(r(26))}:${pad(r(61))}`;
      const text = `${pad(1900 + r(300), 4)}-${pad(r(14))}-${pad(r(33))}T${pad(r(26))}:${pad(r(61))}:${pad(r(62))}${off}`;
      const ms = parseInstant(text);
      if (ms !== null) expect(Date.parse(text)).toBe(ms);
    }
  });

  it.each([
    ['start', { ...appointment, start: '2026-12-31T23:59:60Z' }],
    ['start', { ...appointment, start: '2026-12-12T10:00:00+01' }],
    ['end', { ...appointment, end: '2027-01-01T00:00:60+01:00' }],
    [
      'recurrence.modifiedOccurrences.0.originalStart',
      {
        ...appointment,
        recurrence: {
          pattern: { type: 'daily', interval: 1 },
          range: { type: 'noEnd', startDate: '2026-12-01' },
          modifiedOccurrences: [{ originalStart: '2026-12-02T09:00:60Z', start: '2026-12-02T09:00:00Z', end: '2026-12-02T10:00:00Z' }],
        },
      },
    ],
    [
      'recurrence.deletedOccurrences.0',
      {
        ...appointment,
        recurrence: {
          pattern: { type: 'daily', interval: 1 },
          range: { type: 'noEnd', startDate: '2026-12-01' },
          deletedOccurrences: ['2026-12-02T09:00:00+01'],
        },
      },
    ],
  ])('the API refuses what the engine cannot parse: %s', async (field, body) => {
    expect400(await h.call('PUT', `${base}/appointments/p1`, org.token, body), field);
  });

  it('accepts full offsets and fractions', async () => {
    const res = await h.call('PUT', `${base}/appointments/ok-offset`, org.token, {
      ...appointment,
      start: '2026-12-12T10:00:00.250+01:00',
      end: '2026-12-12T11:00:00+01:00',
    });
    expect(res.statusCode).toBe(201);
  });
});

describe('text Postgres cannot store answers 400 naming the field (case 4)', () => {
  const bad = ['x\u0000y', '\ud800', 'a\udc00b', 'end\ud83d'];
  it.each(bad)('in item bodies: %j', async (text) => {
    expect400(await h.call('PUT', `${base}/appointments/t1`, org.token, { ...appointment, subject: text }), 'subject');
    expect400(await h.call('PUT', `${base}/appointments/t1`, org.token, { ...appointment, body: text }), 'body');
    expect400(await h.call('PUT', `${base}/appointments/t1`, org.token, { ...appointment, categories: ['ok', text] }), 'categories.1');
    expect400(await h.call('PUT', `${base}/contacts/t1`, org.token, { givenName: 'a', addresses: { home: { city: text } } }), 'addresses.home.city');
    expect400(
      await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'nul-user', email: 'nul@example.com', displayName: text }),
      'displayName',
    );
    expect400(await h.call('POST', '/v1/orgs', h.platformToken, { name: text }), 'name');
  });

  it('in keys, path parameters, query strings and unauthenticated routes', async () => {
    expect400(await h.call('PUT', `${base}/contacts/t1`, org.token, { phones: { 'home\u0000': '1' } }), 'phones.home');
    expect400(await h.call('PUT', `${base}/appointments/a%00b`, org.token, appointment), 'crmId');
    expect400(await h.call('GET', `${base}/appointments/a%00b`, org.token), 'crmId');
    expect400(await h.call('DELETE', `${base}/contacts/a%00b`, org.token), 'crmId');
    expect400(await h.call('GET', `${base}/appointments?after=a%00b`, org.token), 'after');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/changes?after=a%00b`, org.token), 'after');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?search=a%00b`, org.token), 'search');
    expect400(await h.call('GET', '/oauth/callback?state=%00', null), 'state');
    expect400(await h.call('GET', '/oauth/callback?code=x&state=a%00', null), 'state');
    expect400(await h.call('GET', '/oauth/admin-consent/callback?state=%00', null), 'state');
  });

  it('the same text is fine once it is storable', async () => {
    expect((await h.call('PUT', `${base}/appointments/t-ok`, org.token, { ...appointment, subject: 'x y \ud83d\ude00' })).statusCode).toBe(201);
  });

  it('text from Exchange is cleaned the same way (table)', () => {
    expect(storableValue({ subject: 'a\u0000b', body: 'x\ud800y', list: ['\udc00'], ok: 'é😀' })).toEqual({
      subject: 'ab',
      body: 'x\ufffdy',
      list: ['\ufffd'],
      ok: 'é😀',
    });
    expect(findUnstorableText(storableValue({ deep: [{ t: 'a\u0000\ud800' }] }))).toBeNull();
  });
});

describe('every time zone the API accepts reaches Exchange or is refused naming timeZone (case 6)', () => {
  it('EST5EDT has a Windows zone', () => {
    expect(findWindowsZone('EST5EDT')).toBe('Eastern Standard Time');
    expect(findWindowsZone('est5edt')).toBe('Eastern Standard Time');
    expect(findWindowsZone('CST6CDT')).toBe('Central Standard Time');
  });

  it('every IANA name the runtime lists, every tzdata alias and the legacy names', async () => {
    const legacy = [
      'EST5EDT',
      'CST6CDT',
      'MST7MDT',
      'PST8PDT',
      'EST',
      'MST',
      'HST',
      'WET',
      'CET',
      'MET',
      'EET',
      'GMT',
      'GMT0',
      'GMT+0',
      'GMT-0',
      'Greenwich',
      'UCT',
      'UTC',
      'Universal',
      'Zulu',
      'Etc/UTC',
      'Etc/GMT+5',
      'Etc/GMT-14',
      'US/Pacific-New',
      'europe/berlin',
      'AMERICA/NEW_YORK',
    ];
    const names = [...new Set([...Intl.supportedValuesOf('timeZone'), ...Object.keys(TZDATA_LINKS), ...legacy])];
    const refused: string[] = [];
    for (const timeZone of names) {
      const res = await h.call('PUT', `${base}/appointments/zone`, org.token, { ...appointment, timeZone });
      if (res.statusCode === 400) {
        expect(res.json().field).toBe('timeZone');
        refused.push(timeZone);
      } else {
        expect([200, 201], `${timeZone}: ${res.body}`).toContain(res.statusCode);
        expect(findWindowsZone(timeZone), timeZone).toEqual(expect.any(String));
      }
    }
    // Troll (UTC+0, +2 in summer) has no Windows zone in CLDR; it is refused, not stored.
    expect(refused).toEqual(['Antarctica/Troll']);
    expect400(await h.call('PUT', `${base}/appointments/zone`, org.token, { ...appointment, timeZone: 'Mars/Olympus' }), 'timeZone');
  }, 60_000);
});

describe('optional fields are optional (case: contact PUT without addresses)', () => {
  it.each([
    ['contact with no field at all', 'contacts', {}],
    ['contact without addresses', 'contacts', { givenName: 'Ada', emails: ['ada@example.com'], phones: { mobile: '1' } }],
    ['contact without phones or emails', 'contacts', { surname: 'Lovelace', addresses: { home: { city: 'London' } } }],
    ['appointment with required fields only', 'appointments', appointment],
  ])('%s', async (_what, path, body) => {
    const res = await h.call('PUT', `${base}/${path}/opt-${path}-${Object.keys(body).length}`, org.token, body);
    expect(res.statusCode, res.body).toBe(201);
  });
});

describe('GET .../item-errors', () => {
  it('lists nothing for a new user, and answers 404 for another organisation and 400 for a query', async () => {
    const own = await h.call('GET', `${base}/item-errors`, org.token);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ items: [] });
    const other = await h.createOrg('Other');
    expect((await h.call('GET', `/v1/orgs/${other.id}/users/${user.id}/item-errors`, other.token)).statusCode).toBe(404);
    expect((await h.call('GET', `${base}/item-errors`, other.token)).statusCode).toBe(404);
    expect400(await h.call('GET', `${base}/item-errors?limit=5`, org.token), 'limit');
    const status = await h.call('GET', `${base}/sync-status`, org.token);
    expect(status.json().itemErrors).toEqual({ count: 0, first: [] });
  });
});
