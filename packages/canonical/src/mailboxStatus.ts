/**
 * A mailbox's sync state as a small state machine: the states of the contract's sync-status and
 * the named transitions between them. This module is the only place that decides a next state;
 * @exsync/db's mailboxStatusRepository, the only writer of `mailboxes.state`, applies each
 * transition in SQL (`fromStates` becomes its WHERE clause, the returned `Transition` its SET
 * clause), so no statement elsewhere invents a state.
 *
 * Rules (issue 12): `healthy` only while the last run succeeded with nothing failing; `degraded`
 * when it succeeded but items fail; `retrying` while a failed run has attempts left; `error` once
 * they are spent (the next interval tries again: nextRunAt set) or when a person must act
 * (nextRunAt null, until the cause is fixed).
 */

export const MAILBOX_STATES = ['not-enabled', 'awaiting-user-login', 'scheduled', 'syncing', 'healthy', 'degraded', 'throttled', 'retrying', 'error'] as const;

export type MailboxState = (typeof MAILBOX_STATES)[number];

export type StatusEvent =
  /** sync turned off for the user */
  | { type: 'disable' }
  /** sync turned on; `signedIn` when a mailbox is bound already */
  | { type: 'enable'; signedIn: boolean }
  /** the user signed in with Microsoft (binds the mailbox) */
  | { type: 'sign-in' }
  /** a worker took the mailbox lock and starts a run */
  | { type: 'run-started' }
  /** the run ended; `failingItems` items could not be synced */
  | { type: 'run-succeeded'; failingItems: number }
  /** the service asked to slow down: the run waits for the back-off */
  | { type: 'run-throttled' }
  /** the run failed with a cause a retry can fix, and attempts remain */
  | { type: 'attempt-failed' }
  /** the run failed and no attempt remains: shown, tried again at the next interval */
  | { type: 'retries-exhausted' }
  /** a cause that needs a person, for this mailbox alone */
  | { type: 'mailbox-stopped' }
  /** a cause that needs a person, for the whole organisation */
  | { type: 'organisation-stopped' }
  /** the cause was fixed (settings or user changed, a passing connection test): run at once */
  | { type: 'cause-fixed' }
  /** "Sync now" by an admin: a stop is lifted, the run is queued */
  | { type: 'manual-sync' }
  /** a run left `syncing` (or `retrying`) by a killed worker, its job lost, is handed back to the scheduler */
  | { type: 'run-abandoned' }
  /**
   * the run's job failed for a cause outside the mailbox (it stalled out: its worker was killed or
   * blocked too often; or the worker failed before it could record the run): due again at once, with
   * the cause shown, so the mailbox neither waits for its next interval nor shows healthy meanwhile
   */
  | { type: 'run-interrupted' };

export type StatusEventType = StatusEvent['type'];

/**
 * What a transition does besides the state: when the next scheduled run is (`interval`: one
 * jittered interval from now; `now`; `backoff`: when the throttle ends; `none`: only a person's
 * action brings it back; `unchanged`), and what happens to lastError.
 */
export interface Transition {
  state: MailboxState;
  nextRun: 'interval' | 'now' | 'backoff' | 'none' | 'unchanged';
  lastError: 'set' | 'clear' | 'keep';
}

const ACTIVE: MailboxState[] = ['scheduled', 'syncing', 'healthy', 'degraded', 'throttled', 'retrying', 'error'];

interface Rule {
  from: readonly MailboxState[];
  to: (e: StatusEvent) => Omit<Transition, never>;
}

const RULES: Record<StatusEventType, Rule> = {
  disable: { from: MAILBOX_STATES.filter((s) => s !== 'not-enabled'), to: () => ({ state: 'not-enabled', nextRun: 'none', lastError: 'clear' }) },
  enable: {
    from: ['not-enabled'],
    to: (e) =>
      (e as { signedIn: boolean }).signedIn
        ? { state: 'scheduled', nextRun: 'now', lastError: 'clear' }
        : { state: 'awaiting-user-login', nextRun: 'none', lastError: 'clear' },
  },
  'sign-in': { from: ['awaiting-user-login', 'error'], to: () => ({ state: 'scheduled', nextRun: 'now', lastError: 'clear' }) },
  'run-started': {
    from: ['scheduled', 'syncing', 'healthy', 'degraded', 'throttled', 'retrying', 'error'],
    to: () => ({ state: 'syncing', nextRun: 'unchanged', lastError: 'keep' }),
  },
  'run-succeeded': {
    from: ['syncing'],
    to: (e) => ({ state: (e as { failingItems: number }).failingItems > 0 ? 'degraded' : 'healthy', nextRun: 'interval', lastError: 'clear' }),
  },
  'run-throttled': { from: ['syncing', 'retrying'], to: () => ({ state: 'throttled', nextRun: 'backoff', lastError: 'keep' }) },
  'attempt-failed': { from: ['syncing'], to: () => ({ state: 'retrying', nextRun: 'unchanged', lastError: 'set' }) },
  'retries-exhausted': { from: ['syncing', 'retrying'], to: () => ({ state: 'error', nextRun: 'interval', lastError: 'set' }) },
  'mailbox-stopped': { from: ACTIVE, to: () => ({ state: 'error', nextRun: 'none', lastError: 'set' }) },
  'organisation-stopped': { from: ACTIVE, to: () => ({ state: 'error', nextRun: 'none', lastError: 'set' }) },
  'cause-fixed': { from: ['error'], to: () => ({ state: 'scheduled', nextRun: 'now', lastError: 'clear' }) },
  'manual-sync': { from: ['error'], to: () => ({ state: 'scheduled', nextRun: 'now', lastError: 'clear' }) },
  'run-abandoned': { from: ['syncing', 'retrying'], to: () => ({ state: 'scheduled', nextRun: 'now', lastError: 'keep' }) },
  // Not from `throttled` (its back-off still holds) nor `error` (a stop keeps its own cause).
  'run-interrupted': {
    from: ['scheduled', 'syncing', 'healthy', 'degraded', 'retrying'],
    to: () => ({ state: 'scheduled', nextRun: 'now', lastError: 'set' }),
  },
};

/** The states an event applies in (the WHERE clause of the statement that applies it). */
export function fromStates(type: StatusEventType): MailboxState[] {
  return [...RULES[type].from];
}

/** The transition `event` makes from `state`, or null when the event does not apply there. */
export function transition(state: MailboxState, event: StatusEvent): Transition | null {
  const rule = RULES[event.type];
  return rule.from.includes(state) ? rule.to(event) : null;
}

/** The target of an event, whatever state it applies in (every rule's target depends on the event only). */
export function targetOf(event: StatusEvent): Transition {
  return RULES[event.type].to(event);
}

/**
 * States the scheduler claims once `next_run_at` is due. An `error` with a run due is a transient
 * cause tried again at the interval; an `error` waiting for a person has next_run_at null.
 */
export const SCHEDULABLE_STATES: readonly MailboxState[] = ['scheduled', 'healthy', 'degraded', 'throttled', 'error'];
