import type { EndpointPolicy } from '@exsync/config';
import { createHash } from 'node:crypto';
import type { ConfidentialClientApplication } from '@azure/msal-node';
import { AuthFailedError, EwsError } from '../errors';
import { createMsalClient } from './createMsalClient';
import { takeRefreshToken } from './msalCacheTokens';
import { classifyMsalError } from './msalErrors';
import { credentialKey, validateOrgCredentials, type OrgCredentials } from './orgCredentials';
import { EWS_DELEGATED_SCOPES, MSAL_RENEWAL_OFFSET_SECONDS } from './scopes';
import { assertTokenTenant } from './tenantCheck';

export interface DelegatedToken {
  accessToken: string;
  expiresOn: Date;
  /** set when Entra ID rotated the refresh token: store it (encrypted) in place of the old one */
  rotatedRefreshToken?: string;
}

export interface DelegatedTokenProviderOptions {
  allowInsecureAuthority?: boolean;
  /** hosts and addresses the authority may be reached at (default: this process's EXSYNC_ALLOWED_HOSTS) */
  endpointPolicy?: EndpointPolicy;
  /** the scopes each refresh asks for (default EWS_DELEGATED_SCOPES; GRAPH_DELEGATED_SCOPES for the Graph transport) */
  scopes?: string[];
}

const PRUNE_THRESHOLD = 5000;

interface CachedToken {
  accessToken: string;
  expiresOn: Date;
}

/**
 * Access tokens for one user from the user's stored refresh token: for EWS by default, or for the
 * resource `scopes` names (Entra ID refresh tokens are redeemable for any resource the app may
 * reach: https://learn.microsoft.com/entra/identity-platform/refresh-tokens). Access tokens are reused in process
 * until five minutes before expiry; concurrent callers for the same user share one request.
 */
export class DelegatedTokenProvider {
  private readonly clients = new Map<string, ConfidentialClientApplication>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<DelegatedToken>>();

  constructor(private readonly opts: DelegatedTokenProviderOptions = {}) {}

  getToken(creds: OrgCredentials, refreshToken: string): Promise<DelegatedToken> {
    let clientKey: string;
    try {
      validateOrgCredentials(creds);
      if (!refreshToken) throw new AuthFailedError('grant-revoked', 'no refresh token stored for this user');
      clientKey = credentialKey(creds);
    } catch (e) {
      return Promise.reject(e);
    }
    // Keyed by a hash of the refresh token: the token itself never becomes a map key in memory dumps.
    const key = `${clientKey}|${createHash('sha256').update(refreshToken).digest('base64url')}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresOn.getTime() - MSAL_RENEWAL_OFFSET_SECONDS * 1000 > Date.now()) {
      return Promise.resolve({ accessToken: cached.accessToken, expiresOn: cached.expiresOn });
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const p = this.redeem(clientKey, creds, refreshToken, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  /** Forgets cached access tokens for a refresh token that the caller has replaced or revoked. */
  forget(creds: OrgCredentials, refreshToken: string): void {
    this.tokens.delete(`${credentialKey(creds)}|${createHash('sha256').update(refreshToken).digest('base64url')}`);
  }

  private async redeem(clientKey: string, creds: OrgCredentials, refreshToken: string, key: string): Promise<DelegatedToken> {
    const client = this.client(clientKey, creds);
    let result;
    try {
      // forceCache: MSAL otherwise drops the response for an account it has not seen, and the rotated
      // refresh token is read back from its cache.
      result = await client.acquireTokenByRefreshToken({ refreshToken, scopes: this.opts.scopes ?? EWS_DELEGATED_SCOPES, forceCache: true });
    } catch (e) {
      this.tokens.delete(key);
      throw classifyMsalError(e, 'delegated');
    }
    if (!result?.accessToken) throw new EwsError('Transient', 'Entra ID returned no access token');
    const rotated = await takeRefreshToken(client, result.account);
    assertTokenTenant(result.accessToken, creds.tenantId);
    const expiresOn = result.expiresOn ?? new Date(Date.now() + 3600_000);
    const token: DelegatedToken = { accessToken: result.accessToken, expiresOn };
    if (rotated && rotated !== refreshToken) {
      token.rotatedRefreshToken = rotated;
      // The caller will come back with the rotated token; cache under that key too.
      this.tokens.set(`${clientKey}|${createHash('sha256').update(rotated).digest('base64url')}`, { accessToken: result.accessToken, expiresOn });
    }
    this.tokens.set(key, { accessToken: result.accessToken, expiresOn });
    this.pruneExpired();
    return token;
  }

  /** Users come and go; expired entries are dropped once the map grows past a few thousand. */
  private pruneExpired(): void {
    if (this.tokens.size < PRUNE_THRESHOLD) return;
    const now = Date.now();
    for (const [k, t] of this.tokens) if (t.expiresOn.getTime() <= now) this.tokens.delete(k);
  }

  private client(key: string, creds: OrgCredentials): ConfidentialClientApplication {
    let client = this.clients.get(key);
    if (!client) {
      client = createMsalClient(creds, { allowInsecureAuthority: this.opts.allowInsecureAuthority, endpointPolicy: this.opts.endpointPolicy });
      this.clients.set(key, client);
    }
    return client;
  }
}
