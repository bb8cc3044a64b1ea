import { itemEnd, itemStart, seriesOccurrences, type Folder, type ItemRef, type Mailbox } from '@exsync/ews-sim';

/** Start and end of what a client sees (an occurrence's own times, else the item's). */
export function span(ref: ItemRef): { start: number; end: number } {
  return ref.occurrence ? { start: ref.occurrence.start, end: ref.occurrence.end } : { start: itemStart(ref.item), end: itemEnd(ref.item) };
}

/** Overlap as Outlook's calendar view counts it: starts before the window ends, ends after it starts. */
export function inWindow(ref: ItemRef, w: { start: number; end: number }): boolean {
  const s = span(ref);
  return s.start < w.end && (s.end > w.start || (s.start === s.end && s.start === w.start));
}

/**
 * A calendar view: single events, occurrences and exceptions overlapping the window, series masters
 * left out (learn.microsoft.com/graph/api/user-list-calendarview). Ordered by start.
 */
export function calendarView(mb: Mailbox, folder: Folder, w: { start: number; end: number }): ItemRef[] {
  const out: ItemRef[] = [];
  for (const id of folder.items) {
    const item = mb.items.get(id);
    if (!item || item.kind !== 'CalendarItem') continue;
    if (!item.recurrence) {
      if (inWindow({ item }, w)) out.push({ item });
      continue;
    }
    // An exception moved after the window's end still belongs to an earlier original start.
    const horizon = w.end + 366 * 86_400_000;
    for (const o of seriesOccurrences(item, horizon)) {
      const ref = { item, occurrence: o };
      if (inWindow(ref, w)) out.push(ref);
    }
  }
  return out.sort((a, b) => span(a).start - span(b).start);
}

/** The occurrences and exceptions of one series in a window (`/events/{id}/instances`). */
export function seriesInstances(ref: ItemRef, w: { start: number; end: number }): ItemRef[] {
  if (!ref.item.recurrence) return [];
  return seriesOccurrences(ref.item, w.end + 366 * 86_400_000)
    .map((o) => ({ item: ref.item, occurrence: o }))
    .filter((r) => inWindow(r, w))
    .sort((a, b) => span(a).start - span(b).start);
}
