import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import type { OrgCredentials } from '@exsync/ews-client';
import type { GraphMailbox, GraphMailboxOptions } from '@exsync/graph-client';
import type { Appointment, ChangePage, Contact, FolderName, MailboxPort } from '@exsync/canonical';
import { isSyncError } from '@exsync/canonical';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { openGraphAppOnly, simControl } from '../support/sims';

/**
 * The Graph transport (packages/graph-client) as canonical's MailboxPort, against the real Graph
 * simulator over HTTP, with tokens from MSAL against the Entra simulator: delta rounds, writes with
 * tags, findByTag, series with a modified and a deleted occurrence, throttling, 410 and the
 * per-mailbox concurrency limit read from the simulator's request log.
 */
const MAILBOX = DEFAULT_SEED.users[0].email;
let sims: Simulators;
let creds: OrgCredentials;

const control = simControl(() => sims.ews.url);

function open(extra: Partial<GraphMailboxOptions> = {}): GraphMailbox {
  return openGraphAppOnly(sims.graph.url, creds, MAILBOX, extra);
}

async function round(port: MailboxPort, folder: FolderName, state?: string): Promise<{ pages: ChangePage[]; state: string }> {
  const pages: ChangePage[] = [];
  for await (const p of port.syncFolder(folder, state)) pages.push(p);
  return { pages, state: pages[pages.length - 1].syncState };
}

const inDays = (d: number, hour = 10) => {
  const t = new Date(Date.now() + d * 86_400_000);
  t.setUTCHours(hour, 0, 0, 0);
  return t.toISOString().replace('.000Z', 'Z');
};

beforeAll(async () => {
  sims = await startSimulators();
  creds = { authorityHost: sims.entraUrl, tenantId: sims.tenantId, applicationId: sims.applicationId, clientSecret: sims.clientSecret };
});

afterAll(async () => {
  await sims?.close();
});

beforeEach(async () => {
  await control('DELETE', '/_sim/faults');
});

