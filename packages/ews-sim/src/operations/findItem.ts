import { fieldUriToElement } from '../itemSchema';
import { fieldElement, invalidListProperty, itemEnd, itemStart, parseShape, renderItem, seriesOccurrences, ShapeError, type ItemRef } from '../itemView';
import { extendedPropertyKey, type Folder } from '../store';
import { errorMessage, responseClose, responseOpen, successClose, successOpen } from '../soap';
import { child, childText, type El } from '../xml';
import { ItemError, RequestFault, resolveFolder, type OpContext } from './context';

/** Exchange's cap on one FindItem page. */
export const FIND_ITEM_MAX = 1000;

function operandValues(ctx: OpContext, ref: ItemRef, uri: El): string[] {
  if (uri.name === 'ExtendedFieldURI') {
    const prop = ref.item.extended.get(extendedPropertyKey(uri));
    if (!prop) return [];
    const single = child(prop, 'Value');
    if (single) return [single.text];
    return (child(prop, 'Values')?.children ?? []).map((v) => v.text);
  }
  const { element, sub } = fieldUriToElement(uri.attrs.FieldURI ?? '');
  const e = fieldElement(ctx.mb, ref, element);
  if (!e) return [];
  if (uri.name === 'IndexedFieldURI') {
    const entry = e.children.find((x) => x.attrs.Key === uri.attrs.FieldIndex);
    if (!entry) return [];
    return [sub ? (childText(entry, sub) ?? '') : entry.text];
  }
  if (e.children.length > 0) return e.children.map((c) => c.text || childText(c, 'EmailAddress') || '');
  return [e.text];
}

function compare(a: string, b: string): number {
  const da = /^\d{4}-\d{2}-\d{2}T/.test(a) ? Date.parse(a) : NaN;
  const db = /^\d{4}-\d{2}-\d{2}T/.test(b) ? Date.parse(b) : NaN;
  if (!Number.isNaN(da) && !Number.isNaN(db)) return da - db;
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a.localeCompare(b, 'en', { sensitivity: 'accent' });
}

const COMPARISONS: Record<string, (c: number) => boolean> = {
  IsEqualTo: (c) => c === 0,
  IsNotEqualTo: (c) => c !== 0,
  IsGreaterThan: (c) => c > 0,
  IsGreaterThanOrEqualTo: (c) => c >= 0,
  IsLessThan: (c) => c < 0,
  IsLessThanOrEqualTo: (c) => c <= 0,
};

/** Evaluates a SearchExpression (restriction) against one item. */
export function matches(ctx: OpContext, ref: ItemRef, expr: El): boolean {
  switch (expr.name) {
    case 'And':
      return expr.children.every((c) => matches(ctx, ref, c));
    case 'Or':
      return expr.children.some((c) => matches(ctx, ref, c));
    case 'Not':
      return !matches(ctx, ref, expr.children[0]);
    case 'Exists':
      return operandValues(ctx, ref, expr.children[0]).length > 0;
    case 'Contains': {
      const values = operandValues(ctx, ref, expr.children[0]);
      const needle = (child(expr, 'Constant')?.attrs.Value ?? '').toLowerCase();
      const mode = expr.attrs.ContainmentMode ?? 'Substring';
      return values.some((v) => {
        const h = v.toLowerCase();
        if (mode === 'FullString') return h === needle;
        if (mode === 'Prefixed') return h.startsWith(needle);
        return h.includes(needle);
      });
    }
  }
  const test = COMPARISONS[expr.name];
  if (!test) throw new RequestFault('ErrorSchemaValidation', `The request failed schema validation: unsupported restriction ${expr.name}.`);
  const [left, right] = expr.children;
  const constant = child(right, 'Constant')?.attrs.Value;
  const otherUri = right?.children.find((c) => c.name !== 'Constant');
  const values = operandValues(ctx, ref, left);
  const targets = constant !== undefined ? [constant] : otherUri ? operandValues(ctx, ref, otherUri) : [];
  if (values.length === 0) return expr.name === 'IsNotEqualTo';
  return values.some((v) => targets.some((t) => test(compare(v, t))));
}

function sortRefs(ctx: OpContext, refs: ItemRef[], sortOrder: El | undefined): void {
  const orders = sortOrder?.children ?? [];
  if (orders.length === 0) return;
  refs.sort((a, b) => {
    for (const o of orders) {
      const uri = o.children[0];
      if (!uri) continue;
      const va = operandValues(ctx, a, uri)[0] ?? '';
      const vb = operandValues(ctx, b, uri)[0] ?? '';
      const c = compare(va, vb);
      if (c !== 0) return o.attrs.Order === 'Descending' ? -c : c;
    }
    return 0;
  });
}

