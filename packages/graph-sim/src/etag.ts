import type { ItemRef } from '@exsync/ews-sim';
import { errors } from './errors';
import { changeKeyOf } from './ids';

/**
 * `If-Match` on a write: `*`, or one or more `@odata.etag` values (`W/"<changeKey>"`). None matching the
 * item's current ChangeKey answers 412 `ErrorIrresolvableConflict` (GRAPH-NOTES.md, "Writes").
 */
export function checkIfMatch(header: string | undefined, ref: ItemRef): void {
  if (!header || header.trim() === '*') return;
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
  if (!tags.includes(changeKeyOf(ref))) throw errors.conflict();
}