describe('graph-client as a MailboxPort', () => {
  it('creates, reads, finds by tag, updates with If-Match and deletes, through delta rounds', async () => {
    const port = open();
    const first = await round(port, 'contacts');
    const cal = await round(port, 'calendar');

    const contact: Contact = {
      givenName: 'Ada',
      surname: 'Lovelace',
      emails: [{ address: 'ada@example.com' }],
      phones: { mobile: '+44 1' },
      addresses: { home: { city: 'London' } },
      birthday: '1815-12-10',
    };
    const appt: Appointment = { subject: 'Graph single', start: inDays(3), end: inDays(3, 11), timeZone: 'Europe/Berlin', isAllDay: false, location: 'Room 1' };
    const [c] = await port.createItems('contact', [{ tag: 'link-contact-1', item: contact }]);
    const [a] = await port.createItems('appointment', [{ tag: 'link-appt-1', item: appt }]);
    expect(c.ok && a.ok).toBe(true);
    if (!c.ok || !a.ok) return;

    // the tag is the same extended property EWS writes: found by tag, read back on the item
    expect(await port.findByTag('contact', 'link-contact-1')).toEqual([c.value]);
    expect(await port.findByTag('appointment', 'link-appt-1')).toEqual([a.value]);
    expect(await port.findByTag('appointment', 'no-such-tag')).toEqual([]);
    const [readC] = await port.getItems('contact', [c.value.itemId]);
    expect(readC.ok && readC.value).toMatchObject({ tag: 'link-contact-1', changeKey: c.value.changeKey, item: contact });
    const [readA] = await port.getItems('appointment', [a.value.itemId]);
    expect(readA.ok && readA.value.item).toMatchObject({
      subject: 'Graph single',
      start: appt.start,
      end: appt.end,
      timeZone: 'Europe/Berlin',
      location: 'Room 1',
    });

    // a repeated create with the same link id (a lost answer) answers the same event
    const [again] = await port.createItems('appointment', [{ tag: 'link-appt-1', item: appt }]);
    expect(again.ok && again.value.itemId).toBe(a.value.itemId);

    // the next delta rounds name the new items
    const c2 = await round(port, 'contacts', first.state);
    expect(c2.pages.flatMap((p) => p.changes).map((x) => x.itemId)).toContain(c.value.itemId);
    const a2 = await round(port, 'calendar', cal.state);
    const aChange = a2.pages.flatMap((p) => p.changes).find((x) => x.itemId === a.value.itemId);
    expect(aChange).toMatchObject({ type: 'update', tag: 'link-appt-1' });

    // If-Match: the stored changeKey wins once, a stale one is a ChangeKeyConflict
    const [u1] = await port.updateItems('contact', [{ itemId: c.value.itemId, changeKey: c.value.changeKey, item: { ...contact, jobTitle: 'Analyst' } }]);
    expect(u1.ok).toBe(true);
    const [u2] = await port.updateItems('contact', [{ itemId: c.value.itemId, changeKey: c.value.changeKey, item: { ...contact, jobTitle: 'Stale' } }]);
    expect(!u2.ok && u2.error.kind).toBe('ChangeKeyConflict');

    // deletes: a 404 on read-back is the only delete the calendar round reports
    const del = await port.deleteItems([a.value.itemId, c.value.itemId, a.value.itemId]);
    expect(del.every((r) => r.ok)).toBe(true);
    const a3 = await round(port, 'calendar', a2.state);
    expect(a3.pages.flatMap((p) => p.changes)).toContainEqual({ type: 'delete', itemId: a.value.itemId });
    const c3 = await round(port, 'contacts', c2.state);
    expect(c3.pages.flatMap((p) => p.changes)).toContainEqual({ type: 'delete', itemId: c.value.itemId });
    const [gone] = await port.getItems('contact', [c.value.itemId]);
    expect(!gone.ok && gone.error.kind).toBe('ItemNotFound');
  });

  it('writes and reads a series with a modified and a deleted occurrence, folded into its master', async () => {
    const port = open();
    const cal = await round(port, 'calendar');
    const start = inDays(7, 9);
    const series: Appointment = {
      subject: 'Weekly',
      start,
      end: inDays(7, 10),
      timeZone: 'Europe/Berlin',
      isAllDay: false,
      recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: start.slice(0, 10), numberOfOccurrences: 5 } },
    };
    const [m] = await port.createItems('appointment', [{ tag: 'link-series-1', item: series }]);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    const [read] = await port.getItems('appointment', [m.value.itemId]);
    expect(read.ok && read.value.item.recurrence?.modifiedOccurrences).toBeUndefined();
    if (!read.ok) return;
    const starts = [1, 2, 3, 4].map((i) => new Date(Date.parse(start) + i * 86_400_000).toISOString().replace('.000Z', 'Z'));
    const moved = { originalStart: starts[0], subject: 'Moved one', start: inDays(8, 14), end: inDays(8, 15) };
    const edited: Appointment = { ...series, recurrence: { ...series.recurrence!, modifiedOccurrences: [moved], deletedOccurrences: [starts[2]] } };
    const [u] = await port.updateItems('appointment', [{ itemId: m.value.itemId, changeKey: read.value.changeKey, item: edited }]);
    expect(u.ok).toBe(true);
    const [after] = await port.getItems('appointment', [m.value.itemId]);
    expect(after.ok && after.value.item.recurrence).toMatchObject({ modifiedOccurrences: [moved], deletedOccurrences: [starts[2]] });
    expect(after.ok && after.value.changeKey).toBe(u.ok && u.value.changeKey);

    // the round names the master once (occurrences folded), never an occurrence, never a delete
    const next = await round(port, 'calendar', cal.state);
    const changes = next.pages.flatMap((p) => p.changes);
    expect(changes.filter((c) => c.itemId === m.value.itemId)).toHaveLength(1);
    expect(changes.find((c) => c.itemId === m.value.itemId)).toMatchObject({ type: 'update', tag: 'link-series-1' });
    expect(changes.filter((c) => c.type === 'delete')).toEqual([]);
    const again = await round(port, 'calendar', next.state);
    expect(again.pages.flatMap((p) => p.changes)).toEqual([]);
  });

  it('reads each event once per round (its page read serves getItems) and reports its own writes unread', async () => {
    const port = open();
    const cal = await round(port, 'calendar');
    // made in another session, as Outlook would: this session knows nothing of them
    const outlook = open();
    const start = inDays(20, 9);
    const made = await outlook.createItems('appointment', [
      ...[1, 2, 3].map((i) => ({
        tag: `link-once-${i}`,
        item: { subject: `Once ${i}`, start: inDays(20 + i, 9), end: inDays(20 + i, 10), timeZone: 'Europe/Berlin', isAllDay: false } as Appointment,
      })),
      {
        tag: 'link-once-series',
        item: {
          subject: 'Once weekly',
          start,
          end: inDays(20, 10),
          timeZone: 'Europe/Berlin',
          isAllDay: false,
          recurrence: {
            pattern: { type: 'daily', interval: 1 },
            range: { type: 'numbered', startDate: start.slice(0, 10), numberOfOccurrences: 3 },
          },
        } as Appointment,
      },
    ]);
    expect(made.every((r) => r.ok)).toBe(true);
    const eventReads = async () =>
      ((await control('GET', '/_sim/requests?protocol=graph')) as { operation?: string }[]).filter((e) => /GET event$/.test(e.operation ?? '')).length;

    // as the engine does: each page's changed items fetched before the next page is asked for
    await control('DELETE', '/_sim/requests');
    let state = cal.state;
    const fetched = new Map<string, { tag?: string; changeKey: string; subject: string }>();
    for await (const page of port.syncFolder('calendar', cal.state)) {
      const ids = page.changes.filter((c) => c.type !== 'delete').map((c) => c.itemId);
      for (const r of await port.getItems('appointment', ids)) {
        expect(r.ok).toBe(true);
        if (r.ok) fetched.set(r.value.itemId, { tag: r.value.tag, changeKey: r.value.changeKey, subject: r.value.item.subject });
      }
      state = page.syncState;
    }
    for (const r of made) if (r.ok) expect(fetched.get(r.value.itemId)).toMatchObject({ changeKey: r.value.changeKey });
    expect([...fetched.values()].map((f) => f.tag).sort()).toEqual(['link-once-1', 'link-once-2', 'link-once-3', 'link-once-series']);
    expect(await eventReads()).toBe(4);

    // this session's own writes come back in the next round with the tag and changeKey written, unread
    const [mine] = await port.createItems('appointment', [
      { tag: 'link-once-mine', item: { subject: 'Mine', start: inDays(30, 9), end: inDays(30, 10), timeZone: 'Europe/Berlin', isAllDay: false } },
    ]);
    expect(mine.ok).toBe(true);
    if (!mine.ok) return;
    await control('DELETE', '/_sim/requests');
    const next = await round(port, 'calendar', state);
    expect(next.pages.flatMap((p) => p.changes)).toContainEqual(
      expect.objectContaining({ itemId: mine.value.itemId, changeKey: mine.value.changeKey, tag: 'link-once-mine' }),
    );
    expect(await eventReads()).toBe(0);
    // what another session changed since is read as before
    const [edited] = await outlook.updateItems('appointment', [
      {
        itemId: mine.value.itemId,
        changeKey: mine.value.changeKey,
        item: { subject: 'Mine, edited', start: inDays(30, 9), end: inDays(30, 10), timeZone: 'Europe/Berlin', isAllDay: false },
      },
    ]);
    expect(edited.ok).toBe(true);
    const after = await round(port, 'calendar', next.state);
    expect(after.pages.flatMap((p) => p.changes)).toContainEqual(expect.objectContaining({ itemId: mine.value.itemId, tag: 'link-once-mine' }));
    expect(await eventReads()).toBe(1);
  });

  it('waits out 429 with Retry-After (inside $batch too) and keeps at most 4 requests in flight', async () => {
    const port = open();
    const items = Array.from({ length: 30 }, (_, i) => ({
      tag: `link-conc-${i}`,
      item: { givenName: `C${i}`, emails: [], phones: {}, addresses: {} } as Contact,
    }));
    const created = await port.createItems('contact', items);
    expect(created.every((r) => r.ok)).toBe(true);
    const ids = created.map((r) => (r.ok ? r.value.itemId : ''));

    await control('PUT', `/_sim/mailboxes/${MAILBOX}/faults`, { latencyMs: 40 });
    await control('DELETE', '/_sim/requests');
    // several callers at once on the same mailbox: the client's limit, not the server's 429, holds them back
    const reads = await Promise.all([
      port.getItems('contact', ids),
      open().getItems('contact', ids.slice(0, 10)),
      ...ids.slice(0, 6).map((id) => port.findByTag('contact', `link-conc-${ids.indexOf(id)}`)),
    ]);
    expect(reads[0].every((r) => r.ok)).toBe(true);
    const log = (await control('GET', `/_sim/requests?mailbox=${MAILBOX}&protocol=graph`)) as { status: number; startedAt: number; endedAt: number }[];
    expect(log.filter((e) => e.status === 429)).toEqual([]);
    const events = log
      .flatMap((e) => [
        [e.startedAt, 1],
        [e.endedAt, -1],
      ])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let max = 0;
    for (const [, d] of events) max = Math.max(max, (cur += d));
    expect(max).toBeLessThanOrEqual(4);
    expect(max).toBeGreaterThan(1);

    // every request inside a batch throttled once: no request before Retry-After ends, all succeed
    await control('PUT', `/_sim/mailboxes/${MAILBOX}/faults`, { itemServerBusyRate: 1, backOffMs: 1000 });
    await control('DELETE', '/_sim/requests');
    const t0 = Date.now();
    const pending = port.getItems('contact', ids.slice(0, 3));
    await new Promise((r) => setTimeout(r, 300));
    await control('PUT', `/_sim/mailboxes/${MAILBOX}/faults`, { itemServerBusyRate: 0 });
    const got = await pending;
    expect(got.every((r) => r.ok)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    // from the simulator's log: nothing was sent for the mailbox until the Retry-After had passed
    const busyLog = (await control('GET', `/_sim/requests?mailbox=${MAILBOX}&protocol=graph`)) as { status: number; startedAt: number; endedAt: number }[];
    const busy = busyLog.filter((e) => e.status === 429);
    // one throttled attempt per request (no early retry inside the back-off)
    expect(busy).toHaveLength(3);
    const lastBusy = Math.max(...busy.map((e) => e.endedAt));
    const after = busyLog.filter((e) => e.startedAt > lastBusy - 1 && e.status !== 429);
    expect(after.length).toBeGreaterThan(0);
    for (const e of after) expect(e.startedAt - lastBusy).toBeGreaterThanOrEqual(990);

    // a whole request throttled longer than the client waits: Throttled with the back-off as data
    await control('PUT', `/_sim/mailboxes/${MAILBOX}/faults`, { serverBusyRate: 1, backOffMs: 3000 });
    const impatient = open({ maxRetryWaitMs: 500 });
    const err = await impatient.findByTag('contact', 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSyncError(err) && { kind: err.kind, backoffMs: err.backoffMs }).toEqual({ kind: 'Throttled', backoffMs: 3000 });
    await control('DELETE', '/_sim/faults');
    await port.deleteItems(ids);
  });

  it('leaves a meeting with attendees in place instead of sending cancellations; deletes everything else', async () => {
    const port = open();
    const cal = await round(port, 'calendar');
    const mb = encodeURIComponent(MAILBOX);
    const made = await control('POST', `/_sim/mailboxes/${mb}/calendar`, {
      subject: 'Board meeting',
      start: inDays(4, 9),
      end: inDays(4, 10),
      attendees: ['board@example.com'],
    });
    expect(made.id).toBeTruthy();
    const next = await round(port, 'calendar', cal.state);
    const [meeting] = next.pages.flatMap((p) => p.changes);
    await control('DELETE', '/_sim/meeting-messages');
    const [res, missing] = await port.deleteItems([meeting.itemId, 'AAMkAGNvbnRvc28']);
    expect(!res.ok && { kind: res.error.kind, code: res.error.code }).toEqual({ kind: 'Permanent', code: 'MeetingDeleteRefused' });
    expect(missing.ok).toBe(true);
    expect(await control('GET', `/_sim/meeting-messages?mailbox=${mb}`)).toEqual([]);
    const [still] = await port.getItems('appointment', [meeting.itemId]);
    expect(still.ok && still.value.item.subject).toBe('Board meeting');
  });

  it('raises SyncStateInvalid on an expired delta link (410); a fresh round starts the folder over', async () => {
    const port = open();
    const first = await round(port, 'contacts');
    await control('DELETE', `/_sim/mailboxes/${MAILBOX}/graph-delta-tokens`);
    const err = await round(port, 'contacts', first.state).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSyncError(err) && err.kind).toBe('SyncStateInvalid');
    const restarted = await round(port, 'contacts');
    expect(restarted.state).toMatch(/deltatoken/i);
  });

  it('reports a reset connection, a hung answer and a garbled one as Transient', async () => {
    for (const fault of [{ resetRate: 1 }, { hangRate: 1 }, { malformedRate: 1 }]) {
      await control('PUT', `/_sim/mailboxes/${MAILBOX}/faults`, fault);
      const err = await round(open({ timeoutMs: 500 }), 'contacts').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSyncError(err) && err.kind).toBe('Transient');
    }
    await control('DELETE', '/_sim/faults');
    expect((await round(open(), 'contacts')).state).toMatch(/deltatoken/i);
  });

  it('refuses a graphUrl outside the endpoint policy before sending a token', async () => {
    const port = open({ endpointPolicy: { operatorHosts: [], allowInsecure: true } });
    const err = await round(port, 'contacts').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSyncError(err) && { kind: err.kind, code: err.code }).toEqual({ kind: 'InvalidSettings', code: 'EndpointNotAllowed' });
  });
});
