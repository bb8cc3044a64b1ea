import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startStack, type Stack, type StackUser } from '../support/stack';

/**
 * The calendar window over Graph, end to end (issue 16): real Postgres, Redis, MSAL against the
 * Entra simulator, the Graph simulator, the API and an in-process worker whose clock follows the
 * simulators' (`POST /_sim/clock`). Advancing it 30 days makes the scheduler roll the window: the
 * stored round is read to its end, a new round over the new window starts, items that only left the
 * window stay on both sides, items that entered it sync once (a CRM-made one matched to its link),
 * and a roll or a run over an unchanged mailbox writes nothing on either side.
 */
let stack: Stack;
let user: StackUser;
const DAY = 86_400_000;

/** An instant `days` from the simulators' now, at `hour`:00 UTC. */
const simDay = (days: number, hour: number) => {
  const t = new Date(stack.ews.store.clock.now() + days * DAY);
  t.setUTCHours(hour, 0, 0, 0);
  return t.toISOString().replace('.000Z', 'Z');
};
const isWrite = (op: string | undefined) => !!op && /(^|\s)(POST|PATCH|DELETE) /.test(op) && op !== 'POST $batch';
const graphWrites = () => stack.ews.requestLog.list(user.email, 'graph').filter((e) => isWrite(e.operation));
const graphOps = () => stack.ews.requestLog.list(user.email, 'graph').map((e) => e.operation);

/**
 * The CRM-side change feed read from its table: the API's `/changes` holds back rows newer than any
 * open transaction on the server (other test files share it), and "nothing written" needs every row.
 */
