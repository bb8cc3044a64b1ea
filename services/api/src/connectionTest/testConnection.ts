/**
 * The connection test (CONTRACT.md `POST /v1/orgs/:orgId/exchange/test`, and one user's mailbox):
 * the settings step, then runConnectionTest's token and transport steps; what it finds about the
 * organisation as a whole is recorded as a sync would record it.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  getUser,
  liftOrganisationStop,
  loadCredentials,
  stopOrganisation,
  type ExchangeCredentials,
  firstSignedInMailbox,
  signedInMailboxByAddress,
  userMailbox,
  type TestableMailbox,
} from '@exsync/db';
import type { ResolvedDeps } from '../app';
import { notFound } from '../httpError';
import { requestSyncSoon } from '../requestSyncSoon';
import { runConnectionTest, type ConnectionTestResult } from './runConnectionTest';

/** Loads the settings as the first step; a missing or unreadable secret ends the test there. */
async function settingsStep(deps: ResolvedDeps, orgId: string): Promise<{ creds: ExchangeCredentials } | { result: ConnectionTestResult }> {
  const fail = (message: string) => ({ result: { ok: false, mailbox: null, steps: [{ name: 'settings' as const, ok: false, message }] } });
  let creds: ExchangeCredentials | null;
  try {
    creds = await loadCredentials(deps.pool, deps.secretBox, orgId);
  } catch {
    return fail(
      'The stored client secret cannot be decrypted with the configured encryption keys (was EXSYNC_ENCRYPTION_KEY changed?). Save the client secret again.',
    );
  }
  if (!creds)
    return fail('No Exchange settings are saved yet. Enter the application id, tenant id and client secret from the Azure app registration and save them.');
  if (!creds.clientSecret && !creds.clientCertificate)
    return fail('No client secret or certificate is saved. Create a client secret for the app in the Azure portal and save it here.');
  return { creds };
}

async function test(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, pick: () => Promise<TestableMailbox | null>): Promise<ConnectionTestResult> {
  const loaded = await settingsStep(deps, orgId);
  if ('result' in loaded) return loaded.result;
  const { creds } = loaded;
  const target = await pick();
  const result = await runConnectionTest({
    pool: deps.pool,
    box: deps.secretBox,
    creds,
    target,
    allowInsecureAuthority: deps.config.allowInsecureAuthority,
    endpointPolicy: deps.endpointPolicy,
    maxResponseBytes: deps.config.maxResponseBytes,
  });
  result.steps.unshift({
    name: 'settings',
    ok: true,
    message: `Settings found: ${creds.authMode} mode, tenant ${creds.tenantId}, application ${creds.applicationId}, ${
      creds.transport === 'graph' ? `Microsoft Graph at ${creds.graphUrl}` : `EWS at ${creds.ewsUrl}`
    }.`,
  });
  log.info({ orgId, ok: result.ok, failed: result.steps.filter((s) => !s.ok).map((s) => s.name) }, 'connection test');
  await recordOrganisationOutcome(deps, log, orgId, result);
  return result;
}

/**
 * A connection test is the organisation's freshest evidence. An organisation-wide cause it finds
 * (an expired secret while a cached token still syncs, consent, EWS off) is recorded on the
 * organisation at once, as a sync would; a passing test lifts such a cause and queues again every
 * mailbox it stopped, so nobody has to press "Sync now" on each.
 */
async function recordOrganisationOutcome(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, result: ConnectionTestResult): Promise<void> {
  const { pool, enqueueSync } = deps;
  if (result.cause?.scope === 'organisation') {
    await stopOrganisation(pool, orgId, { code: result.cause.code, message: result.cause.message });
    log.warn({ orgId, code: result.cause.code }, 'connection test found an organisation-wide cause; organisation stopped');
    return;
  }
  if (!result.ok) return;
  const revived = await liftOrganisationStop(pool, orgId);
  if (revived.length === 0) return;
  log.info({ orgId, mailboxes: revived.length }, 'connection test passed; mailboxes stopped by the organisation queued again');
  // liftOrganisationStop made them due at once: a failed enqueue only waits for the scheduler's next tick
  for (const mailboxId of revived) await requestSyncSoon(enqueueSync, log, mailboxId, 'organisation fixed');
}

/** Tests as `mailbox` when given (a mailbox nobody signed in with can still be tested app-only), else as the first user who signed in. */
export function testOrganisation(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, mailbox: string | undefined): Promise<ConnectionTestResult> {
  return test(deps, log, orgId, async () => {
    if (!mailbox) return firstSignedInMailbox(deps.pool, orgId);
    return (await signedInMailboxByAddress(deps.pool, orgId, mailbox)) ?? { mailboxId: null, address: mailbox, signedIn: false, refreshTokenEnc: null };
  });
}

/** Tests as one user's mailbox; 404 for an unknown user. */
export async function testUserMailbox(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, userId: string): Promise<ConnectionTestResult> {
  if (!(await getUser(deps.pool, orgId, userId))) throw notFound('user not found');
  return test(deps, log, orgId, () => userMailbox(deps.pool, orgId, userId));
}
