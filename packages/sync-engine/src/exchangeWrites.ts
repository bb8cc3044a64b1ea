/**
 * The one place the engine writes Exchange: commands (create, update, delete) sent in batches,
 * each answer turned into the state after the command (GenSync's "the state after the job"), and
 * those states stored together. Success and failure of every Exchange write are handled here and
 * nowhere else.
 *
 * Crash points: a create's link is committed pending (null Exchange id, its id the tag) before
 * the create is sent (invariant 3); the states of a batch are stored right after its answer, so a
 * kill between the two leaves what mailboxSync.ts describes (the next pull or the pending-create
 * step finds the item by its tag; an update comes back as an echo; a delete as a delete).
 */
import type { Appointment, Contact, CrmItemRow, ItemFailure, ItemKind, LinkDraft, LinkRow, MailboxError } from '@exsync/canonical';
import { isMeetingDeleteRefusal } from '@exsync/canonical';
import { recordFailures, refused } from './itemFailures';
import { failsWholeRun, mailboxItemError } from './runErrors';
import { syncedContent } from './syncedContent';
import type { SyncCounts, SyncRun } from './syncTypes';

type Item = Appointment | Contact;

/** Items per Exchange write request. */
export const WRITE_BATCH = 50;

/** An Exchange write the engine decided on. */
export type ExchangeCommand =
  /** `link` is already stored as pending; its id is the tag the item carries */
  | { type: 'create'; link: LinkDraft; item: Item }
  /** `crmVersion`: the CRM version the item brings; `crm`: the CRM item now, decided on if Exchange's item vanished */
  | { type: 'update'; link: LinkRow; crm: CrmItemRow | null; item: Item; crmVersion: number }
  | { type: 'delete'; link: LinkRow; crmVersion: number }
  /** an item of ours that must not stay (an outside copy of our item, or a create whose CRM item is gone) */
  | { type: 'deleteStray'; itemId: string };

/** The state after one command. */
export type CommandOutcome =
  /** done: the link now describes the item as written; any earlier failure of it is over */
  | { type: 'linked'; link: LinkDraft }
  /** the item and its link are gone */
  | { type: 'unlinked'; linkId: string }
  /** refused for this item: recorded on its link, retried after a back-off or when the CRM item changes */
  | { type: 'failed'; failure: ItemFailure }
  /**
   * a delete the organisation's policy refuses (an organizer's meeting with attendees): the link
   * takes the CRM version as handled, so it is not pushed again, and the item error says why
   */
  | { type: 'kept'; link: LinkDraft; failure: ItemFailure }
  /** an update found no item: the caller decides on it as an Exchange delete */
  | { type: 'vanished'; command: Extract<ExchangeCommand, { type: 'update' }> }
  /** nothing to store (Exchange changed meanwhile: the next pull merges; or a stray delete) */
  | { type: 'none' };

/** A command's answer, as the port gives it. */
type Answer = { ok: true; itemId?: string; changeKey?: string } | { ok: false; error: MailboxError };

/** The state after `cmd` given Exchange's answer. Counts what was written. Pure but for `counts`. */
export function outcomeOf(kind: ItemKind, cmd: ExchangeCommand, answer: Answer, counts: SyncCounts): CommandOutcome {
  if (answer.ok) {
    switch (cmd.type) {
      case 'create':
        counts.toExchange.created++;
        return { type: 'linked', link: { ...cmd.link, ewsItemId: answer.itemId!, ewsChangeKey: answer.changeKey! } };
      case 'update':
        counts.toExchange.updated++;
        return {
          type: 'linked',
          link: {
            ...cmd.link,
            ewsItemId: answer.itemId!,
            ewsChangeKey: answer.changeKey!,
            crmVersion: cmd.crmVersion,
            snapshot: syncedContent(kind, cmd.item),
          },
        };
      case 'delete':
        counts.toExchange.deleted++;
        return { type: 'unlinked', linkId: cmd.link.id };
      case 'deleteStray':
        counts.toExchange.deleted++;
        return { type: 'none' };
      default:
        return unreachable(cmd);
    }
  }
  const e = answer.error;
  switch (cmd.type) {
    case 'create':
      // The link stays pending, with the failure on it until its back-off ends or the CRM item changes.
      return { type: 'failed', failure: refused(kind, cmd.link.crmId, cmd.link.crmVersion, e) };
    case 'update':
      // Gone from Exchange: SyncFolderItems may never report it (see mailboxSync.ts), so it is decided on as an Exchange delete now.
      if (e.kind === 'ItemNotFound') return { type: 'vanished', command: cmd };
      if (e.kind === 'ChangeKeyConflict') return { type: 'none' };
      return { type: 'failed', failure: refused(kind, cmd.link.crmId, cmd.crmVersion, e) };
    case 'delete':
      if (e.kind === 'ItemNotFound') {
        counts.toExchange.deleted++;
        return { type: 'unlinked', linkId: cmd.link.id };
      }
      if (isMeetingDeleteRefusal(e)) {
        return { type: 'kept', link: { ...cmd.link, crmVersion: cmd.crmVersion }, failure: refused(kind, cmd.link.crmId, cmd.crmVersion, e) };
      }
      return { type: 'failed', failure: refused(kind, cmd.link.crmId, cmd.crmVersion, e) };
    case 'deleteStray':
      return { type: 'none' };
    default:
      return unreachable(cmd);
  }
}

