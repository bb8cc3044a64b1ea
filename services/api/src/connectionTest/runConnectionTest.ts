import type { EndpointPolicy } from '@exsync/config';
import type pg from 'pg';
import { replaceRefreshToken, toOrgCredentials, type ExchangeCredentials, type SecretBox, type TestableMailbox } from '@exsync/db';
import { AppTokenProvider, DelegatedTokenProvider, openMailbox } from '@exsync/ews-client';
import { openGraphMailbox } from '@exsync/graph-client';
import type { AdminMessage } from '@exsync/canonical';
import { explainFailure } from './explainFailure';
import { APP_SCOPE, DELEGATED_SCOPES } from '../login/transportPermissions';

export interface ConnectionStep {
  /** the last step is named for the organisation's transport: `ews` or `graph` */
  name: 'settings' | 'token' | 'ews' | 'graph';
  ok: boolean;
  message: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  /** the mailbox the EWS or Graph step acted as, when there was one */
  mailbox: string | null;
  steps: ConnectionStep[];
  /** the failed step's cause, from the catalogue (not part of the HTTP answer) */
  cause?: AdminMessage;
}

export interface ConnectionTestInput {
  pool: pg.Pool;
  box: SecretBox;
  creds: ExchangeCredentials;
  /** the mailbox to act as; null when none is known */
  target: TestableMailbox | null;
  allowInsecureAuthority: boolean;
  /** where the token, EWS and Graph requests may go, checked when connecting */
  endpointPolicy: EndpointPolicy;
  /** cap on an EWS or Graph answer, on the wire and once decompressed (EXSYNC_MAX_RESPONSE_MB) */
  maxResponseBytes?: number;
  /** request deadline for the test's EWS or Graph call (ms) */
  timeoutMs?: number;
}

const TEST_TIMEOUT_MS = 20_000;

/**
 * Token, then one call as the mailbox over the organisation's transport (EWS GetFolder, or Graph
 * reads of the calendar and the contacts folder). Fresh token providers every time: a cached token would
 * hide a secret that was revoked in Azure since the last sync.
 */
export async function runConnectionTest(input: ConnectionTestInput): Promise<ConnectionTestResult> {
  const { creds, target } = input;
  const steps: ConnectionStep[] = [];
  let cause: AdminMessage | undefined;
  const failed = (name: ConnectionStep['name'], err: unknown, mailbox?: string) => {
    cause = explainFailure(err, { mailbox, credential, transport: creds.transport });
    steps.push({ name, ok: false, message: cause.message });
  };
  const done = (): ConnectionTestResult => ({ ok: steps.every((s) => s.ok), mailbox: target?.address ?? null, steps, cause });
  const org = toOrgCredentials(creds);
  const providerOpts = { allowInsecureAuthority: input.allowInsecureAuthority, endpointPolicy: input.endpointPolicy };
  const credential: 'secret' | 'certificate' = creds.clientCertificate ? 'certificate' : 'secret';

  const graph = creds.transport === 'graph';
  const last: ConnectionStep['name'] = graph ? 'graph' : 'ews';
  const service = graph ? 'Microsoft Graph' : 'Exchange';
  let getAccessToken: () => Promise<string>;
  if (creds.authMode === 'app-only') {
    const provider = new AppTokenProvider({ ...providerOpts, scope: APP_SCOPE[creds.transport] });
    try {
      const token = await provider.getToken(org);
      getAccessToken = async () => token;
      steps.push({
        name: 'token',
        ok: true,
        message: `Entra ID issued an app-only token for ${service}: the application id, tenant id, client ${credential} and admin consent are right.`,
      });
    } catch (err) {
      failed('token', err);
      return done();
    }
  } else {
    if (!target?.signedIn || !target.refreshTokenEnc) {
      steps.push({
        name: 'token',
        ok: false,
        message: target
          ? `Delegated mode: ${target.address} has not signed in with Microsoft yet. Send them the sign-in link, then test again.`
          : 'Delegated mode tests as a user who has signed in with Microsoft, and none has yet. Send a user the sign-in link, then test again.',
      });
      return done();
    }
    const provider = new DelegatedTokenProvider({ ...providerOpts, scopes: [...DELEGATED_SCOPES[creds.transport]] });
    try {
      const token = await provider.getToken(org, input.box.open(target.refreshTokenEnc, creds.orgId));
      if (token.rotatedRefreshToken && target.mailboxId) {
        await replaceRefreshToken(input.pool, target.mailboxId, input.box.seal(token.rotatedRefreshToken, creds.orgId));
      }
      getAccessToken = async () => token.accessToken;
      steps.push({ name: 'token', ok: true, message: `Entra ID issued a token for ${service} as ${target.address} from their sign-in.` });
    } catch (err) {
      failed('token', err);
      return done();
    }
  }

  if (!target) {
    steps.push({
      name: last,
      ok: false,
      message: 'No mailbox to test with: enter a mailbox address, or test again once a user has signed in with Microsoft.',
    });
    return done();
  }
  try {
    const common = {
      smtpAddress: target.address,
      getAccessToken,
      timeoutMs: input.timeoutMs ?? TEST_TIMEOUT_MS,
      endpointPolicy: input.endpointPolicy,
      maxResponseBytes: input.maxResponseBytes,
    };
    const session = graph
      ? openGraphMailbox({ ...common, graphUrl: creds.graphUrl, mode: creds.authMode })
      : openMailbox({ ...common, ewsUrl: creds.ewsUrl, mode: creds.authMode });
    const access = await session.checkAccess();
    const folders = access.folders.map((f) => f.displayName).join(' and ');
    const over = graph ? 'Microsoft Graph answered' : 'Exchange answered over EWS';
    steps.push({ name: last, ok: true, message: `${over} as ${target.address}: ${folders} can be read.` });
  } catch (err) {
    failed(last, err, target.address);
  }
  return done();
}
