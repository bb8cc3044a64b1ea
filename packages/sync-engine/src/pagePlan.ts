/**
 * The Postgres writes of one page of decisions (CRM items, feed rows, links, conflicts), collected
 * and applied in one transaction in a few multi-row statements: one for the CRM items, one for
 * the feed, one each for dropped and written links, one for conflicts.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, ConflictEntry, Contact, CrmItemRow, LinkDraft, LinkRow, SyncStoreSession } from '@exsync/canonical';
import type { CrmState, ExchangeChange, LinkState, SyncAction } from './decide';
import { readOnlyPart, syncedContent } from './syncedContent';
import type { SyncCounts, SyncRun } from './syncTypes';

type Item = Appointment | Contact;

export function toLinkState(l: LinkRow): LinkState<Item> {
  return { id: l.id, crmId: l.crmId, ewsItemId: l.ewsItemId, ewsChangeKey: l.ewsChangeKey, crmVersion: l.crmVersion, snapshot: l.snapshot as Item };
}

export function toCrmState(r: CrmItemRow): CrmState<Item> {
  return { crmId: r.crmId, version: r.version, deleted: r.deleted, item: (r.data as Item | null) ?? null, updatedAt: r.updatedAt };
}

/** Postgres writes of one page, applied in one transaction in a few batched statements. */
export class PagePlan {
  private crmWrites = new Map<string, { data: Item | null; feed: boolean }>();
  private linkDrafts: ((versions: Map<string, number>) => LinkDraft)[] = [];
  private linkDeletes: string[] = [];
  private conflicts: ConflictEntry[] = [];
  /** links this plan adds (not updates), the measure of a bulk load */
  linksInserted = 0;
  constructor(
    private ctx: SyncRun,
    private counts: SyncCounts,
  ) {}

  /** true when applying would write nothing */
  isEmpty(): boolean {
    return this.crmWrites.size === 0 && this.linkDrafts.length === 0 && this.linkDeletes.length === 0 && this.conflicts.length === 0;
  }

  writeCrm(crmId: string, data: Item | null): void {
    this.crmWrites.set(crmId, { data, feed: true });
  }
  /** `inserted`: the draft adds a link rather than updating one */
  link(fn: (versions: Map<string, number>) => LinkDraft, inserted = false): void {
    this.linkDrafts.push(fn);
    if (inserted) this.linksInserted++;
  }
  dropLink(id: string): void {
    this.linkDeletes.push(id);
  }

