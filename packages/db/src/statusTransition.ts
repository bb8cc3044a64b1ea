import { fromStates, targetOf, type StatusEvent } from '@exsync/canonical';

/**
 * The SET clause's state and the WHERE clause's states of one named transition of the mailbox
 * status machine (@exsync/canonical mailboxStatus.ts), as query parameters.
 */
export function statusTransition(event: StatusEvent): { to: string; from: string[] } {
  return { to: targetOf(event).state, from: fromStates(event.type) };
}
