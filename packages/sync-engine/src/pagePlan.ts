/**
 * The pull executor: applies a page's PullActions (pullPlan.ts) to the store in one transaction,
 * in a few multi-row statements: one for the CRM items, one for the feed, one each for dropped and
 * written links, one for conflicts, then the pending Exchange writes, the items' failures and the
 * Exchange items that could not be read.
 * Each action's effects on the store and on the run's counts are written here and nowhere else.
 */
import type { Appointment, ConflictEntry, Contact, ItemFailure, LinkDraft, PendingExchangeWrite, SyncStoreSession, UnreadableItem } from '@exsync/canonical';
import { unreachable } from './exchangeWrites';
import { recordFailures } from './itemFailures';
import type { PlannedLink, PlannedVersion, PlannedWrite, PullAction } from './pullPlan';
import type { SyncCounts, SyncRun } from './syncTypes';

type Item = Appointment | Contact;

/** The store writes of one page of PullActions, applied in one transaction in a few batched statements. */
export class PagePlan {
  private crmWrites = new Map<string, { data: Item | null; feed: boolean }>();
  private linkDrafts: PlannedLink[] = [];
  private linkDeletes: string[] = [];
  private conflicts: ConflictEntry[] = [];
  private writes: PlannedWrite[] = [];
  private failures: ItemFailure[] = [];
  private unreadable: UnreadableItem[] = [];
  /** Exchange items read (or deleted) on this page: an earlier unreadable record of theirs ends */
  private readIds: string[] = [];
  /** links decided on afresh: an earlier failure of theirs no longer holds */
  private decided: string[] = [];
  /** stored links this plan rewrites: a pending write of theirs is replaced (a new link has none) */
  private rewritten: string[] = [];
  /** links this plan adds (not updates), the measure of a bulk load */
  linksInserted = 0;
  constructor(
    private ctx: SyncRun,
    private counts: SyncCounts,
  ) {}

  /** true when applying would write nothing */
  isEmpty(): boolean {
    return (
      this.crmWrites.size === 0 &&
      this.linkDrafts.length === 0 &&
      this.linkDeletes.length === 0 &&
      this.conflicts.length === 0 &&
      this.failures.length === 0 &&
      this.decided.length === 0 &&
      this.unreadable.length === 0 &&
      this.readIds.length === 0
    );
  }

  /** true when the plan stores Exchange writes for the push step */
  get hasPendingWrites(): boolean {
    return this.writes.length > 0;
  }

  private writeCrm(crmId: string, data: Item | null): void {
    this.crmWrites.set(crmId, { data, feed: true });
  }
  private link(draft: PlannedLink, inserted = false): void {
    this.linkDrafts.push(draft);
    this.decided.push(draft.id);
    if (inserted) this.linksInserted++;
    else this.rewritten.push(draft.id);
  }
  private dropLink(id: string): void {
    this.linkDeletes.push(id);
  }

  /** The page read (or saw deleted) these Exchange items: any unreadable record of theirs is cleared on apply. */
  read(itemIds: string[]): void {
    this.readIds.push(...itemIds);
  }

  /** Adds one action's effects; the executor of PullAction (exhaustive). */
  add(a: PullAction): void {
    const counts = this.counts;
    switch (a.type) {
      case 'none':
        return;
      case 'link':
        this.link(a.link);
        return;
      case 'pair':
        this.link(a.link, true);
        return;
      case 'createInCrm':
        this.writeCrm(a.crmId, a.item);
        counts.toCrm.created++;
        this.link(a.link, true);
        return;
      case 'updateCrm':
        this.writeCrm(a.crmId, a.item);
        if (a.restored) counts.toCrm.created++;
        else counts.toCrm.updated++;
        this.link(a.link);
        return;
      case 'deleteInCrm':
        this.writeCrm(a.crmId, null);
        counts.toCrm.deleted++;
        this.dropLink(a.linkId);
        return;
      case 'dropLink':
        this.dropLink(a.linkId);
        return;
      case 'merge':
        if (a.crmWrite) {
          this.writeCrm(a.crmId, a.crmWrite);
          counts.toCrm.updated++;
        }
        if (a.conflict) {
          counts.conflicts++;
          this.conflicts.push(a.conflict);
        }
        this.link(a.link, a.inserted);
        if (a.exchangeWrite) this.writes.push(a.exchangeWrite);
        return;
      case 'writeExchange':
        this.link(a.link);
        this.writes.push(a.write);
        return;
      case 'fail':
        this.failures.push(a.failure);
        return;
      case 'unreadable':
        this.unreadable.push(a.record);
        if (a.failure) this.failures.push(a.failure);
        return;
      case 'skip':
        this.ctx.log?.warn(
          { mailboxId: this.ctx.mailboxId, kind: this.ctx.kind, itemId: a.itemId, error: a.reason },
          'skipping an Exchange item that cannot be compared',
        );
        if (a.linkId) this.decided.push(a.linkId);
        return;
      default:
        unreachable(a);
    }
  }

  async apply(c: SyncStoreSession): Promise<void> {
    const ctx = this.ctx;
    const writes = [...this.crmWrites.entries()].map(([crmId, w]) => ({ crmId, data: w.data }));
    // the CRM items and their feed rows (op upsert, or delete for a tombstone) in one statement
    const versions = await c.writeCrmItemsWithFeed(writes);
    const version = (crmId: string, v: PlannedVersion): number => (v === 'written' ? versions.get(crmId)! : v);
    // Drop first: a restored item's old link may share the crm id with nothing else, but a
    // re-pairing must not trip the unique (mailbox, kind, ews id) constraint.
    await c.deleteLinks(this.linkDeletes);
    await c.upsertLinks(this.linkDrafts.map((l): LinkDraft => ({ ...l, crmVersion: version(l.crmId, l.crmVersion) })));
    await c.recordConflicts(this.conflicts);
    // A later decision on an item replaces the Exchange write an earlier one left pending.
    await c.deletePendingWrites(this.rewritten);
    await c.savePendingWrites(this.writes.map((w): PendingExchangeWrite => ({ ...w, crmVersion: version(w.crmId, w.crmVersion) })));
    const failed = new Set(this.failures.map((f) => f.crmId));
    const linkCrm = new Map(this.linkDrafts.map((l) => [l.id, l.crmId]));
    await c.clearItemFailures([...new Set(this.decided)].filter((id) => !failed.has(linkCrm.get(id) ?? '')));
    await recordFailures(ctx, c, this.failures);
    // Unreadable items (new ones too) stay on the status and are read again after a back-off;
    // those read now, or gone, are forgotten.
    await c.recordUnreadableItems(this.unreadable, ctx.itemBackoff);
    await c.clearUnreadableItems(this.readIds);
  }
}
