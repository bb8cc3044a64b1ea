import { describe, expect, it } from 'vitest';
import { MAILBOX_STATES, SCHEDULABLE_STATES, fromStates, transition, type MailboxState, type StatusEvent, type Transition } from '@exsync/canonical';

/**
 * Every state x every named transition. `null` means the event does not apply in that state (the
 * repository's WHERE clause leaves the row alone). Written out by hand, so a change to the machine
 * shows up here as a deliberate edit.
 */
const S = (state: MailboxState, nextRun: Transition['nextRun'], lastError: Transition['lastError']): Transition => ({ state, nextRun, lastError });
const ERROR_WAITING = S('error', 'none', 'set');

const EVENTS: Record<string, StatusEvent> = {
  disable: { type: 'disable' },
  'enable (signed in)': { type: 'enable', signedIn: true },
  'enable (not signed in)': { type: 'enable', signedIn: false },
  'sign-in': { type: 'sign-in' },
  'run-started': { type: 'run-started' },
  'run-succeeded (clean)': { type: 'run-succeeded', failingItems: 0 },
  'run-succeeded (items fail)': { type: 'run-succeeded', failingItems: 3 },
  'run-throttled': { type: 'run-throttled' },
  'attempt-failed': { type: 'attempt-failed' },
  'retries-exhausted': { type: 'retries-exhausted' },
  'mailbox-stopped': { type: 'mailbox-stopped' },
  'organisation-stopped': { type: 'organisation-stopped' },
  'cause-fixed': { type: 'cause-fixed' },
  'manual-sync': { type: 'manual-sync' },
  'run-abandoned': { type: 'run-abandoned' },
  'run-interrupted': { type: 'run-interrupted' },
};

type Row = Partial<Record<MailboxState, Transition>>;
const ACTIVE: MailboxState[] = ['scheduled', 'syncing', 'healthy', 'degraded', 'throttled', 'retrying', 'error'];
const all = (t: Transition, states: readonly MailboxState[]): Row => Object.fromEntries(states.map((s) => [s, t]));

const EXPECTED: Record<keyof typeof EVENTS, Row> = {
  disable: all(
    S('not-enabled', 'none', 'clear'),
    MAILBOX_STATES.filter((s) => s !== 'not-enabled'),
  ),
  'enable (signed in)': { 'not-enabled': S('scheduled', 'now', 'clear') },
  'enable (not signed in)': { 'not-enabled': S('awaiting-user-login', 'none', 'clear') },
  'sign-in': all(S('scheduled', 'now', 'clear'), ['awaiting-user-login', 'error']),
  'run-started': all(S('syncing', 'unchanged', 'keep'), ACTIVE),
  'run-succeeded (clean)': { syncing: S('healthy', 'interval', 'clear') },
  'run-succeeded (items fail)': { syncing: S('degraded', 'interval', 'clear') },
  'run-throttled': all(S('throttled', 'backoff', 'keep'), ['syncing', 'retrying']),
  'attempt-failed': { syncing: S('retrying', 'unchanged', 'set') },
  'retries-exhausted': all(S('error', 'interval', 'set'), ['syncing', 'retrying']),
  'mailbox-stopped': all(ERROR_WAITING, ACTIVE),
  'organisation-stopped': all(ERROR_WAITING, ACTIVE),
  'cause-fixed': { error: S('scheduled', 'now', 'clear') },
  'manual-sync': { error: S('scheduled', 'now', 'clear') },
  'run-abandoned': all(S('scheduled', 'now', 'keep'), ['syncing', 'retrying']),
  'run-interrupted': all(S('scheduled', 'now', 'set'), ['scheduled', 'syncing', 'healthy', 'degraded', 'retrying']),
};

describe('the mailbox status machine', () => {
  const cases = Object.entries(EVENTS).flatMap(([name, event]) => MAILBOX_STATES.map((state) => [name, state, event] as const));

  it.each(cases)('%s from %s', (name, state, event) => {
    expect(transition(state, event)).toEqual(EXPECTED[name][state] ?? null);
  });

  it('fromStates is exactly the states a transition applies in', () => {
    for (const [name, event] of Object.entries(EVENTS)) {
      expect(new Set(fromStates(event.type)), name).toEqual(new Set(Object.keys(EXPECTED[name])));
    }
  });

  it('healthy is reached only by a run that succeeded with nothing failing', () => {
    for (const [name, event] of Object.entries(EVENTS)) {
      for (const state of MAILBOX_STATES) {
        if (transition(state, event)?.state === 'healthy') expect(name).toBe('run-succeeded (clean)');
      }
    }
  });

  it('a cause that needs a person leaves no run scheduled; a spent retry schedules the next interval', () => {
    expect(transition('syncing', { type: 'mailbox-stopped' })!.nextRun).toBe('none');
    expect(transition('syncing', { type: 'organisation-stopped' })!.nextRun).toBe('none');
    expect(transition('retrying', { type: 'retries-exhausted' })!.nextRun).toBe('interval');
  });

  it('the scheduler claims neither a running nor a retrying nor a disabled mailbox', () => {
    for (const s of ['syncing', 'retrying', 'not-enabled', 'awaiting-user-login'] as const) expect(SCHEDULABLE_STATES).not.toContain(s);
  });
});
