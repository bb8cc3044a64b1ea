/**
 * The Graph rows of `npm run bench` (issue 16): initial sync, incremental (1% changed each side)
 * and push of new CRM items, synced by the engine through the Graph transport against the Graph
 * simulator, with the same injected latency as the EWS rows. Round trips are HTTP requests (a
 * `$batch` is one); each row sets them against the fewest the protocol allows (the floor), and the
 * floor's wall time follows the simulator's latency model: `LATENCY_MS` per HTTP request, plus
 * `LATENCY_MS` per wave of at most 4 requests run at once inside a `$batch` (Outlook's batch
 * parallelism, GRAPH-NOTES "Limits, batching").
 */
import { calendarWindowAt, type ItemKind, type MailboxPort } from '@exsync/canonical';
import { listCrmItems, putCrmItem } from '@exsync/db';
import { AppTokenProvider, GRAPH_APP_SCOPE } from '@exsync/ews-client';
import { openGraphMailbox } from '@exsync/graph-client';
import type { SyncCounts } from '@exsync/sync-engine';
import { createMailboxRows, createOrg, pullFolder, type BenchWorld } from './benchWorld';
import { LATENCY_MS, measure, row, syncFolders, type BenchResult, type Sizes } from './scenarios';

/** Requests per `$batch` (learn.microsoft.com/graph/json-batching), as graph-client sends them. */
const MAX_BATCH = 20;
/** Requests Outlook runs at once inside one `$batch`. */
const BATCH_PARALLELISM = 4;
/** Delta page size exsync asks for (`Prefer: odata.maxpagesize`, graph-client's default). */
const PAGE_SIZE = 100;
/** Seeded mailboxes start today; the window holds every seeded item (10,000 at 6 a day, series 10 weeks long). */
const WINDOW_DAYS = { pastDays: 10, futureDays: 1_800 } as const;
const DAY_MS = 86_400_000;

interface Ctx {
  orgId: string;
  userId: string;
  mailboxId: string;
  email: string;
}

interface LogEntry {
  operation?: string;
  batchSeq?: number;
}

/** Graph requests in the simulator's log since the last clear: HTTP round trips, and counts by operation (inner ones as `$batch <op>`). */
async function graphCounts(w: BenchWorld): Promise<{ roundTrips: number; operations: Record<string, number> }> {
  const log = await w.control<LogEntry[]>('GET', '/_sim/requests?protocol=graph');
  const operations: Record<string, number> = {};
  for (const e of log) operations[e.operation ?? '?'] = (operations[e.operation ?? '?'] ?? 0) + 1;
  return { roundTrips: log.filter((e) => e.batchSeq === undefined).length, operations };
}

/** Wall time of the floor's requests under the simulator's latency model (ms). */
function floorLatencyMs(singles: number, batchSizes: number[]): number {
  return (singles + batchSizes.reduce((n, k) => n + 1 + Math.ceil(k / BATCH_PARALLELISM), 0)) * LATENCY_MS;
}

/** `n` requests sent as full `$batch`es: the sizes of the batches. */
function batches(n: number): number[] {
  return Array.from({ length: Math.ceil(n / MAX_BATCH) }, (_, i) => Math.min(MAX_BATCH, n - i * MAX_BATCH));
}

function graphPort(w: BenchWorld, tokens: AppTokenProvider, email: string): MailboxPort {
  const info = w.sim as BenchWorld['sim'] & { graphUrl?: string };
  if (!info.graphUrl) throw new Error('the simulators printed no graphUrl');
  const creds = { authorityHost: info.entraUrl, tenantId: info.tenantId, applicationId: info.applicationId, clientSecret: info.clientSecret };
  return openGraphMailbox({
    graphUrl: info.graphUrl,
    smtpAddress: email,
    mode: 'app-only',
    getAccessToken: () => tokens.getToken(creds),
    timeoutMs: 120_000,
    calendarWindow: calendarWindowAt(new Date(), WINDOW_DAYS),
    pageSize: PAGE_SIZE,
  });
}

function syncKinds(port: MailboxPort, w: BenchWorld, ctx: Ctx, kinds: ItemKind[]): Promise<SyncCounts[]> {
  return syncFolders(w, port, ctx, kinds);
}

async function newMailbox(w: BenchWorld, name: string, seed?: { calendarItems?: number; contacts?: number }): Promise<Ctx> {
  const email = `${name}@contoso.example`;
  await w.createMailbox(email);
  if (seed) {
    const startDate = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS).toISOString();
    await w.control('POST', `/_sim/mailboxes/${encodeURIComponent(email)}/seed`, { ...seed, recurringEvery: 10, startDate });
  }
  const orgId = await createOrg(w.pool, `bench ${name}`);
  return { orgId, email, ...(await createMailboxRows(w.pool, orgId, email)) };
}

