/**
 * What the Graph fault scenarios (tests/faults/graph-*.test.ts) share: an organisation on Graph with
 * the real worker, edits on both sides, runs until one converges, and the comparison of the CRM's
 * items with the simulator's mailbox store (nothing lost, nothing duplicated).
 */
import type { RequestLogEntry } from '@exsync/ews-sim';
import { expect } from 'vitest';
import { listAllCrmItems, waitFor, type Stack, type StackUser } from '../support/stack';

const EMAIL = /[a-z]+\d+@(fabrikam|contoso)\.example/;

/** What each side should hold once converged: contact emails and appointment subjects. */
export interface Expected {
  contacts: Set<string>;
  subjects: Set<string>;
}

export function emptyExpected(): Expected {
  return { contacts: new Set(), subjects: new Set() };
}

export function userBase(stack: Stack, user: StackUser): string {
  return `/v1/orgs/${stack.orgId}/users/${user.userId}`;
}

/** A day in the calendar window (from 2 days ahead), `n` hours apart, as UTC instants. */
function slot(n: number): { start: string; end: string } {
  const t = new Date(Date.now() + 2 * 86_400_000);
  t.setUTCHours(0, 0, 0, 0);
  const start = new Date(t.getTime() + n * 3_600_000);
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  return { start: iso(start), end: iso(new Date(start.getTime() + 1_800_000)) };
}

/**
 * One round of new items: `crm` contacts and appointments written through the CRM API, `outlook`
 * contacts and appointments written in the mailbox; numbered from `first` so names stay unique.
 */
export async function addItems(
  stack: Stack,
  user: StackUser,
  expected: Expected,
  first: number,
  counts: { crm: number; outlook: number; crmAppointments?: number; outlookAppointments?: number },
): Promise<void> {
  const base = userBase(stack, user);
  const mb = encodeURIComponent(user.email);
  for (let i = first; i < first + counts.crm; i++) {
    const email = `crm${i}@fabrikam.example`;
    const res = await stack.api('PUT', `${base}/contacts/crm-c-${i}`, { givenName: `Crm${i}`, surname: 'Contact', emails: [email], phones: {}, addresses: {} });
    expect(res.status).toBe(201);
    expected.contacts.add(email);
  }
  for (let i = first; i < first + counts.outlook; i++) {
    const email = `outlook${i}@contoso.example`;
    expect((await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, { givenName: `Outlook${i}`, surname: 'Contact', emails: [email] })).status).toBe(201);
    expected.contacts.add(email);
  }
  for (let i = first; i < first + (counts.crmAppointments ?? 0); i++) {
    const subject = `Crm meeting ${i}`;
    const res = await stack.api('PUT', `${base}/appointments/crm-a-${i}`, { subject, ...slot(i), timeZone: 'UTC', isAllDay: false });
    expect(res.status).toBe(201);
    expected.subjects.add(subject);
  }
  for (let i = first; i < first + (counts.outlookAppointments ?? 0); i++) {
    const subject = `Outlook meeting ${i}`;
    expect((await stack.sim('POST', `/_sim/mailboxes/${mb}/calendar`, { subject, ...slot(i + 1) })).status).toBe(201);
    expected.subjects.add(subject);
  }
}

function quiet(status: any): boolean {
  const c = status?.counts;
  return (
    status?.state === 'healthy' &&
    !!c &&
    c.conflicts === 0 &&
    [c.toExchange, c.toCrm].every((d: Record<string, number>) => d.created + d.updated + d.deleted === 0)
  );
}

/**
 * Asks for runs until one ends healthy having written nothing on either side (faults stay on);
 * a throttled mailbox is waited out first. Returns whether it converged and the runs it took.
 */
export async function converge(stack: Stack, user: StackUser, maxRuns = 30): Promise<{ converged: boolean; runs: number }> {
  const base = userBase(stack, user);
  for (let runs = 1; runs <= maxRuns; runs++) {
    const since = await stack.dbNow();
    const asked = await stack.api('POST', `${base}/sync`);
    expect([202, 503]).toContain(asked.status);
    const s = await stack.waitForRunAfter(user, since, 150_000);
    if (s.state === 'throttled') {
      await waitFor('the back-off to end', async () => (await stack.api('GET', `${base}/sync-status`)).body.state !== 'throttled', 60_000, 200);
      continue;
    }
    if (quiet(s)) return { converged: true, runs };
  }
  return { converged: false, runs: maxRuns };
}

