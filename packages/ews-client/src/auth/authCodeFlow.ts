import type { ConfidentialClientApplication } from '@azure/msal-node';
import { AuthFailedError, EwsError } from '../errors';
import { takeRefreshToken } from './msalCacheTokens';
import { classifyMsalError } from './msalErrors';
import { EWS_DELEGATED_SCOPES } from './scopes';
import { assertTokenTenant } from './tenantCheck';

export interface RedeemAuthCodeInput {
  code: string;
  redirectUri: string;
  codeVerifier: string;
  /** the organisation's tenant: the signed-in user must belong to it */
  tenantId: string;
  /** the nonce sent in the authorize URL; MSAL rejects an ID token whose nonce was not expected */
  nonce?: string;
  scopes?: string[];
}

export interface RedeemedAuthCode {
  accessToken: string;
  expiresOn: Date | null;
  refreshToken: string;
  /** the signed-in user's sign-in name and directory object id */
  username: string;
  oid: string;
  tenantId: string;
  idTokenClaims: Record<string, unknown>;
  /** the raw ID token, for callers that verify its signature themselves */
  idToken: string;
}

/** Redeems the authorization code (single use, PKCE) and hands back the refresh token to store. */
export async function redeemAuthCode(client: ConfidentialClientApplication, input: RedeemAuthCodeInput): Promise<RedeemedAuthCode> {
  let result;
  try {
    result = await client.acquireTokenByCode({
      code: input.code,
      redirectUri: input.redirectUri,
      codeVerifier: input.codeVerifier,
      nonce: input.nonce,
      scopes: input.scopes ?? EWS_DELEGATED_SCOPES,
    });
  } catch (e) {
    throw classifyMsalError(e, 'delegated');
  }
  if (!result?.accessToken || !result.account) throw new EwsError('Transient', 'Entra ID returned no token for the code');
  const refreshToken = await takeRefreshToken(client, result.account);
  assertTokenTenant(result.accessToken, input.tenantId);
  if (!refreshToken) throw new AuthFailedError('grant-revoked', 'Entra ID returned no refresh token (offline_access not granted)');
  const claims = (result.idTokenClaims ?? {}) as Record<string, unknown>;
  return {
    accessToken: result.accessToken,
    expiresOn: result.expiresOn,
    refreshToken,
    username: result.account.username,
    oid: typeof claims.oid === 'string' ? claims.oid : result.account.localAccountId,
    tenantId: result.account.tenantId,
    idTokenClaims: claims,
    idToken: result.idToken,
  };
}