async function feedCursor(): Promise<string> {
  const r = await stack.pool.query(`SELECT coalesce(max(cursor), 0)::text AS c FROM change_feed WHERE org_id = $1`, [stack.orgId]);
  return r.rows[0].c;
}
async function feedSince(cursor: string): Promise<{ op: string; crmId: string; item: { subject?: string } | null }[]> {
  const r = await stack.pool.query(`SELECT op, crm_id AS "crmId", item FROM change_feed WHERE org_id = $1 AND cursor > $2::bigint ORDER BY cursor`, [
    stack.orgId,
    cursor,
  ]);
  return r.rows;
}
async function crmSubjects(): Promise<string[]> {
  const res = await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/appointments`);
  const list: { item?: { subject?: string }; subject?: string; deleted?: boolean }[] = res.body.items ?? res.body.appointments ?? res.body;
  return list.map((a) => a.item?.subject ?? a.subject ?? '').sort();
}
/** Advances the simulators' (and so the worker's) clock and waits for the run the scheduler's roll starts. */
async function advanceAndWaitForRoll(days: number) {
  const since = await stack.dbNow();
  expect((await stack.sim('POST', '/_sim/clock', { advanceDays: days })).status).toBe(200);
  return stack.waitForRunAfter(user, since);
}

beforeAll(async () => {
  stack = await startStack({ transport: 'graph', followSimClock: true });
  const email = `window-${Date.now().toString(36)}@${DEFAULT_SEED.tenantDomain}`;
  stack.ews.store.createMailbox({ email, tenantId: stack.tenantId, displayName: 'Window' });
  const mb = encodeURIComponent(email);
  const seed = async (body: Record<string, unknown>) => expect((await stack.sim('POST', `/_sim/mailboxes/${mb}/calendar`, body)).status).toBe(201);
  // inside today's window (90 back, 540 ahead), leaving it after 30 days
  await seed({ subject: 'Old review', start: simDay(-80, 9), end: simDay(-80, 10) });
  // inside it before and after
  await seed({ subject: 'Near review', start: simDay(10, 9), end: simDay(10, 10) });
  // a weekly series across the window's start: some occurrences leave it, the master stays linked
  await seed({
    subject: 'Weekly sync',
    start: simDay(-84, 8),
    end: simDay(-84, 9),
    recurrence: {
      pattern: 'weekly',
      daysOfWeek: [new Date(simDay(-84, 8)).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' })],
      numberOfOccurrences: 20,
    },
  });
  // beyond the window's end, entering it after 30 days
  await seed({ subject: 'Far offsite', start: simDay(560, 9), end: simDay(560, 17) });
  user = await stack.addUser({ email, syncContacts: false });
  await stack.waitForRunAfter(user, new Date(0));
}, 90_000);
afterAll(async () => {
  await stack?.close();
});

describe('the calendar window over Graph', () => {
  it('syncs the items inside the window only, and a CRM item beyond it goes to the mailbox', async () => {
    expect(await crmSubjects()).toEqual(['Near review', 'Old review', 'Weekly sync']);
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    const far = { subject: 'CRM far planning', start: simDay(565, 9), end: simDay(565, 10), timeZone: 'UTC', isAllDay: false };
    expect((await stack.api('PUT', `${base}/appointments/crm-far`, far)).status).toBe(201);
    const status = await stack.syncNow(user);
    expect(status.state).toBe('healthy');
    expect(status.counts.toExchange.created).toBe(1);
    expect(
      stack.ews.store
        .readFolder(user.email, 'calendar')
        .map((i) => i.fields.Subject)
        .sort(),
    ).toEqual(['CRM far planning', 'Far offsite', 'Near review', 'Old review', 'Weekly sync']);
  });

  it('rolls 30 days later: nothing that only left the window is deleted, what entered syncs once, nothing is written to the mailbox', async () => {
    const cursor = await feedCursor();
    stack.ews.requestLog.clear();
    const status = await advanceAndWaitForRoll(30);
    expect(status.state).toBe('healthy');
    // the roll read the old round to its end and listed the new window
    expect(graphOps().filter((op) => op === 'GET calendarView/delta').length).toBeGreaterThanOrEqual(2);
    expect(graphWrites()).toEqual([]);
    // the CRM side: one upsert, the Outlook item that entered; no delete of what left
    const feed = await feedSince(cursor);
    expect(feed.map((c) => [c.op, c.item?.subject])).toEqual([['upsert', 'Far offsite']]);
    expect(await crmSubjects()).toEqual(['CRM far planning', 'Far offsite', 'Near review', 'Old review', 'Weekly sync']);
    // and the mailbox still holds each item once
    expect(stack.ews.store.readFolder(user.email, 'calendar')).toHaveLength(5);
    expect(status.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 1, updated: 0, deleted: 0 } });
  });

  it('a roll and a run over an unchanged mailbox write nothing on either side', async () => {
    const cursor = await feedCursor();
    stack.ews.requestLog.clear();
    // a week on the window moves again: a new round over an unchanged mailbox
    const rolled = await advanceAndWaitForRoll(7);
    expect(rolled.state).toBe('healthy');
    expect(graphOps()).toContain('GET calendarView/delta');
    const quiet = await stack.syncNow(user);
    expect(quiet.state).toBe('healthy');
    for (const s of [rolled, quiet])
      expect(s.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
    expect(graphWrites()).toEqual([]);
    expect(await feedSince(cursor)).toEqual([]);
    expect(stack.ews.store.readFolder(user.email, 'calendar')).toHaveLength(5);
  });

  it('a lost delta state (410) restarts the window: only an item really deleted is deleted, not those that left the window', async () => {
    const mb = encodeURIComponent(user.email);
    const near = stack.ews.store.readFolder(user.email, 'calendar').find((i) => i.fields.Subject === 'Near review')!;
    expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(near.id)}`)).status).toBeLessThan(300);
    expect((await stack.sim('DELETE', `/_sim/mailboxes/${mb}/graph-delta-tokens`)).status).toBe(200);
    const cursor = await feedCursor();
    stack.ews.requestLog.clear();
    const status = await stack.syncNow(user);
    expect(status.state).toBe('healthy');
    expect((await feedSince(cursor)).map((c) => c.op)).toEqual(['delete']);
    // 'Old review' left the window long ago and is unseen by the restarted round: read back, kept
    expect(await crmSubjects()).toEqual(['CRM far planning', 'Far offsite', 'Old review', 'Weekly sync']);
    expect(graphWrites()).toEqual([]);
  });

  it('shows and validates calendarWindow and deleteOrganizerMeetings, naming the field', async () => {
    const org = await stack.api('POST', '/v1/orgs', { name: 'Window settings org' });
    const url = `/v1/orgs/${org.body.id}/exchange`;
    const put = await stack.api('PUT', url, { applicationId: stack.tenantId, tenantId: stack.tenantId, clientSecret: 's', transport: 'graph' });
    expect(put).toMatchObject({ status: 200, body: { calendarWindow: { pastDays: 90, futureDays: 540 }, deleteOrganizerMeetings: false } });
    expect(await stack.api('PATCH', url, { calendarWindow: { pastDays: 30, futureDays: 365 }, deleteOrganizerMeetings: true })).toMatchObject({
      status: 200,
      body: { calendarWindow: { pastDays: 30, futureDays: 365 }, deleteOrganizerMeetings: true },
    });
    expect((await stack.api('GET', url)).body).toMatchObject({ calendarWindow: { pastDays: 30, futureDays: 365 }, deleteOrganizerMeetings: true });
    for (const [body, field] of [
      [{ calendarWindow: { pastDays: -1, futureDays: 10 } }, 'calendarWindow.pastDays'],
      [{ calendarWindow: { pastDays: 10, futureDays: 0 } }, 'calendarWindow.futureDays'],
      [{ calendarWindow: { pastDays: 1.5, futureDays: 10 } }, 'calendarWindow.pastDays'],
      [{ calendarWindow: { pastDays: 1000, futureDays: 1000 } }, 'calendarWindow'],
      [{ calendarWindow: { pastDays: 10 } }, 'calendarWindow.futureDays'],
      [{ calendarWindow: 90 }, 'calendarWindow'],
      [{ deleteOrganizerMeetings: 'yes' }, 'deleteOrganizerMeetings'],
    ] as const) {
      expect(await stack.api('PATCH', url, body)).toMatchObject({ status: 400, body: { field } });
    }
    // a full replace without them takes the defaults again
    const again = await stack.api('PUT', url, { applicationId: stack.tenantId, tenantId: stack.tenantId });
    expect(again.body).toMatchObject({ calendarWindow: { pastDays: 90, futureDays: 540 }, deleteOrganizerMeetings: false });
  });
});