  /** Applies the Postgres part of an action taken on a pulled Exchange change. */
  addPulled(
    action: SyncAction<Item>,
    ex: ExchangeChange<Item>,
    link: LinkRow | null,
    crm: CrmState<Item> | null,
    attached: boolean,
    icalUid: string | undefined,
  ): void {
    const kind = this.ctx.kind;
    const exItem = ex.type === 'changed' ? ex.item : null;
    const exKey = ex.type === 'changed' ? ex.changeKey : null;
    const exId = ex.itemId;
    const keep = (l: LinkRow, patch: Partial<LinkDraft>) => this.link(() => ({ ...l, ...patch }));
    const fullItem = (item: Item): Item => (exItem ? ({ ...item, ...readOnlyPart(kind, exItem) } as Item) : item);
    switch (action.type) {
      case 'doNothing':
        if (link && attached) keep(link, {});
        return;
      case 'skipEcho':
        if (link) keep(link, { ewsChangeKey: action.changeKey ?? link.ewsChangeKey, crmVersion: action.crmVersion ?? link.crmVersion });
        return;
      case 'relinkOnly': {
        const crmId = link?.crmId ?? crm?.crmId;
        if (!crmId) return;
        this.link(
          () => ({
            id: link?.id ?? randomUUID(),
            crmId,
            ewsItemId: exId,
            ewsChangeKey: action.changeKey ?? exKey,
            icalUid: icalUid ?? link?.icalUid ?? null,
            crmVersion: action.crmVersion ?? link?.crmVersion ?? crm?.version ?? 0,
            snapshot: action.snapshot,
          }),
          !link,
        );
        return;
      }
      case 'createInCrm': {
        const crmId = randomUUID();
        this.writeCrm(crmId, action.item);
        this.counts.toCrm.created++;
        this.link(
          (v) => ({
            id: randomUUID(),
            crmId,
            ewsItemId: exId,
            ewsChangeKey: exKey,
            icalUid: icalUid ?? null,
            crmVersion: v.get(crmId)!,
            snapshot: syncedContent(kind, action.item),
          }),
          true,
        );
        return;
      }
      case 'updateCrm':
      case 'restoreInCrm': {
        if (!link) return;
        this.writeCrm(link.crmId, fullItem(action.item));
        if (action.type === 'updateCrm') this.counts.toCrm.updated++;
        else this.counts.toCrm.created++;
        this.link((v) => ({
          ...link,
          ewsItemId: ex.type === 'changed' ? exId : link.ewsItemId,
          ewsChangeKey: exKey ?? link.ewsChangeKey,
          icalUid: icalUid ?? link.icalUid,
          crmVersion: v.get(link.crmId)!,
          snapshot: syncedContent(kind, action.item),
        }));
        return;
      }
      case 'deleteInCrm':
        if (!link) return;
        if (crm && !crm.deleted) {
          this.writeCrm(link.crmId, null);
          this.counts.toCrm.deleted++;
        }
        this.dropLink(link.id);
        return;
      case 'forgetLink':
        if (link) this.dropLink(link.id);
        return;
      case 'merge': {
        const crmId = link?.crmId ?? crm?.crmId;
        if (!crmId || !exItem) return;
        if (action.writeCrm) {
          this.writeCrm(crmId, fullItem(action.merged));
          this.counts.toCrm.updated++;
        }
        if (action.conflicts.length) {
          this.counts.conflicts++;
          this.conflicts.push({
            kind,
            crmId,
            fields: action.conflicts,
            resolution: `${this.ctx.policy}: ${action.resolvedTo === 'exchange' ? 'Exchange' : 'CRM'} value kept`,
            detail: { exchangeModified: ex.type === 'changed' ? (ex.lastModified ?? null) : null, crmModified: crm?.updatedAt ?? null, firstSync: !link },
          });
        }
        // When Exchange must still receive the merge, describe Exchange as it is and leave the
        // CRM version ahead of the link: the push step then writes the merged item.
        this.link(
          (v) => ({
            id: link?.id ?? randomUUID(),
            crmId,
            ewsItemId: exId,
            ewsChangeKey: exKey,
            icalUid: icalUid ?? link?.icalUid ?? null,
            crmVersion: action.writeExchange ? (link?.crmVersion ?? 0) : (v.get(crmId) ?? crm?.version ?? 0),
            snapshot: syncedContent(kind, action.writeExchange ? exItem : action.merged),
          }),
          !link,
        );
        return;
      }
      case 'updateExchange':
      case 'deleteInExchange':
        // Push performs the write; record Exchange's current state so it is measured against it.
        if (!link) return;
        keep(link, {
          ewsItemId: exId,
          ewsChangeKey: exKey ?? link.ewsChangeKey,
          snapshot: exItem ? syncedContent(kind, exItem) : link.snapshot,
        });
        return;
      case 'restoreInExchange':
        // Pending again: the push step re-creates it from the CRM item, tagged with the link id.
        if (!link) return;
        keep(link, { ewsItemId: null, ewsChangeKey: null });
        return;
      case 'createInExchange':
        return; // only arises for CRM-only items, which the push step handles
    }
  }

  async apply(c: SyncStoreSession): Promise<void> {
    const writes = [...this.crmWrites.entries()].map(([crmId, w]) => ({ crmId, data: w.data }));
    // the CRM items and their feed rows (op upsert, or delete for a tombstone) in one statement
    const versions = await c.writeCrmItemsWithFeed(writes);
    // Drop first: a restored item's old link may share the crm id with nothing else, but a
    // re-pairing must not trip the unique (mailbox, kind, ews id) constraint.
    await c.deleteLinks(this.linkDeletes);
    await c.upsertLinks(this.linkDrafts.map((f) => f(versions)));
    await c.recordConflicts(this.conflicts);
  }
}