/** Exhaustiveness: a command type without a case fails to compile. */
export function unreachable(x: never): never {
  throw new Error(`unhandled variant ${JSON.stringify(x)}`);
}

/** Sends one batch of same-type commands; answers in command order. */
async function send(ctx: SyncRun, batch: ExchangeCommand[]): Promise<Answer[]> {
  const first = batch[0];
  const toAnswer = (r: { ok: true; value: { itemId: string; changeKey: string } | null } | { ok: false; error: MailboxError }): Answer =>
    r.ok ? { ok: true, ...(r.value ?? {}) } : r;
  switch (first.type) {
    case 'create':
      return (
        await ctx.port.createItems(
          ctx.kind,
          (batch as (typeof first)[]).map((c) => ({ tag: c.link.id, item: withoutReadOnly(ctx.kind, c.item) as never })),
        )
      ).map(toAnswer);
    case 'update':
      return (
        await ctx.port.updateItems(
          ctx.kind,
          (batch as (typeof first)[]).map((c) => ({
            itemId: c.link.ewsItemId!,
            changeKey: c.link.ewsChangeKey ?? '',
            item: withoutReadOnly(ctx.kind, c.item) as never,
          })),
        )
      ).map(toAnswer);
    case 'delete':
      return (await ctx.port.deleteItems((batch as (typeof first)[]).map((c) => c.link.ewsItemId!))).map(toAnswer);
    case 'deleteStray':
      return (await ctx.port.deleteItems((batch as (typeof first)[]).map((c) => c.itemId))).map(toAnswer);
    default:
      return unreachable(first);
  }
}

function withoutReadOnly(kind: ItemKind, item: Item): Item {
  if (kind !== 'appointment') return item;
  const { organizer: _o, attendees: _a, iCalUId: _i, ...rest } = item as Appointment;
  return rest as Item;
}

const ORDER: ExchangeCommand['type'][] = ['deleteStray', 'create', 'update', 'delete'];

/**
 * Sends `commands` (grouped by type, WRITE_BATCH per request) and stores the state after each
 * batch in one transaction. An answer that says the whole mailbox cannot go on (throttled, a
 * transient or mailbox-wide failure) fails the run with that error, after the batch's other
 * states are stored, so they are not looked up or sent again. `pendingWrites`: links whose
 * pending write (pullPlan.ts) these commands execute; each is removed with its command's state,
 * whatever the answer (a refusal is recorded on the link and retried as a CRM change), except an
 * answer that fails the run. Returns the updates whose item had vanished, for the caller to
 * decide on.
 */
export async function executeExchangeWrites(
  ctx: SyncRun,
  commands: ExchangeCommand[],
  counts: SyncCounts,
  pendingWrites: ReadonlySet<string> = new Set(),
): Promise<Extract<ExchangeCommand, { type: 'update' }>[]> {
  const vanished: Extract<ExchangeCommand, { type: 'update' }>[] = [];
  for (const type of ORDER) {
    const ofType = commands.filter((c) => c.type === type);
    for (let i = 0; i < ofType.length; i += WRITE_BATCH) {
      const batch = ofType.slice(i, i + WRITE_BATCH);
      const answers = await send(ctx, batch);
      let stop: MailboxError | undefined;
      const outcomes: CommandOutcome[] = [];
      const settled: string[] = [];
      answers.forEach((a, j) => {
        const cmd = batch[j];
        if (!a.ok && failsWholeRun(a.error) && cmd.type !== 'deleteStray') stop ??= a.error;
        else {
          outcomes.push(outcomeOf(ctx.kind, cmd, a, counts));
          if (cmd.type !== 'deleteStray' && pendingWrites.has(cmd.link.id)) settled.push(cmd.link.id);
        }
      });
      await storeOutcomes(ctx, outcomes, settled);
      for (const o of outcomes) if (o.type === 'vanished') vanished.push(o.command);
      if (stop) throw mailboxItemError(stop);
    }
  }
  return vanished;
}

/** Stores the states after a batch in one transaction, with the removal of the pending writes `settled` (link ids). */
async function storeOutcomes(ctx: SyncRun, outcomes: CommandOutcome[], settled: string[]): Promise<void> {
  const linked: LinkDraft[] = [];
  const unlinked: string[] = [];
  const failures: ItemFailure[] = [];
  for (const o of outcomes) {
    switch (o.type) {
      case 'linked':
        linked.push(o.link);
        break;
      case 'unlinked':
        unlinked.push(o.linkId);
        break;
      case 'failed':
        failures.push(o.failure);
        break;
      case 'kept':
        linked.push(o.link);
        failures.push(o.failure);
        break;
      case 'vanished':
      case 'none':
        break;
      default:
        unreachable(o);
    }
  }
  if (!linked.length && !unlinked.length && !failures.length && !settled.length) return;
  await ctx.store.transaction(async (tx) => {
    await tx.deletePendingWrites(settled);
    await tx.upsertLinks(linked);
    await tx.clearItemFailures(linked.map((l) => l.id));
    await tx.deleteLinks(unlinked);
    await recordFailures(ctx, tx, failures);
  });
}
