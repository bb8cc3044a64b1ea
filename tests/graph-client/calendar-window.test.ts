import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import type { OrgCredentials } from '@exsync/ews-client';
import type { GraphMailbox, GraphMailboxOptions } from '@exsync/graph-client';
import type { Appointment, CalendarWindow, ChangePage, MailboxPort } from '@exsync/canonical';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { openGraphAppOnly, simControl } from '../support/sims';

/**
 * The Graph transport's calendar window and meeting rules (issue 16), against the real Graph
 * simulator over HTTP with MSAL tokens from the Entra simulator: the window is stored with the delta
 * link, a moved window reads the stored round to its end before listing the new one, an event that
 * left the window (`@removed`) is read back and reported as changed, creates never carry attendees,
 * and the deleteOrganizerMeetings policy decides whether a meeting with attendees is deleted.
 */
const MAILBOX = DEFAULT_SEED.users[1]?.email ?? DEFAULT_SEED.users[0].email;
const DAY = 86_400_000;
let sims: Simulators;
let creds: OrgCredentials;

const control = simControl(() => sims.ews.url);

function open(extra: Partial<GraphMailboxOptions> = {}): GraphMailbox {
  return openGraphAppOnly(sims.graph.url, creds, MAILBOX, extra);
}

async function round(port: MailboxPort, state?: string): Promise<{ pages: ChangePage[]; state: string }> {
  const pages: ChangePage[] = [];
  for await (const p of port.syncFolder('calendar', state)) pages.push(p);
  return { pages, state: pages[pages.length - 1].syncState };
}

const at = (days: number, hour = 10) => {
  const t = new Date(Date.now() + days * DAY);
  t.setUTCHours(hour, 0, 0, 0);
  return t.toISOString().replace('.000Z', 'Z');
};
const windowOf = (fromDays: number, toDays: number): CalendarWindow => ({ start: at(fromDays, 0), end: at(toDays, 0) });
const appointment = (subject: string, days: number, extra: Partial<Appointment> = {}): Appointment => ({
  subject,
  start: at(days, 9),
  end: at(days, 10),
  timeZone: 'UTC',
  isAllDay: false,
  ...extra,
});

async function create(port: GraphMailbox, item: Appointment): Promise<string> {
  const [r] = await port.createItems('appointment', [{ tag: crypto.randomUUID(), item }]);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.itemId;
}

beforeAll(async () => {
  sims = await startSimulators();
  creds = { authorityHost: sims.entraUrl, tenantId: sims.tenantId, applicationId: sims.applicationId, clientSecret: sims.clientSecret };
});
afterAll(async () => {
  await sims?.close();
});

