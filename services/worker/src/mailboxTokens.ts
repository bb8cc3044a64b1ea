import { toOrgCredentials, type ExchangeCredentials, type SecretBox } from '@exsync/db';
import type { AppTokenProvider, DelegatedTokenProvider } from '@exsync/ews-client';
import type pg from 'pg';
import { storeRefreshToken } from '@exsync/db';
import { SyncError } from '@exsync/canonical';

export interface TokenProviders {
  /** one per process: MSAL's cache and the single-flight live in it */
  app: AppTokenProvider;
  /** app-only tokens for https://graph.microsoft.com/.default (organisations on the Graph transport) */
  graphApp?: AppTokenProvider;
  delegated: DelegatedTokenProvider;
  /** delegated tokens for Microsoft Graph (GRAPH_DELEGATED_SCOPES), from the same stored refresh token */
  graphDelegated?: DelegatedTokenProvider;
}

/**
 * The `getAccessToken` a mailbox session calls before every request, for the organisation's
 * transport (EWS or Microsoft Graph). App-only: the org's token from the shared provider. Delegated: the user's token from the stored refresh token; when Entra ID
 * rotates it, the new one is sealed and stored before the access token is used, so a crash cannot
 * leave only the old (now spent) token behind.
 */
export function tokenGetter(args: {
  pool: pg.Pool;
  box: SecretBox;
  providers: TokenProviders;
  creds: ExchangeCredentials;
  mailboxId: string;
  refreshTokenEnc: Buffer | null;
}): (opts?: { forceRefresh?: boolean }) => Promise<string> {
  const org = toOrgCredentials(args.creds);
  const graph = args.creds.transport === 'graph';
  if (args.creds.authMode === 'app-only') {
    const app = graph ? args.providers.graphApp : args.providers.app;
    if (!app) throw new SyncError('InvalidSettings', 'this worker has no Graph token provider', { code: 'GraphTransportUnsupported' });
    return (opts) => app.getToken(org, opts);
  }
  const delegated = graph ? args.providers.graphDelegated : args.providers.delegated;
  if (!delegated) throw new SyncError('InvalidSettings', 'this worker has no Graph token provider', { code: 'GraphTransportUnsupported' });
  if (!args.refreshTokenEnc) {
    throw new SyncError('AuthFailed', 'no refresh token stored', { reason: 'grant-revoked', code: 'UserSignInMissing' });
  }
  let refreshToken: string;
  try {
    refreshToken = args.box.open(args.refreshTokenEnc, args.creds.orgId);
  } catch {
    throw new SyncError('AuthFailed', 'stored refresh token cannot be opened', { reason: 'grant-revoked', code: 'UserSignInUnreadable' });
  }
  return async () => {
    const token = await delegated.getToken(org, refreshToken);
    if (token.rotatedRefreshToken) {
      await storeRefreshToken(args.pool, args.mailboxId, args.box.seal(token.rotatedRefreshToken, args.creds.orgId));
      refreshToken = token.rotatedRefreshToken;
    }
    return token.accessToken;
  };
}