/** Expands series into their occurrences that overlap [start, end), as Exchange's CalendarView does. */
function calendarView(ctx: OpContext, folder: Folder, start: number, end: number): ItemRef[] {
  const refs: ItemRef[] = [];
  for (const id of folder.items) {
    const item = ctx.mb.items.get(id);
    if (!item) continue;
    if (!item.recurrence) {
      if (itemStart(item) < end && itemEnd(item) > start) refs.push({ item });
      continue;
    }
    for (const o of seriesOccurrences(item, end)) {
      if (o.start < end && o.end > start) refs.push({ item, occurrence: o });
    }
  }
  refs.sort((a, b) => (a.occurrence?.start ?? itemStart(a.item)) - (b.occurrence?.start ?? itemStart(b.item)));
  return refs;
}

export function findItem(ctx: OpContext): string {
  const op = 'FindItem';
  const req = ctx.request;
  let shape;
  try {
    shape = parseShape(child(req, 'ItemShape'));
  } catch (e) {
    if (e instanceof ShapeError) throw new RequestFault(e.code, e.message);
    throw e;
  }
  const out: string[] = [responseOpen(op)];
  for (const parentEl of child(req, 'ParentFolderIds')?.children ?? []) {
    try {
      if (invalidListProperty(shape)) throw new ItemError('ErrorInvalidPropertyRequest');
      ctx.throwIfBusy();
      const folder = resolveFolder(ctx, parentEl);
      const view = req.children.find((c) => c.name.endsWith('View'));
      const restriction = child(req, 'Restriction')?.children[0];
      let refs: ItemRef[];
      let offset = 0;
      let max = FIND_ITEM_MAX;
      let isCalendarView = false;
      if (view?.name === 'CalendarView') {
        isCalendarView = true;
        const start = Date.parse(view.attrs.StartDate ?? '');
        const end = Date.parse(view.attrs.EndDate ?? '');
        if (Number.isNaN(start) || Number.isNaN(end))
          throw new RequestFault('ErrorSchemaValidation', 'The request failed schema validation: CalendarView needs StartDate and EndDate.');
        if (folder.itemKind !== 'CalendarItem') throw new ItemError('ErrorCalendarFolderIsInvalidForCalendarView');
        if (end - start > 2 * 366 * 86_400_000) throw new ItemError('ErrorCalendarViewRangeTooBig');
        refs = calendarView(ctx, folder, start, end);
      } else {
        refs = [];
        for (const id of folder.items) {
          const item = ctx.mb.items.get(id);
          if (item) refs.push({ item });
        }
        sortRefs(ctx, refs, child(req, 'SortOrder'));
        if (view?.name === 'IndexedPageItemView') {
          const raw = Number(view.attrs.Offset ?? 0);
          offset = view.attrs.BasePoint === 'End' ? Math.max(0, refs.length - raw - Number(view.attrs.MaxEntriesReturned ?? FIND_ITEM_MAX)) : raw;
        } else if (view?.name === 'FractionalPageItemView') {
          offset = Math.floor((refs.length * Number(view.attrs.Numerator ?? 0)) / Math.max(1, Number(view.attrs.Denominator ?? 1)));
        }
      }
      if (restriction) refs = refs.filter((r) => matches(ctx, r, restriction));
      if (view?.attrs.MaxEntriesReturned) max = Math.min(FIND_ITEM_MAX, Number(view.attrs.MaxEntriesReturned));
      const total = refs.length;
      const page = refs.slice(offset, offset + max);
      const includesLast = offset + page.length >= total;
      const paging = isCalendarView ? '' : ` IndexedPagingOffset="${offset + page.length}"`;
      out.push(successOpen(op), `<m:RootFolder${paging} TotalItemsInView="${total}" IncludesLastItemInRange="${includesLast}"><t:Items>`);
      for (const ref of page) renderItem(ctx.mb, ref, shape, 'find', out);
      out.push('</t:Items></m:RootFolder>', successClose(op));
    } catch (e) {
      if (!(e instanceof ItemError)) throw e;
      out.push(errorMessage(op, { code: e.code, text: e.message === e.code ? undefined : e.message, messageXml: e.messageXml }));
    }
  }
  out.push(responseClose(op));
  return out.join('');
}