describe('the Graph calendar window', () => {
  it('keeps the window with the state; a moved window reads the stored round to its end, then lists the new window', async () => {
    const w1 = windowOf(-30, 100);
    const first = open({ calendarWindow: w1 });
    const near = await create(first, appointment('Inside both', 10));
    const far = await create(first, appointment('Beyond the first window', 400));
    const gone = await create(first, appointment('Deleted meanwhile', 20));
    const r1 = await round(first);
    const listed1 = r1.pages.flatMap((p) => p.changes.map((c) => c.itemId));
    expect(listed1).toEqual(expect.arrayContaining([near, gone]));
    expect(listed1).not.toContain(far);
    expect(r1.state).toContain(`#exsync-window=${w1.start},${w1.end}`);
    expect(r1.pages.at(-1)!.moreAvailable).toBe(false);

    // meanwhile: one deleted; then the window moves
    expect((await first.deleteItems([gone]))[0].ok).toBe(true);
    const w2 = windowOf(-30, 500);
    const moved = await round(open({ calendarWindow: w2 }), r1.state);
    const changes = moved.pages.flatMap((p) => p.changes);
    // the stored round's own changes come first: the delete it still owed, read back as a 404
    expect(changes).toContainEqual({ type: 'delete', itemId: gone });
    // then the new window's listing, with the item that entered it
    expect(changes.filter((c) => c.type === 'update').map((c) => c.itemId)).toEqual(expect.arrayContaining([near, far]));
    expect(moved.pages.slice(0, -1).every((p) => p.moreAvailable)).toBe(true);
    expect(moved.pages.at(-1)!.moreAvailable).toBe(false);
    expect(moved.state).toContain(`#exsync-window=${w2.start},${w2.end}`);

    // the same window again: an incremental round, nothing listed
    const again = await round(open({ calendarWindow: w2 }), moved.state);
    expect(again.pages.flatMap((p) => p.changes)).toEqual([]);
    // a state stored before windows were recorded (no fragment) is read to its end, then the window listed
    const legacy = await round(open({ calendarWindow: w2 }), moved.state.split('#')[0]);
    expect(legacy.pages.flatMap((p) => p.changes).map((c) => c.itemId)).toEqual(expect.arrayContaining([near, far]));
    await first.deleteItems([near, far]);
  });

  it('reports an event moved out of the window as changed (read back), never as deleted', async () => {
    const w = windowOf(-10, 60);
    const port = open({ calendarWindow: w });
    const id = await create(port, appointment('Moving away', 5));
    const r1 = await round(port);
    const [read] = await port.getItems('appointment', [id]);
    if (!read.ok) throw new Error(read.error.message);
    const [moved] = await port.updateItems('appointment', [
      { itemId: id, changeKey: read.value.changeKey, item: { ...read.value.item, start: at(300, 9), end: at(300, 10) } },
    ]);
    expect(moved.ok).toBe(true);
    const r2 = await round(port, r1.state);
    const mine = r2.pages.flatMap((p) => p.changes).filter((c) => c.itemId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0].type).toBe('update');
    await port.deleteItems([id]);
  });
});

describe('Graph meetings', () => {
  it('never sends attendees on create: no invitation goes out and the event has none', async () => {
    const port = open();
    const mb = encodeURIComponent(MAILBOX);
    await control('DELETE', '/_sim/meeting-messages');
    const id = await create(port, appointment('Planning with guests', 3, { attendees: [{ email: 'guest@fabrikam.example', type: 'required' }] }));
    expect(await control('GET', `/_sim/meeting-messages?mailbox=${mb}`)).toEqual([]);
    const [read] = await port.getItems('appointment', [id]);
    expect(read.ok && read.value.item.attendees).toBeFalsy();
    await port.deleteItems([id]);
  });

  it('deletes a meeting with attendees only under deleteOrganizerMeetings, and then cancellations go out', async () => {
    const mb = encodeURIComponent(MAILBOX);
    const meeting = async (subject: string) => {
      await control('POST', `/_sim/mailboxes/${mb}/calendar`, { subject, start: at(6, 9), end: at(6, 10), attendees: ['board@fabrikam.example'] });
      const found = (await round(open())).pages.flatMap((p) => p.changes).map((c) => c.itemId);
      const items = await open().getItems('appointment', found);
      const hit = items.find((r) => r.ok && r.value.item.subject === subject);
      if (!hit?.ok) throw new Error(`no ${subject}`);
      return hit.value.itemId;
    };
    const kept = await meeting('Board meeting kept');
    await control('DELETE', '/_sim/meeting-messages');
    const [refused] = await open().deleteItems([kept]);
    expect(!refused.ok && { kind: refused.error.kind, code: refused.error.code }).toEqual({ kind: 'Permanent', code: 'MeetingDeleteRefused' });
    expect(await control('GET', `/_sim/meeting-messages?mailbox=${mb}`)).toEqual([]);

    const [deleted] = await open({ deleteOrganizerMeetings: true }).deleteItems([kept]);
    expect(deleted.ok).toBe(true);
    const messages = await control('GET', `/_sim/meeting-messages?mailbox=${mb}`);
    expect(messages.map((m: { kind: string; recipients: string[] }) => [m.kind, m.recipients])).toEqual([['cancellation', ['board@fabrikam.example']]]);
    const [after] = await open().getItems('appointment', [kept]);
    expect(!after.ok && after.error.kind).toBe('ItemNotFound');
  });
});