describe('a CRM delete of a meeting the mailbox organises with attendees', () => {
  const base = () => `/v1/orgs/${stack.orgId}/users/${user.userId}`;
  async function pulledMeeting(subject: string): Promise<string> {
    const mb = encodeURIComponent(user.email);
    expect(
      (await stack.sim('POST', `/_sim/mailboxes/${mb}/calendar`, { subject, start: simDay(5, 14), end: simDay(5, 15), attendees: ['board@fabrikam.example'] }))
        .status,
    ).toBe(201);
    await stack.syncNow(user);
    const list = (await stack.api('GET', `${base()}/appointments?limit=1000`)).body.items as { crmId: string; item: { subject: string } }[];
    return list.find((a) => a.item.subject === subject)!.crmId;
  }
  const calendarSubjects = () => stack.ews.store.readFolder(user.email, 'calendar').map((i) => i.fields.Subject);

  it('leaves it in Exchange by default: no cancellation, the link is ended and the item error says why', async () => {
    const crmId = await pulledMeeting('Board meeting');
    await stack.sim('DELETE', '/_sim/meeting-messages');
    expect((await stack.api('DELETE', `${base()}/appointments/${crmId}`)).status).toBe(200);
    const status = await stack.syncNow(user);
    expect(calendarSubjects()).toContain('Board meeting');
    expect((await stack.sim('GET', `/_sim/meeting-messages?mailbox=${encodeURIComponent(user.email)}`)).body).toEqual([]);
    expect(status.itemErrors.count).toBe(1);
    expect(status.itemErrors.first[0]).toMatchObject({ crmId, code: 'MeetingDeleteRefused' });
    expect(status.itemErrors.first[0].message).toMatch(/cancellations/);
    expect(status.itemErrors.first[0].message).toMatch(/deleteOrganizerMeetings/);
    // ended: the next run does not try again and writes nothing
    stack.ews.requestLog.clear();
    const again = await stack.syncNow(user);
    expect(graphWrites()).toEqual([]);
    expect(again.counts.toExchange.deleted).toBe(0);
    expect(calendarSubjects()).toContain('Board meeting');
  });

  it('deletes it, sending cancellations, when the organisation allows it', async () => {
    expect((await stack.api('PATCH', `/v1/orgs/${stack.orgId}/exchange`, { deleteOrganizerMeetings: true })).status).toBe(200);
    const crmId = await pulledMeeting('Project kickoff');
    await stack.sim('DELETE', '/_sim/meeting-messages');
    expect((await stack.api('DELETE', `${base()}/appointments/${crmId}`)).status).toBe(200);
    const status = await stack.syncNow(user);
    expect(status.counts.toExchange.deleted).toBe(1);
    expect(calendarSubjects()).not.toContain('Project kickoff');
    const messages = (await stack.sim('GET', `/_sim/meeting-messages?mailbox=${encodeURIComponent(user.email)}`)).body;
    expect(messages.map((m: { kind: string; subject: string }) => [m.kind, m.subject])).toEqual([['cancellation', 'Project kickoff']]);
  });
});
