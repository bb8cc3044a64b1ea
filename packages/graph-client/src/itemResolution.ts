/**
 * Item resolution for the switch of a mailbox from EWS to Graph (issue 16, point 4): for each link,
 * the Graph item its EWS id names, read with `Prefer: IdType="ImmutableId"` (GraphHttp sends it on
 * every request) so the id stored is the immutable one.
 *
 * Order (GRAPH-NOTES.md "Extended properties and ids"):
 * 1. the REST id derived from the EWS id: the same base64 with `/` as `-` and `+` as `_` (checked on
 *    real pairs; learn.microsoft.com/graph/outlook-immutable-id). `translateExchangeIds` is not used:
 *    it may not be granted to app-only tokens, and the derivation needs no request. The item read is
 *    confirmed by our tag when it carries one (a different tag: not our item), else by the iCalUId
 *    an appointment's link holds;
 * 2. a search for our tag: `$filter=singleValueExtendedProperties/Any(...)` (the same property EWS
 *    writes, packages/canonical/src/exsyncTag.ts), for items whose EWS id changed (a move in EWS
 *    gives a new id) or no longer resolves;
 * 3. for appointments, `$filter=iCalUId eq '...'`, for items without our tag (made in Outlook, or
 *    the tag removed) whose id no longer resolves.
 * An item none of these finds is reported as null: it is gone from the mailbox.
 */
import {
  SyncError,
  type FetchedItem,
  type ForeignItemRef,
  type ItemKind,
  type ItemOfKind,
  type ItemRef,
  type ItemResult,
  type ResolvedItem,
  type ExchangeTransport,
} from '@exsync/canonical';

/** What resolution needs from a Graph mailbox session. */
export interface ResolutionSource {
  getItems<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]>;
  findByTag(kind: ItemKind, tag: string): Promise<ItemRef[]>;
  /** events whose iCalUId is `uid` (series masters and single events) */
  findByICalUId(uid: string): Promise<ItemRef[]>;
}

/**
 * The Graph REST id of an EWS item id: EWS ids are standard base64, REST ids the same bytes in a
 * URL-safe alphabet with `/` -> `-` and `+` -> `_`, padding kept. That is NOT RFC 4648 base64url
 * (which maps `+` -> `-`, `/` -> `_`): Node's 'base64url' would give wrong ids. Source: learn.microsoft.com/graph/api/user-translateexchangeids
 * (restId vs ewsId) and the real pair in tests/graph-sim/fixtures/ews-vs-rest-id-pair.txt.
 */
export function restIdFromEwsId(ewsId: string): string {
  return ewsId.replace(/\//g, '-').replace(/\+/g, '_');
}

/** An answer that says "no item by this id" (gone, or an id Graph cannot parse): try the next way. */
function notById(e: { kind: string; code?: string }): boolean {
  return e.kind === 'ItemNotFound' || /InvalidId|Malformed/i.test(e.code ?? '');
}

/** Whether the item read by the derived id is the linked one: same tag, else same iCalUId, else no evidence against it. */
function confirmed(ref: ForeignItemRef, fetched: FetchedItem<unknown>): boolean {
  if (fetched.tag) return fetched.tag.toLowerCase() === ref.linkId.toLowerCase();
  const uid = (fetched.item as { iCalUId?: string }).iCalUId;
  return !ref.icalUid || !uid || uid === ref.icalUid;
}

/**
 * Resolves EWS-era links to Graph items (see the module comment), in the order of `refs`. A
 * failure that concerns the whole mailbox (throttled, auth, settings) is thrown as a SyncError;
 * any other per-item failure is that item's error result. Raises InvalidSettings for `from` other
 * than 'ews' (immutable Graph ids cannot be turned back into EWS ids without translateExchangeIds).
 */
export async function resolveItems<K extends ItemKind>(
  src: ResolutionSource,
  kind: K,
  refs: ForeignItemRef[],
  from: ExchangeTransport,
): Promise<ItemResult<ResolvedItem<ItemOfKind<K>>>[]> {
  if (from !== 'ews') throw new SyncError('InvalidSettings', `Graph resolves EWS item ids only, not ${from} ids`, { code: 'SwitchDirectionUnsupported' });
  const byId = await src.getItems(
    kind,
    refs.map((r) => restIdFromEwsId(r.itemId)),
  );
  const out: ItemResult<ResolvedItem<ItemOfKind<K>>>[] = [];
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    const a = byId[i];
    if (a.ok && confirmed(ref, a.value)) {
      out.push({ ok: true, value: { by: 'id', fetched: a.value } });
      continue;
    }
    if (!a.ok && !notById(a.error)) {
      if (wholeMailbox(a.error)) throw a.error;
      out.push(a);
      continue;
    }
    out.push(await fallback(src, kind, ref));
  }
  return out;
}

function wholeMailbox(e: { kind: string; needsPerson?: boolean }): boolean {
  return e.kind === 'Throttled' || e.kind === 'Transient' || e.needsPerson === true;
}

/** The tag search, then (appointments) the iCalUId search; the first item found is read in full. */
async function fallback<K extends ItemKind>(src: ResolutionSource, kind: K, ref: ForeignItemRef): Promise<ItemResult<ResolvedItem<ItemOfKind<K>>>> {
  const ways: { by: 'tag' | 'icalUid'; find: () => Promise<ItemRef[]> }[] = [{ by: 'tag', find: () => src.findByTag(kind, ref.linkId) }];
  if (kind === 'appointment' && ref.icalUid) ways.push({ by: 'icalUid', find: () => src.findByICalUId(ref.icalUid!) });
  for (const way of ways) {
    const found = await way.find();
    if (found.length === 0) continue;
    const [read] = await src.getItems(kind, [found[0].itemId]);
    if (read.ok) return { ok: true, value: { by: way.by, fetched: read.value } };
    if (!notById(read.error)) {
      if (wholeMailbox(read.error)) throw read.error;
      return read;
    }
  }
  return { ok: true, value: null };
}
