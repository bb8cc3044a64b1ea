import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appToken, deltaRound, graph, startSimulators, type Simulators } from './support/graph';

/**
 * Calendar over Graph, driven by hand-written requests shaped like Microsoft's samples
 * (fixtures/calendarview-delta-*.http): delta rounds, CRUD, recurrence, ids, tokens.
 */
const ALICE = 'alice@contoso.example';
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

let sims: Simulators;
let token: string;

beforeAll(async () => {
  sims = await startSimulators();
  token = await appToken(sims, 'https://graph.microsoft.com');
});

afterAll(async () => {
  await sims?.close();
});

describe('calendarView/delta', () => {
  it('runs rounds of nextLink pages ending in a deltaLink, occurrences and exceptions but no masters, then reports changes and removals', async () => {
    // Microsoft's sample request, pointed at the simulator (lower-case query names and all).
    const sample = fixture('calendarview-delta-request-initial.http').split('\n')[0];
    expect(sample).toContain('/me/calendarView/delta?startdatetime=');
    const query = sample.split('?')[1].split(' ')[0].replace('2016-12-01', '2026-03-01').replace('2016-12-30', '2026-03-31');
    const store = sims.ews.store;
    const single = store.createAppointment(ALICE, { subject: 'Single', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z' });
    const series = store.createAppointment(ALICE, {
      subject: 'Weekly',
      start: '2026-03-03T09:00:00Z',
      end: '2026-03-03T09:30:00Z',
      recurrence: { pattern: 'weekly', numberOfOccurrences: 4 },
    });
    store.editOccurrence(ALICE, series.id, 2, { subject: 'Moved', start: '2026-03-10T11:00:00Z', end: '2026-03-10T11:30:00Z' });
    const outside = store.createAppointment(ALICE, { subject: 'April', start: '2026-04-10T09:00:00Z', end: '2026-04-10T10:00:00Z' });

    const first = await deltaRound(sims, token, `/users/${ALICE}/calendarView/delta?${query}`, { Prefer: 'odata.maxpagesize=2' });
    expect(first.pages).toBe(3);
    const subjects = first.items.map((e) => `${e.type}:${e.subject}`).sort();
    expect(subjects).toEqual(['exception:Moved', 'occurrence:Weekly', 'occurrence:Weekly', 'occurrence:Weekly', 'singleInstance:Single']);
    expect(first.items.every((e) => e['@odata.type'] === '#microsoft.graph.event' && /^W\/"/.test(e['@odata.etag']))).toBe(true);
    const singleEvent = first.items.find((e) => e.subject === 'Single');
    expect(singleEvent.id).toBe(single.id.replace(/\//g, '-').replace(/\+/g, '_'));
    expect(singleEvent.start).toEqual({ dateTime: '2026-03-02T09:00:00.0000000', timeZone: 'UTC' });
    const seriesMasterRest = series.id.replace(/\//g, '-').replace(/\+/g, '_');
    expect(first.items.filter((e) => e.type !== 'singleInstance').every((e) => e.seriesMasterId === seriesMasterRest)).toBe(true);

    // Nothing changed: an empty round. Then an edit, a delete, a move out of the window.
    const empty = await graph(sims, token, 'GET', first.deltaLink);
    expect(empty.json.value).toEqual([]);
    expect(empty.json['@odata.deltaLink']).toBeTruthy();
    store.editItem(ALICE, single.id, { subject: 'Single (edited)' });
    store.deleteOccurrence(ALICE, series.id, 4);
    store.editItem(ALICE, outside.id, { start: '2026-03-20T09:00:00Z', end: '2026-03-20T10:00:00Z' });
    const second = await deltaRound(sims, token, empty.json['@odata.deltaLink']);
    expect(second.items.find((e) => e.id === singleEvent.id)?.subject).toBe('Single (edited)');
    expect(second.items.find((e) => e.subject === 'April')).toBeTruthy();
    const removed = second.items.filter((e) => e['@removed']);
    expect(removed).toHaveLength(1);
    expect(removed[0]).toEqual({ '@odata.type': '#microsoft.graph.event', id: expect.any(String), '@removed': { reason: 'deleted' } });
    // An occurrence changes its version when the series does: the sample's shape ({id, @removed}) for the deleted one.
    const sampleRemoved = JSON.parse(fixture('calendarview-delta-response-nextround-removed.http').split('\n\n').slice(1).join('\n\n')).value[0];
    expect(Object.keys(removed[0]).sort()).toEqual(Object.keys(sampleRemoved).sort());

    store.editItem(ALICE, outside.id, { start: '2026-05-20T09:00:00Z', end: '2026-05-20T10:00:00Z' });
    const third = await deltaRound(sims, token, second.deltaLink);
    expect(third.items.filter((e) => e['@removed']).map((e) => e.id)).toContain(second.items.find((e) => e.subject === 'April').id);
  });

  it('may report the same change twice: an item edited during a round comes in that round and again in the next', async () => {
    const store = sims.ews.store;
    const made = ['A', 'B', 'C', 'D'].map((x, i) =>
      store.createAppointment(ALICE, { subject: `Dup ${x}`, start: `2026-10-0${i + 1}T09:00:00Z`, end: `2026-10-0${i + 1}T10:00:00Z` }),
    );
    const first = await graph(sims, token, 'GET', `/users/${ALICE}/calendarView/delta?startDateTime=2026-10-01T00:00:00Z&endDateTime=2026-10-31T00:00:00Z`, {
      headers: { Prefer: 'odata.maxpagesize=2' },
    });
    expect(first.json.value.map((e: any) => e.subject)).toEqual(['Dup A', 'Dup B']);
    store.editItem(ALICE, made[3].id, { subject: 'Dup D (edited mid-round)' });
    const rest = await deltaRound(sims, token, first.json['@odata.nextLink'], { Prefer: 'odata.maxpagesize=2' });
    expect(rest.items.map((e) => e.subject)).toEqual(['Dup C', 'Dup D (edited mid-round)']);
    const next = await deltaRound(sims, token, rest.deltaLink);
    expect(next.items.map((e) => e.subject)).toEqual(['Dup D (edited mid-round)']);
  });

  it('keeps immutable ids through a chain started with Prefer: IdType="ImmutableId", removals included', async () => {
    const imm = { Prefer: 'IdType="ImmutableId"' };
    const item = sims.ews.store.createAppointment(ALICE, { subject: 'Immutable', start: '2026-11-02T09:00:00Z', end: '2026-11-02T10:00:00Z' });
    const first = await deltaRound(sims, token, `/users/${ALICE}/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-11-30T00:00:00Z`, imm);
    const id = first.items.find((e) => e.subject === 'Immutable').id;
    expect(id).not.toBe(item.id.replace(/\//g, '-').replace(/\+/g, '_'));
    sims.ews.store.removeItem(ALICE, item.id);
    const next = await deltaRound(sims, token, first.deltaLink, imm);
    expect(next.items).toEqual([{ '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } }]);
  });

  it('answers times in the outlook.timezone preference and refuses $select as Graph does', async () => {
    sims.ews.store.createAppointment(ALICE, { subject: 'Zoned', start: '2026-06-02T07:00:00Z', end: '2026-06-02T08:00:00Z' });
    const r = await graph(sims, token, 'GET', `/users/${ALICE}/calendarView/delta?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-06-03T00:00:00Z`, {
      headers: { Prefer: 'outlook.timezone="W. Europe Standard Time", odata.maxpagesize=50' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('preference-applied')).toContain('outlook.timezone="W. Europe Standard Time"');
    expect(r.json.value.find((e: any) => e.subject === 'Zoned').start).toEqual({
      dateTime: '2026-06-02T09:00:00.0000000',
      timeZone: 'W. Europe Standard Time',
    });
    const iana = await graph(sims, token, 'GET', `/users/${ALICE}/calendarView?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-06-03T00:00:00Z`, {
      headers: { Prefer: 'outlook.timezone="America/New_York"' },
    });
    expect(iana.json.value.find((e: any) => e.subject === 'Zoned').start.dateTime).toBe('2026-06-02T03:00:00.0000000');
    for (const opt of ['$select=subject', "$filter=subject eq 'x'", '$orderby=start/dateTime', '$expand=singleValueExtendedProperties']) {
      const bad = await graph(
        sims,
        token,
        'GET',
        `/users/${ALICE}/calendarView/delta?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-06-03T00:00:00Z&${opt}`,
      );
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('ErrorInvalidUrlQuery');
      expect(bad.json.error.message).toContain('change tracking');
      expect(bad.json.error.innerError).toMatchObject({ date: expect.any(String), 'request-id': expect.any(String), 'client-request-id': expect.any(String) });
    }
    const noWindow = await graph(sims, token, 'GET', `/users/${ALICE}/calendarView/delta`);
    expect(noWindow.status).toBe(400);
  });

  it('answers 410 for garbled, expired and too-old tokens and for a change of id type within a chain', async () => {
    const start = `/users/${ALICE}/calendarView/delta?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-03-31T00:00:00Z`;
    const round = await deltaRound(sims, token, start);
    const garbled = round.deltaLink.replace(/\$deltatoken=(.)/, (_m, c) => `$deltatoken=${c === 'A' ? 'B' : 'A'}`);
    const g = await graph(sims, token, 'GET', garbled);
    expect(g.status).toBe(410);
    expect(g.json.error.code).toBe('SyncStateNotFound');

    // Only the last few generations stay valid.
    let link = round.deltaLink;
    const links = [link];
    for (let i = 0; i < 4; i++) {
      link = (await deltaRound(sims, token, link)).deltaLink;
      links.push(link);
    }
    expect((await graph(sims, token, 'GET', links[0])).status).toBe(410);
    expect((await graph(sims, token, 'GET', links[4])).status).toBe(200);

    const switched = await graph(sims, token, 'GET', links[4], { headers: { Prefer: 'IdType="ImmutableId"' } });
    expect(switched.status).toBe(410);
    expect(switched.json.error.message).toContain('id type');

    const fresh = await deltaRound(sims, token, start);
    const expired = await graph(sims, undefined, 'DELETE', `${sims.ews.url}/_sim/mailboxes/${ALICE}/graph-delta-tokens`);
    expect(expired.status).toBe(200);
    expect(expired.json.expired).toBeGreaterThan(0);
    expect((await graph(sims, token, 'GET', fresh.deltaLink)).status).toBe(410);
  });
});

describe('events', () => {
  it('creates, reads, updates with If-Match and deletes, de-duplicating a repeated POST by transactionId', async () => {
    const body = {
      subject: 'Plan',
      body: { contentType: 'HTML', content: '<p>Agenda</p>' },
      start: { dateTime: '2026-07-01T09:00:00', timeZone: 'Pacific Standard Time' },
      end: { dateTime: '2026-07-01T10:00:00', timeZone: 'Pacific Standard Time' },
      location: { displayName: 'Room 1' },
      attendees: [{ emailAddress: { address: 'bob@contoso.example', name: 'Bob' }, type: 'required' }],
      transactionId: 'txn-7c1f-1',
    };
    const created = await graph(sims, token, 'POST', `/users/${ALICE}/calendar/events`, { body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      subject: 'Plan',
      transactionId: 'txn-7c1f-1',
      originalStartTimeZone: 'Pacific Standard Time',
      type: 'singleInstance',
    });
    expect(created.json.start).toEqual({ dateTime: '2026-07-01T16:00:00.0000000', timeZone: 'UTC' });
    const again = await graph(sims, token, 'POST', `/users/${ALICE}/calendar/events`, { body });
    expect(again.json.id).toBe(created.json.id);
    expect(sims.ews.store.readFolder(ALICE, 'calendar').filter((i) => i.fields.Subject === 'Plan')).toHaveLength(1);
    const invitations = await graph(sims, undefined, 'GET', `${sims.ews.url}/_sim/meeting-messages?mailbox=${ALICE}`);
    expect(invitations.json).toContainEqual(expect.objectContaining({ kind: 'invitation', subject: 'Plan', recipients: ['bob@contoso.example'] }));

    const etag = created.json['@odata.etag'];
    const ok = await graph(sims, token, 'PATCH', `/users/${ALICE}/events/${created.json.id}`, { body: { subject: 'Plan v2' }, headers: { 'If-Match': etag } });
    expect(ok.status).toBe(200);
    expect(ok.json['@odata.etag']).not.toBe(etag);
    const stale = await graph(sims, token, 'PATCH', `/users/${ALICE}/events/${created.json.id}`, {
      body: { subject: 'Plan v3' },
      headers: { 'If-Match': etag },
    });
    expect(stale.status).toBe(412);
    expect(stale.json.error.code).toBe('ErrorIrresolvableConflict');
    const unknown = await graph(sims, token, 'PATCH', `/users/${ALICE}/events/${created.json.id}`, { body: { subjekt: 'typo' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('RequestBodyRead');

    const del = await graph(sims, token, 'DELETE', `/users/${ALICE}/events/${created.json.id}`);
    expect(del.status).toBe(204);
    expect((await graph(sims, token, 'GET', `/users/${ALICE}/events/${created.json.id}`)).status).toBe(404);
    const msgs = await graph(sims, undefined, 'GET', `${sims.ews.url}/_sim/meeting-messages?mailbox=${ALICE}`);
    expect(msgs.json).toContainEqual(expect.objectContaining({ kind: 'cancellation', subject: 'Plan v2', recipients: ['bob@contoso.example'] }));
  });

  it('creates a patternedRecurrence series, lists its instances, edits one occurrence into an exception and creates all-day events', async () => {
    const made = await graph(sims, token, 'POST', `/users/${ALICE}/events`, {
      body: {
        subject: 'Standup',
        start: { dateTime: '2026-08-03T09:00:00', timeZone: 'W. Europe Standard Time' },
        end: { dateTime: '2026-08-03T09:15:00', timeZone: 'W. Europe Standard Time' },
        recurrence: {
          pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] },
          range: { type: 'numbered', startDate: '2026-08-03', numberOfOccurrences: 6 },
        },
      },
    });
    expect(made.status).toBe(201);
    expect(made.json.type).toBe('seriesMaster');
    expect(made.json.recurrence).toMatchObject({
      pattern: { type: 'weekly', daysOfWeek: ['monday', 'wednesday'] },
      range: { type: 'numbered', numberOfOccurrences: 6, recurrenceTimeZone: 'W. Europe Standard Time' },
    });
    const inst = await graph(
      sims,
      token,
      'GET',
      `/users/${ALICE}/events/${made.json.id}/instances?startDateTime=2026-08-01T00:00:00Z&endDateTime=2026-08-31T00:00:00Z`,
    );
    expect(inst.json.value).toHaveLength(6);
    expect(inst.json.value[0].start.dateTime).toBe('2026-08-03T07:00:00.0000000');
    const second = inst.json.value[1];
    const patched = await graph(sims, token, 'PATCH', `/users/${ALICE}/events/${second.id}`, {
      body: { subject: 'Standup (long)', end: { dateTime: '2026-08-05T08:00:00', timeZone: 'UTC' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ type: 'exception', subject: 'Standup (long)', seriesMasterId: made.json.id });
    const master = sims.ews.store.readItem(ALICE, made.json.id.replace(/-/g, '/').replace(/_/g, '+'));
    expect(master.exceptions).toHaveLength(1);

    const allDay = await graph(sims, token, 'POST', `/users/${ALICE}/events`, {
      body: {
        subject: 'Holiday',
        isAllDay: true,
        start: { dateTime: '2026-08-15T00:00:00', timeZone: 'UTC' },
        end: { dateTime: '2026-08-16T00:00:00', timeZone: 'UTC' },
      },
    });
    expect(allDay.json).toMatchObject({ isAllDay: true, start: { dateTime: '2026-08-15T00:00:00.0000000' }, end: { dateTime: '2026-08-16T00:00:00.0000000' } });
    const badZone = await graph(sims, token, 'POST', `/users/${ALICE}/events`, {
      body: { subject: 'x', start: { dateTime: '2026-08-15T00:00:00', timeZone: 'Mars/Olympus' }, end: { dateTime: '2026-08-15T01:00:00', timeZone: 'UTC' } },
    });
    expect(badZone.status).toBe(400);
    expect(badZone.json.error.code).toBe('TimeZoneNotSupportedException');
  });

  it('lists events with $orderby and pages with $skip nextLinks', async () => {
    for (const [d, subj] of [
      ['12', 'Z last'],
      ['10', 'M middle'],
      ['11', 'A first'],
    ]) {
      sims.ews.store.createAppointment(ALICE, { subject: `Order ${subj}`, start: `2026-12-${d}T09:00:00Z`, end: `2026-12-${d}T10:00:00Z` });
    }
    const view = `/users/${ALICE}/calendar/calendarView?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-31T00:00:00Z`;
    const bySubject = await graph(sims, token, 'GET', `${view}&$orderby=subject desc&$select=subject`);
    expect(bySubject.json.value.map((e: any) => e.subject)).toEqual(['Order Z last', 'Order M middle', 'Order A first']);
    const byStart = await graph(sims, token, 'GET', `${view}&$orderby=start/dateTime&$select=subject`, { headers: { Prefer: 'odata.maxpagesize=2' } });
    expect(byStart.json.value.map((e: any) => e.subject)).toEqual(['Order M middle', 'Order A first']);
    const rest = await graph(sims, token, 'GET', byStart.json['@odata.nextLink'], { headers: { Prefer: 'odata.maxpagesize=2' } });
    expect(rest.json.value.map((e: any) => e.subject)).toEqual(['Order Z last']);
    expect(rest.json['@odata.nextLink']).toBeUndefined();
    expect((await graph(sims, token, 'GET', `${view}&$orderby=nosuch`)).status).toBe(400);
  });

  it('gives REST ids derived from EWS ids and immutable ids on request, accepting either', async () => {
    const pairs = fixture('ews-vs-rest-id-pair.txt');
    const ewsSample = /EWS ID:\s+(\S+)/.exec(pairs)![1];
    const restSample = /Graph ID:\s+(\S+)/.exec(pairs)![1];
    const { restId } = await import('@exsync/graph-sim');
    expect(restId(ewsSample)).toBe(restSample);

    const item = sims.ews.store.createAppointment(ALICE, { subject: 'Ids', start: '2026-09-01T09:00:00Z', end: '2026-09-01T10:00:00Z' });
    const rest = restId(item.id);
    const byRest = await graph(sims, token, 'GET', `/users/${ALICE}/events/${rest}`);
    expect(byRest.json.id).toBe(rest);
    const imm = await graph(sims, token, 'GET', `/users/${ALICE}/events/${rest}`, { headers: { Prefer: 'IdType="ImmutableId"' } });
    expect(imm.headers.get('preference-applied')).toBe('IdType="ImmutableId"');
    expect(imm.json.id).not.toBe(rest);
    const byImmutable = await graph(sims, token, 'GET', `/users/${ALICE}/events/${imm.json.id}`);
    expect(byImmutable.json.subject, JSON.stringify(byImmutable.json) + ' ' + imm.json.id).toBe('Ids');
    // A move (EWS DeleteItem MoveToDeletedItems, here through the store) and back keeps the immutable id.
    const mb = sims.ews.store.requireMailbox(ALICE);
    const stored = mb.items.get(item.id)!;
    sims.ews.store.moveItem(mb, stored, sims.ews.store.folder(mb, 'deleteditems'));
    sims.ews.store.moveItem(mb, stored, sims.ews.store.folder(mb, 'calendar'));
    const afterMove = await graph(sims, token, 'GET', `/users/${ALICE}/events/${imm.json.id}`, { headers: { Prefer: 'IdType="ImmutableId"' } });
    expect(afterMove.json.id).toBe(imm.json.id);
    expect((await graph(sims, token, 'GET', `/users/${ALICE}/events/not*an*id`)).json.error.code).toBe('ErrorInvalidIdMalformed');
    expect(
      (
        await graph(
          sims,
          token,
          'GET',
          `/users/${ALICE}/events/AAMkAGUzMWEzZmRjLTkzY2EtNDMxNS1hOTMzLWRiZjQyNjE2MDc0NgFRAAgI2a_mhiqAAEYAAAAAsWi2nD1JzUqEiTxqPbFNSgcA2iKnZiVk1kCLU_Dw4WArgQAAAAABDQAA2iKnZiVk1kCLU_Dw4WArgQAASTCjRwAAEA==`,
        )
      ).status,
    ).toBe(404);
  });
});
