import { createHash } from 'node:crypto';
import { occurrenceAt, parseOccurrenceId, refId, type ItemRef, type Mailbox, type StoredItem } from '@exsync/ews-sim';
import { errors } from './errors';

/**
 * The three ids of an item, as in Exchange Online:
 * - the EWS id (the shared store's key),
 * - the REST id Graph answers by default: the EWS id with `/` as `-` and `+` as `_` (the real pairs in
 *   tests/graph-sim/fixtures/ews-vs-rest-id-pair.txt),
 * - the immutable id (`Prefer: IdType="ImmutableId"`), derived from what survives a move (the mailbox,
 *   the item's UID and creation time), never from the folder.
 */
export type IdType = 'rest' | 'immutable';

export function restId(ewsId: string): string {
  return ewsId.replace(/\//g, '-').replace(/\+/g, '_');
}

export function ewsIdFromRest(id: string): string {
  return id.replace(/-/g, '/').replace(/_/g, '+');
}

const IMMUTABLE_ITEM = Buffer.from([0x00, 0x00, 0x09, 0x2e]);
const IMMUTABLE_OCCURRENCE = Buffer.from([0x00, 0x00, 0x09, 0x2f]);
const digests = new WeakMap<StoredItem, Buffer>();

function itemDigest(mb: Mailbox, item: StoredItem): Buffer {
  let d = digests.get(item);
  if (!d) {
    d = createHash('sha256').update(`${mb.email}|${item.uid}|${item.created}|${item.kind}`).digest().subarray(0, 30);
    digests.set(item, d);
  }
  return d;
}

/** The immutable id of a stored item or of one occurrence of a series (by its original start). */
export function immutableId(mb: Mailbox, item: StoredItem, originalStart?: number): string {
  if (originalStart === undefined) return restId(Buffer.concat([IMMUTABLE_ITEM, itemDigest(mb, item)]).toString('base64'));
  const t = Buffer.alloc(8);
  t.writeBigInt64BE(BigInt(originalStart));
  return restId(Buffer.concat([IMMUTABLE_OCCURRENCE, itemDigest(mb, item), t]).toString('base64'));
}

/** The id a client sees for a stored item or an occurrence, in the id type it asked for. */
export function outputId(mb: Mailbox, ref: ItemRef, idType: IdType): string {
  if (idType === 'immutable') return immutableId(mb, ref.item, ref.occurrence?.originalStart);
  return restId(refId(ref).id);
}

/**
 * Graph's `changeKey` (and `@odata.etag` `W/"<changeKey>"`) of what the client sees (an exception has
 * its own): the EWS ChangeKey without its 8-byte class header (11 base64 characters here), as real
 * pairs suggest (GRAPH-NOTES.md "ChangeKeys", an inference). Both move on every write, over either protocol.
 */
export function changeKeyOf(ref: ItemRef): string {
  return graphChangeKey(refId(ref).changeKey);
}

export function graphChangeKey(ewsChangeKey: string): string {
  return /^[A-Za-z0-9+/]{4}ABYAAAA/.test(ewsChangeKey) ? ewsChangeKey.slice(11) : ewsChangeKey;
}

/** Per mailbox: stored items by their immutable digest (hex). Rebuilt when a lookup misses or finds an item no longer stored. */
const byDigestIndex = new WeakMap<Mailbox, Map<string, StoredItem>>();

/**
 * The stored item an immutable id's digest names. An index, not a scan: a scan per read made an
 * initial sync of n events cost n x n digest comparisons in the simulator (59 s of a 15,000-item
 * Graph pull at no latency), which the bench then counted as exsync's wall time.
 */
function byDigest(mb: Mailbox, digest: Buffer): StoredItem | undefined {
  const key = digest.toString('hex');
  const stored = (item: StoredItem | undefined) => item !== undefined && mb.items.get(item.id) === item;
  const hit = byDigestIndex.get(mb)?.get(key);
  if (stored(hit)) return hit;
  const index = new Map<string, StoredItem>();
  for (const item of mb.items.values()) index.set(itemDigest(mb, item).toString('hex'), item);
  byDigestIndex.set(mb, index);
  const found = index.get(key);
  return stored(found) ? found : undefined;
}

/**
 * Finds what a REST or immutable id names: a stored item, an occurrence or an exception. Malformed
 * ids answer 400 `ErrorInvalidIdMalformed`, unknown ones 404 `ErrorItemNotFound`.
 */
export function resolveId(mb: Mailbox, id: string): ItemRef {
  if (!id || !/^[A-Za-z0-9_=-]+$/.test(id)) throw errors.malformedId();
  const raw = Buffer.from(ewsIdFromRest(id), 'base64');
  if (raw.length === IMMUTABLE_ITEM.length + 30 && raw.subarray(0, 4).equals(IMMUTABLE_ITEM)) {
    const item = byDigest(mb, raw.subarray(4));
    if (!item) throw errors.itemNotFound();
    return { item };
  }
  if (raw.length === IMMUTABLE_OCCURRENCE.length + 38 && raw.subarray(0, 4).equals(IMMUTABLE_OCCURRENCE)) {
    const item = byDigest(mb, raw.subarray(4, 34));
    const o = item ? occurrenceAt(item, Number(raw.readBigInt64BE(34))) : undefined;
    if (!item || !o) throw errors.itemNotFound();
    return { item, occurrence: o };
  }
  const ews = ewsIdFromRest(id);
  const occ = parseOccurrenceId(ews);
  if (occ) {
    const item = mb.items.get(occ.masterId);
    const o = item ? occurrenceAt(item, occ.originalStart) : undefined;
    if (!item || !o) throw errors.itemNotFound();
    return { item, occurrence: o };
  }
  const item = mb.items.get(ews);
  if (item) return { item };
  for (const series of mb.items.values()) {
    for (const ex of series.exceptions.values()) {
      if (ex.id !== ews) continue;
      const o = occurrenceAt(series, ex.originalStart);
      if (o) return { item: series, occurrence: o };
    }
  }
  if (raw.length < 8) throw errors.malformedId();
  throw errors.itemNotFound();
}
