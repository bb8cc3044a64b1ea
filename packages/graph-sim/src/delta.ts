import type { Folder, ItemRef } from '@exsync/ews-sim';
import { calendarView, inWindow, span } from './calendarInstances';
import { renderContact } from './contactShape';
import { json, type GraphResponse, type RouteContext } from './context';
import { parseQueryInstant } from './dateTimes';
import type { BaselineEntry, Change, Chain, DeltaKind, Generation } from './deltaTokens';
import { renderEvent } from './eventView';
import { changeKeyOf, immutableId, outputId, resolveId, restId } from './ids';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './listing';

/**
 * Delta rounds over a calendar window (`calendarView/delta`) or a contact folder (`contacts/delta`):
 * learn.microsoft.com/graph/delta-query-events and /graph/api/contact-delta. A round is pages linked by
 * `@odata.nextLink` (`$skiptoken`) ending in an `@odata.deltaLink` (`$deltatoken`). A round's changes
 * are fixed when it begins and rendered when each page is served, so an item changed during a round
 * can come in this round and again in the next (Graph's "the same change may appear twice").
 */
interface Current {
  ref: ItemRef;
  entry: BaselineEntry;
}

function snapshot(ctx: RouteContext, chain: Pick<Chain, 'kind' | 'window'>, folder: Folder): Map<string, Current> {
  const out = new Map<string, Current>();
  const refs: ItemRef[] =
    chain.kind === 'calendarView'
      ? calendarView(ctx.mb, folder, chain.window!)
      : [...folder.items]
          .map((id) => ctx.mb.items.get(id))
          .filter((i) => i?.kind === 'Contact')
          .map((item) => ({ item: item! }));
  for (const ref of refs) {
    const s = span(ref);
    const key = ref.occurrence ? outputId(ctx.mb, ref, 'rest') : restId(ref.item.id);
    const version = chain.kind === 'calendarView' ? `${changeKeyOf(ref)}|${s.start}|${s.end}` : ref.item.changeKey;
    out.set(key, { ref, entry: { version, ids: { rest: key, immutable: immutableId(ctx.mb, ref.item, ref.occurrence?.originalStart) } } });
  }
  return out;
}

function diff(before: Map<string, BaselineEntry>, now: Map<string, Current>): Change[] {
  const changes: Change[] = [];
  for (const [key, cur] of now) if (before.get(key)?.version !== cur.entry.version) changes.push({ key, removed: false });
  for (const [key, was] of before) if (!now.has(key)) changes.push({ key, removed: true, ids: was.ids });
  return changes;
}

/** Renders one change as the page shows it; an item gone or out of the window since is `@removed`. */
function renderChange(ctx: RouteContext, chain: Chain, folder: Folder, gen: Generation, c: Change): Record<string, unknown> {
  const type = chain.kind === 'calendarView' ? '#microsoft.graph.event' : '#microsoft.graph.contact';
  const removed = (ids: { rest: string; immutable: string }) => ({
    '@odata.type': type,
    id: chain.idType === 'immutable' ? ids.immutable : ids.rest,
    '@removed': { reason: 'deleted' },
  });
  const fallback = gen.baseline.get(c.key)?.ids;
  if (c.removed) return removed(c.ids);
  let ref: ItemRef;
  try {
    ref = resolveId(ctx.mb, c.key);
  } catch {
    return removed(fallback!);
  }
  if (ref.item.folderId !== folder.id || (chain.window && !inWindow(ref, chain.window))) return removed(fallback!);
  if (chain.kind === 'calendarView') {
    return {
      '@odata.type': type,
      ...renderEvent(ctx.mb, ref, { idType: chain.idType, timeZone: ctx.prefs.timeZone, transactionId: ctx.deps.state.transactionOf.get(ref.item) }),
    };
  }
  const full = renderContact(ctx.mb, ref, chain.idType);
  if (!chain.select) return { '@odata.type': type, ...full };
  const out: Record<string, unknown> = { '@odata.type': type, '@odata.etag': full['@odata.etag'], id: full.id };
  for (const s of chain.select) out[s] = full[s];
  return out;
}

/**
 * Serves one delta request: the initial one (no token), a `$skiptoken` page or a `$deltatoken` round.
 * `folder` is the calendar or the contact folder; `select` only for contacts.
 */
export function serveDelta(ctx: RouteContext, kind: DeltaKind, folder: Folder, select?: string[]): GraphResponse {
  const { state } = ctx.deps;
  const q = ctx.req.query;
  const skip = q.get('$skiptoken') ?? q.get('$skipToken');
  const delta = q.get('$deltatoken') ?? q.get('$deltaToken');
  const pageSize = Math.min(ctx.prefs.maxPageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  let chain: Chain;
  let genNo: number;
  let pageNo = 0;
  if (skip) {
    const d = state.delta.decode(skip, kind, ctx.prefs.idType, ctx.mb.email);
    chain = d.chain;
    genNo = d.number;
    pageNo = d.page ?? 0;
  } else if (delta) {
    const d = state.delta.decode(delta, kind, ctx.prefs.idType, ctx.mb.email);
    chain = d.chain;
    const now = snapshot(ctx, chain, folder);
    genNo = state.delta.addGeneration(chain, { baseline: baselineOf(now), changes: diff(d.generation.baseline, now), pageSize });
  } else {
    let window: { start: number; end: number } | undefined;
    if (kind === 'calendarView') {
      const start = parseQueryInstant(param(q, 'startDateTime'), 'startDateTime');
      const end = parseQueryInstant(param(q, 'endDateTime'), 'endDateTime');
      window = { start, end };
    }
    chain = state.delta.newChain({ mailbox: ctx.mb.email, kind, folderId: folder.id, window, idType: ctx.prefs.idType, select });
    const now = snapshot(ctx, chain, folder);
    genNo = state.delta.addGeneration(chain, { baseline: baselineOf(now), changes: diff(new Map(), now), pageSize });
  }
  const gen = chain.generations.get(genNo)!;
  const from = pageNo * gen.pageSize;
  const value = gen.changes.slice(from, from + gen.pageSize).map((c) => renderChange(ctx, chain, folder, gen, c));
  const link = `${ctx.req.baseUrl}${ctx.req.path}?`;
  const body: Record<string, unknown> = { '@odata.context': `${ctx.req.baseUrl}/$metadata#Collection(${kind === 'calendarView' ? 'event' : 'contact'})` };
  if (from + gen.pageSize < gen.changes.length) body['@odata.nextLink'] = `${link}$skiptoken=${state.delta.encode(chain, genNo, pageNo + 1)}`;
  else body['@odata.deltaLink'] = `${link}$deltatoken=${state.delta.encode(chain, genNo)}`;
  body.value = value;
  return json(200, body);
}

function baselineOf(now: Map<string, Current>): Map<string, BaselineEntry> {
  return new Map([...now].map(([k, v]) => [k, v.entry]));
}

/** Query parameters of functions are case-insensitive in Graph (`startdatetime` in Microsoft's sample). */
export function param(q: URLSearchParams, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [k, v] of q) if (k.toLowerCase() === lower) return v;
  return null;
}
