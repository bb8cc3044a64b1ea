/**
 * The API side of the transport switch (issue 16, point 4; README "Switching transport"): what a
 * change of `transport` in PUT/PATCH /v1/orgs/:orgId/exchange starts or refuses, and
 * `transportSwitch` on the settings' answers. The work is the worker's (transportSwitchStep.ts).
 */
import { countMailboxesSyncedOver, getTransportSwitch, markDueNow, type ExchangeSettingsView, type Queryable, type TransportSwitchView } from '@exsync/db';
import type { ExchangeTransport } from '@exsync/canonical';
import type pg from 'pg';
import { HttpError } from './httpError';

/**
 * Whether saving `transport` starts a switch, and from which transport (undefined: none). Refuses
 * with 409 naming `transport`: a change while a switch is running, and a switch back from Graph to
 * EWS once a mailbox has synced over Graph (Graph's immutable ids cannot be turned back into EWS
 * ids without `translateExchangeIds`, which app-only tokens may lack). Re-sending the current
 * transport after a failed switch retries it.
 */
export async function plannedSwitch(
  db: Queryable,
  orgId: string,
  existing: ExchangeSettingsView | null,
  transport: ExchangeTransport,
  transportSent: boolean,
): Promise<ExchangeTransport | undefined> {
  if (!existing) return undefined;
  const current = await getTransportSwitch(db, orgId);
  if (transport === existing.transport) return transportSent && current?.state === 'failed' ? existing.transport : undefined;
  if (current?.state === 'running') {
    throw new HttpError(
      409,
      `a switch to ${current.to} is running (${current.mailboxesDone} of ${current.mailboxesTotal} mailboxes done): change transport once it has ended`,
      'transport',
    );
  }
  if (transport === 'ews' && (await countMailboxesSyncedOver(db, orgId, existing.transport, 'graph')) > 0) {
    throw new HttpError(
      409,
      'mailboxes of this organisation have synced over Graph: switching them back to EWS keeping their links is not supported, so transport stays "graph"',
      'transport',
    );
  }
  return existing.transport;
}

/** Queues the switching mailboxes now; a failed enqueue leaves them due for the scheduler. */
export async function queueSwitch(
  pool: pg.Pool,
  enqueueSync: ((id: string, reason: string) => Promise<void>) | undefined,
  mailboxIds: string[],
): Promise<void> {
  for (const id of mailboxIds) {
    await (enqueueSync ? enqueueSync(id, 'transport switch') : Promise.reject(new Error('no queue'))).catch(() => markDueNow(pool, id));
  }
}

/** The settings with the organisation's switch, as every settings answer shows them. */
export async function withTransportSwitch<T extends ExchangeSettingsView>(
  db: Queryable,
  settings: T,
): Promise<T & { transportSwitch: TransportSwitchView | null }> {
  return { ...settings, transportSwitch: await getTransportSwitch(db, settings.orgId) };
}
