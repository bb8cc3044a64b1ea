import type { ItemRef } from '@exsync/ews-sim';
import { json, type GraphResponse, type RouteContext } from './context';
import { readExtended } from './extendedProperties';
import { evaluate } from './odata/filter';
import type { QueryOptions } from './odata/query';

/** Default and largest page of Outlook collections (learn.microsoft.com/graph/paging). */
export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 1000;

/** The extended properties an item shows for `$expand` (filtered), or undefined when not expanded. */
export function expandedExtended(ref: ItemRef, q: QueryOptions): { id: string; value: string }[] | undefined {
  if (!q.expandExtended) return undefined;
  const all = readExtended(ref.item);
  const f = q.expandExtended.filter;
  return f ? all.filter((p) => evaluate(f, p)) : all;
}

/** Whether an item passes `$filter` (evaluated over its Graph JSON plus all its extended properties). */
export function passesFilter(full: Record<string, unknown>, ref: ItemRef, q: QueryOptions): boolean {
  if (!q.filter) return true;
  return evaluate(q.filter, { ...full, singleValueExtendedProperties: readExtended(ref.item) });
}

function valueAt(obj: unknown, segs: string[]): unknown {
  let cur = obj;
  for (const s of segs) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
  return cur;
}

/** One list entry: the full Graph JSON (for `$filter` and `$orderby`) and what the client is sent. */
export interface Entry {
  full: Record<string, unknown>;
  shown: unknown;
}

/** Sorts by `$orderby` (stable; missing values first, as nulls sort in OData), then pages. */
export function list(ctx: RouteContext, entity: string, entries: Entry[], q: QueryOptions): GraphResponse {
  const order = q.orderBy ?? [];
  const sorted =
    order.length === 0
      ? entries
      : [...entries].sort((a, b) => {
          for (const o of order) {
            const x = valueAt(a.full, o.segs);
            const y = valueAt(b.full, o.segs);
            const c = x === y ? 0 : x === undefined || x === null ? -1 : y === undefined || y === null ? 1 : (x as string) < (y as string) ? -1 : 1;
            if (c !== 0) return o.desc ? -c : c;
          }
          return 0;
        });
  return page(
    ctx,
    entity,
    sorted.map((e) => e.shown),
    q,
  );
}

/** Applies `$skip`/`$top` (else `Prefer: odata.maxpagesize`) and links the next page with `$skip`. */
export function page(ctx: RouteContext, entity: string, all: unknown[], q: QueryOptions): GraphResponse {
  const size = Math.min(q.top ?? ctx.prefs.maxPageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const skip = q.skip ?? 0;
  const value = all.slice(skip, skip + size);
  const body: Record<string, unknown> = { '@odata.context': `${ctx.req.baseUrl}/$metadata#Collection(${entity})`, value };
  if (q.top === undefined && skip + size < all.length) {
    const next = new URLSearchParams(ctx.req.query);
    next.set('$skip', String(skip + size));
    body['@odata.nextLink'] = `${ctx.req.baseUrl}${ctx.req.path}?${next.toString().replace(/%24/g, '$')}`;
  }
  return json(200, body);
}

/** Applies `$select` (id and `@odata.etag` always stay) and `$expand` of extended properties. */
export function shape(
  full: Record<string, unknown>,
  extended: { id: string; value: string }[] | undefined,
  select: string[] | undefined,
): Record<string, unknown> {
  let out = full;
  if (select) {
    out = { '@odata.etag': full['@odata.etag'], id: full.id };
    for (const s of select) out[s] = full[s];
  }
  if (extended) out = { ...out, singleValueExtendedProperties: extended };
  return out;
}