/** `rounds` rounds of new items on both sides (numbered 100 apart), each synced until a run converges; stops at the first that does not. */
export async function roundsToConvergence(
  stack: Stack,
  user: StackUser,
  expected: Expected,
  rounds: number,
  counts: Parameters<typeof addItems>[4],
): Promise<{ converged: boolean; runs: number }> {
  let runs = 0;
  for (let round = 0; round < rounds; round++) {
    await addItems(stack, user, expected, round * 100, counts);
    const r = await converge(stack, user);
    runs += r.runs;
    if (!r.converged) return { converged: false, runs };
  }
  return { converged: true, runs };
}

export interface Comparison {
  lost: number;
  duplicates: number;
  /** items on a side that should not be there (e.g. a resurrected delete) */
  extra: number;
  mailbox: { contacts: string[]; subjects: string[] };
  crm: { contacts: string[]; subjects: string[] };
}

function counted(list: string[], want: Set<string>): { lost: number; duplicates: number; extra: number } {
  return {
    lost: [...want].filter((x) => !list.includes(x)).length,
    duplicates: list.length - new Set(list).size,
    extra: [...new Set(list)].filter((x) => !want.has(x)).length,
  };
}

/** The CRM's items and the mailbox store's, against what both should hold. */
export async function compareStores(stack: Stack, user: StackUser, expected: Expected): Promise<Comparison> {
  const mailbox = {
    contacts: stack.ews.store
      .readFolder(user.email, 'contacts')
      .map((c) => JSON.stringify(c.fields).match(EMAIL)?.[0] ?? '?')
      .sort(),
    subjects: stack.ews.store
      .readFolder(user.email, 'calendar')
      .map((a) => String((a.fields as Record<string, unknown>).Subject))
      .sort(),
  };
  const crm = {
    contacts: (await listAllCrmItems(stack, user, 'contacts')).map((x) => x.item.emails[0]?.address ?? '?').sort(),
    subjects: (await listAllCrmItems(stack, user, 'appointments')).map((x) => x.item.subject).sort(),
  };
  const parts = [
    counted(mailbox.contacts, expected.contacts),
    counted(crm.contacts, expected.contacts),
    counted(mailbox.subjects, expected.subjects),
    counted(crm.subjects, expected.subjects),
  ];
  const sum = (k: 'lost' | 'duplicates' | 'extra') => parts.reduce((n, p) => n + p[k], 0);
  return { lost: sum('lost'), duplicates: sum('duplicates'), extra: sum('extra'), mailbox, crm };
}

/** Asserts the comparison: both sides hold exactly what they should. */
export function expectSame(c: Comparison, expected: Expected): void {
  const contacts = [...expected.contacts].sort();
  const subjects = [...expected.subjects].sort();
  expect(c.mailbox).toEqual({ contacts, subjects });
  expect(c.crm).toEqual({ contacts, subjects });
  expect(c.lost + c.duplicates + c.extra).toBe(0);
}

/** Sets the same faults globally (a `$batch` meets the global ones) and on the mailbox. */
export async function setFaults(stack: Stack, user: StackUser, faults: Record<string, number>): Promise<void> {
  expect((await stack.sim('PUT', '/_sim/faults', faults)).status).toBeLessThan(300);
  expect((await stack.sim('PUT', `/_sim/mailboxes/${encodeURIComponent(user.email)}/faults`, faults)).status).toBeLessThan(300);
}

export async function clearFaults(stack: Stack): Promise<void> {
  expect((await stack.sim('DELETE', '/_sim/faults')).status).toBeLessThan(300);
}

/**
 * The mailbox's Graph requests as the simulator saw them, each with the moment it reached the
 * simulator (`arrivedAt`: its `$batch`'s arrival for a request inside one) and the moment its answer
 * left (`answeredAt`: its `$batch`'s answer for a request inside one), which is when the client can
 * know a Retry-After.
 */
export function mailboxRequests(stack: Stack, user: StackUser): (RequestLogEntry & { arrivedAt: number; answeredAt: number })[] {
  const all = stack.ews.requestLog.list(undefined, 'graph');
  const bySeq = new Map(all.map((e) => [e.seq, e]));
  const mailbox = user.email.toLowerCase();
  return all
    .filter((e) => e.mailbox === mailbox)
    .map((e) => {
      const outer = e.batchSeq !== undefined ? bySeq.get(e.batchSeq) : undefined;
      return { ...e, arrivedAt: outer?.startedAt ?? e.startedAt, answeredAt: outer?.endedAt ?? e.endedAt ?? Number.POSITIVE_INFINITY };
    });
}