/** One sync measured; its row carries Graph's round trips (also in `ewsRequests`, the transport's requests) and operations. */
async function measured(
  w: BenchWorld,
  machine: string,
  scenario: string,
  items: number,
  run: () => Promise<unknown>,
): Promise<BenchResult & { roundTrips: number }> {
  const m = await measure(w, run);
  const g = await graphCounts(w);
  return { ...row(w, machine, scenario, items, { ...m, ewsRequests: g.roundTrips, ewsOperations: g.operations }, {}), roundTrips: g.roundTrips };
}

/** The row with its floor: round trips and wall time, and how they were counted. */
function withFloor(r: BenchResult & { roundTrips: number }, floorTrips: number, floorMs: number, notes: string): BenchResult {
  return {
    ...r,
    floorMs: Math.round(floorMs),
    ratioToFloor: Math.round((r.wallMs / floorMs) * 100) / 100,
    floorRoundTrips: floorTrips,
    notes: `Graph: ${r.roundTrips} round trips ($batch = 1) vs floor ${floorTrips} (x${Math.round((r.roundTrips / floorTrips) * 100) / 100}); ${notes}`,
  } as BenchResult;
}

/** The time a pull of the folders costs with no injected latency: client parse + loopback + simulator (ms). */
async function pullCostMs(w: BenchWorld, tokens: AppTokenProvider, email: string, kinds: ItemKind[]): Promise<number> {
  await w.setLatency(0);
  const t = performance.now();
  for (const kind of kinds) await pullFolder(graphPort(w, tokens, email), kind);
  const ms = performance.now() - t;
  await w.setLatency(LATENCY_MS);
  return ms;
}

async function graphInitialSync(w: BenchWorld, tokens: AppTokenProvider, s: Sizes, machine: string): Promise<BenchResult> {
  const [nA, nC] = [s.initialAppointments, s.initialContacts];
  const ctx = await newMailbox(w, `graph-initial-${nA}`, { calendarItems: nA, contacts: nC });
  const port = graphPort(w, tokens, ctx.email);
  await w.setLatency(LATENCY_MS);
  const r = await measured(w, machine, 'graph-initial-sync', nA + nC, () => syncKinds(port, w, ctx, ['appointment', 'contact']));
  const synced =
    (await listCrmItems(w.pool, ctx.userId, 'appointment', { limit: 1_000_000 })).length +
    (await listCrmItems(w.pool, ctx.userId, 'contact', { limit: 1_000_000 })).length;
  if (synced !== nA + nC) throw new Error(`Graph initial sync produced ${synced} CRM items, expected ${nA + nC}`);
  // the server's paging decides the delta pages (calendarView lists occurrences, not series): counted from the run
  const pages = (r.ewsOperations['GET calendarView/delta'] ?? 0) + (r.ewsOperations['GET contacts/delta'] ?? 0);
  const series = Math.floor(nA / 10);
  const reads = batches(nA);
  // contacts/delta takes `$select` only (learn.microsoft.com/graph/api/contact-delta, "OData query
  // parameters"): the extended properties the mapper needs (tag, phone kinds, email slots) come
  // only from a read, so each contact is read once, in $batches like the events
  const contactReads = batches(nC);
  const instanceLists = batches(series);
  const pull = await pullCostMs(w, tokens, ctx.email, ['appointment', 'contact']);
  return withFloor(
    r,
    pages + reads.length + contactReads.length + instanceLists.length + 1,
    floorLatencyMs(pages + 1, [...reads, ...contactReads, ...instanceLists]),
    `floor (network only, as the EWS row's; no parse allowance) = ${pages} delta pages + ${reads.length} $batch reads of the ${nA} events (the view names occurrences, not series) + ${contactReads.length} $batch reads of the ${nC} contacts (contacts/delta cannot expand extended properties) + ${instanceLists.length} $batches of the ${series} series' instance lists + 1 contact folder lookup, at ${LATENCY_MS} ms each (+${LATENCY_MS} per 4 inside a $batch; a $batch already fills the mailbox's 4 concurrent requests, so the floor is sequential); pull alone at 0 ms latency (client + simulator, no Postgres): ${Math.round(pull)} ms; window ${WINDOW_DAYS.pastDays}+${WINDOW_DAYS.futureDays} days so every seeded item is in it`,
  );
}

