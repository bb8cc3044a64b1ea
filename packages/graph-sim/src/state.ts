import type { StoredItem } from '@exsync/ews-sim';
import { DeltaTokens } from './deltaTokens';

/** A meeting message the organizer's mailbox sent (invitations on create, cancellations on delete). */
export interface MeetingMessage {
  kind: 'invitation' | 'cancellation';
  mailbox: string;
  /** EWS id of the event (the series for a whole series, else the occurrence's). */
  eventId: string;
  subject: string;
  recipients: string[];
  at: string;
  protocol: 'graph';
}

/**
 * What the Graph side keeps beyond the shared mailbox store: the per-tenant mailbox scope (RBAC for
 * Applications), the meeting messages log, transactionId de-duplication, user object ids, and delta state.
 */
export class GraphState {
  /** tenantId -> (appId or '*') -> mailboxes the app may reach; absent = the whole tenant. */
  readonly scopes = new Map<string, Map<string, Set<string>>>();
  readonly messages: MeetingMessage[] = [];
  /** `${mailbox}|${transactionId}` -> EWS id of the event it created. */
  readonly transactions = new Map<string, string>();
  readonly transactionOf = new WeakMap<StoredItem, string>();
  /** Entra object id (lower case) -> mailbox address; other mailboxes get a derived id. */
  readonly userIds = new Map<string, string>();
  readonly delta = new DeltaTokens();

  /** Limits an app (or, without appId, every app) in a tenant to some mailboxes; `null` lifts the limit. */
  setScope(tenantId: string, mailboxes: string[] | null, appId = '*'): void {
    const perApp = this.scopes.get(tenantId) ?? new Map<string, Set<string>>();
    if (mailboxes === null) perApp.delete(appId);
    else perApp.set(appId, new Set(mailboxes.map((m) => m.toLowerCase())));
    this.scopes.set(tenantId, perApp);
  }

  /** Whether an app-only caller may reach a mailbox (per-app scope first, then the tenant-wide one). */
  inScope(tenantId: string, appId: string, mailbox: string): boolean {
    const perApp = this.scopes.get(tenantId);
    const scope = perApp?.get(appId) ?? perApp?.get('*');
    return !scope || scope.has(mailbox);
  }

  recordMessage(m: Omit<MeetingMessage, 'at' | 'protocol'>): void {
    if (m.recipients.length === 0) return;
    this.messages.push({ ...m, at: new Date().toISOString(), protocol: 'graph' });
  }

  reset(): void {
    this.scopes.clear();
    this.messages.length = 0;
    this.transactions.clear();
    this.delta.clear();
  }
}