async function graphChangedOnePercent(w: BenchWorld, tokens: AppTokenProvider, s: Sizes, machine: string): Promise<BenchResult> {
  const n = s.changedMailboxItems;
  await w.setLatency(0);
  const ctx = await newMailbox(w, 'graph-changed', { calendarItems: n });
  const port = graphPort(w, tokens, ctx.email);
  await syncKinds(port, w, ctx, ['appointment']);
  const changes = Math.max(1, Math.floor(n / 100));
  const mb = encodeURIComponent(ctx.email);
  // single appointments only (every 10th seeded one is a series), edited in Outlook and others in the CRM
  const singles = (await w.control<{ id: string }[]>('GET', `/_sim/mailboxes/${mb}/folders/calendar`)).filter((_, i) => i % 10 !== 9);
  for (let i = 0; i < changes; i++)
    await w.control('PATCH', `/_sim/mailboxes/${mb}/items/${encodeURIComponent(singles[i * 2].id)}`, { subject: `edited in Outlook ${i}` });
  const crm = (await listCrmItems(w.pool, ctx.userId, 'appointment', { limit: 1_000_000 })).filter((x) => !(x.data as { recurrence?: unknown }).recurrence);
  for (let i = 0; i < changes; i++) {
    const item = crm[crm.length - 1 - i * 2];
    await putCrmItem(w.pool, {
      orgId: ctx.orgId,
      userId: ctx.userId,
      kind: 'appointment',
      crmId: item.crmId,
      data: { ...(item.data as object), subject: `edited in CRM ${i}` } as never,
      origin: 'crm',
    });
  }
  await w.setLatency(LATENCY_MS);
  const r = await measured(w, machine, 'graph-incremental-1pct', n, () => syncKinds(port, w, ctx, ['appointment']));
  const pages = Math.max(1, Math.ceil(changes / PAGE_SIZE));
  const reads = batches(changes);
  const writes = batches(changes);
  return withFloor(
    r,
    pages + reads.length + writes.length,
    floorLatencyMs(pages, [...reads, ...writes]),
    `${changes} edits each side; floor = ${pages} delta page(s) + ${reads.length} $batch read(s) of Outlook's edits + ${writes.length} $batch PATCH(es) of the CRM's (excl. parse)`,
  );
}

async function graphPushNew(w: BenchWorld, tokens: AppTokenProvider, s: Sizes, machine: string): Promise<BenchResult> {
  await w.setLatency(0);
  const ctx = await newMailbox(w, 'graph-push');
  const port = graphPort(w, tokens, ctx.email);
  await syncKinds(port, w, ctx, ['appointment']);
  const day0 = Math.floor(Date.now() / DAY_MS) * DAY_MS + 7 * DAY_MS;
  for (let i = 0; i < s.pushAppointments; i++) {
    const start = day0 + 8 * 3_600_000 + i * 3_600_000;
    await putCrmItem(w.pool, {
      orgId: ctx.orgId,
      userId: ctx.userId,
      kind: 'appointment',
      crmId: `crm-${i}`,
      origin: 'crm',
      data: {
        subject: `CRM visit ${i}`,
        start: new Date(start).toISOString().replace('.000Z', 'Z'),
        end: new Date(start + 1_800_000).toISOString().replace('.000Z', 'Z'),
        timeZone: 'Europe/Berlin',
        isAllDay: false,
      },
    });
  }
  await w.setLatency(LATENCY_MS);
  const r = await measured(w, machine, 'graph-push-new', s.pushAppointments, () => syncKinds(port, w, ctx, ['appointment']));
  const count = (await w.control<unknown[]>('GET', `/_sim/mailboxes/${encodeURIComponent(ctx.email)}/folders/calendar`)).length;
  if (count !== s.pushAppointments) throw new Error(`Graph push left ${count} items in the mailbox, expected ${s.pushAppointments}`);
  const creates = batches(s.pushAppointments);
  return withFloor(r, 1 + creates.length, floorLatencyMs(1, creates), `floor = 1 delta round + ${creates.length} $batch POSTs of ${MAX_BATCH} (excl. parse)`);
}

/** The Graph rows `wanted` selects, run in order on one bench world. */
export async function graphRows(w: BenchWorld, s: Sizes, machine: string, wanted: (name: string) => boolean): Promise<BenchResult[]> {
  const tokens = new AppTokenProvider({ allowInsecureAuthority: true, scope: GRAPH_APP_SCOPE });
  const rows: BenchResult[] = [];
  if (wanted('graph-initial-sync')) rows.push(await graphInitialSync(w, tokens, s, machine));
  if (wanted('graph-incremental-1pct')) rows.push(await graphChangedOnePercent(w, tokens, s, machine));
  if (wanted('graph-push-new')) rows.push(await graphPushNew(w, tokens, s, machine));
  return rows;
}
