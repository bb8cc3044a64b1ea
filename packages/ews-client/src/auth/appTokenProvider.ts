import type { EndpointPolicy } from '@exsync/config';
import { createHash } from 'node:crypto';
import type { ConfidentialClientApplication } from '@azure/msal-node';
import { EwsError } from '../errors';
import { createMsalClient } from './createMsalClient';
import { classifyMsalError } from './msalErrors';
import { credentialKey, validateOrgCredentials, type OrgCredentials } from './orgCredentials';
import { EWS_APP_SCOPE, MSAL_RENEWAL_OFFSET_SECONDS } from './scopes';
import { assertTokenTenant } from './tenantCheck';
import { decodeJwtPayload } from './tokenClaims';
import { latestAccessTokenExpiry, storeCachePlugin, type TokenCacheStore } from './tokenCacheStore';

export interface AppTokenProviderOptions {
  /** accept `http://` authority hosts (the simulators); pass EXSYNC_ALLOW_INSECURE_AUTHORITY */
  allowInsecureAuthority?: boolean;
  /** hosts and addresses the authority may be reached at (default: this process's EXSYNC_ALLOWED_HOSTS) */
  endpointPolicy?: EndpointPolicy;
  /** shared, encrypted MSAL cache so several processes of one org share a token */
  cache?: TokenCacheStore;
  /** how long a process with a cold cache waits for another process that is already fetching (ms) */
  lockWaitMs?: number;
  /** the resource's `.default` scope (default EWS_APP_SCOPE; GRAPH_APP_SCOPE for the Graph transport) */
  scope?: string;
}

const LOCK_TTL_MS = 15_000;
const POLL_MS = 50;

/** The shared-cache key of one credential: a hash, so the key names no secret. */
function storeKeyOf(credentialKey: string): string {
  return `app:${createHash('sha256').update(credentialKey).digest('base64url')}`;
}

/**
 * App-only EWS tokens per organisation: one MSAL confidential client per (authority host, tenant,
 * app, credential), MSAL's cache (optionally shared through `cache`) for reuse and renewal five
 * minutes before expiry, and one in-flight request per client, because MSAL sends one token
 * request per concurrent cold caller.
 */
export class AppTokenProvider {
  private readonly clients = new Map<string, ConfidentialClientApplication>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /** forced refreshes in flight, so concurrent callers that saw the same rejection share one */
  private readonly refreshing = new Map<string, Promise<string>>();
  /** the last token per client until MSAL would renew it: spares a shared-cache read on every EWS call */
  private readonly current = new Map<string, { token: string; renewAtMs: number }>();

  private readonly scope: string;

  constructor(private readonly opts: AppTokenProviderOptions = {}) {
    this.scope = opts.scope ?? EWS_APP_SCOPE;
  }

  /** The shared-cache key: one per credential and scope (EWS keeps its historical key). */
  private storeKey(key: string): string {
    return storeKeyOf(this.scope === EWS_APP_SCOPE ? key : `${key}|${this.scope}`);
  }

  /**
   * `forceRefresh`: EWS rejected the token this provider gave out (HTTP 401) before it expired.
   * Skips every cache and asks Entra ID; MSAL's write of the new token replaces the rejected one
   * in the shared cache, so other processes stop using it too.
   */
  getToken(creds: OrgCredentials, opts: { forceRefresh?: boolean } = {}): Promise<string> {
    let key: string;
    try {
      validateOrgCredentials(creds);
      key = credentialKey(creds);
    } catch (e) {
      return Promise.reject(e);
    }
    if (opts.forceRefresh) return this.refresh(key, creds);
    const current = this.current.get(key);
    if (current && Date.now() < current.renewAtMs) return Promise.resolve(current.token);
    const pending = this.refreshing.get(key) ?? this.inFlight.get(key);
    if (pending) return pending;
    const p = this.acquire(key, creds)
      .then((token) => this.remember(key, token))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private refresh(key: string, creds: OrgCredentials): Promise<string> {
    this.current.delete(key);
    const pending = this.refreshing.get(key);
    if (pending) return pending;
    const p = this.fromMsal(this.client(key, this.storeKey(key), creds), creds, true)
      .then((token) => this.remember(key, token))
      .finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, p);
    return p;
  }

  private remember(key: string, token: string): string {
    const exp = decodeJwtPayload(token)?.exp;
    if (typeof exp === 'number') this.current.set(key, { token, renewAtMs: (exp - MSAL_RENEWAL_OFFSET_SECONDS) * 1000 });
    return token;
  }

  private async acquire(key: string, creds: OrgCredentials): Promise<string> {
    const storeKey = this.storeKey(key);
    const client = this.client(key, storeKey, creds);
    const store = this.opts.cache;
    if (store?.tryLock && !(await this.sharedTokenValid(store, storeKey))) {
      const release = await store.tryLock(`${storeKey}:lock`, LOCK_TTL_MS);
      if (release) {
        try {
          return await this.fromMsal(client, creds);
        } finally {
          await release();
        }
      }
      // Another process is fetching this org's token: wait for it to land in the shared cache.
      await this.waitForSharedToken(store, storeKey);
    }
    return this.fromMsal(client, creds);
  }

  private async fromMsal(client: ConfidentialClientApplication, creds: OrgCredentials, skipCache = false): Promise<string> {
    let accessToken: string | undefined;
    try {
      accessToken = (await client.acquireTokenByClientCredential({ scopes: [this.scope], skipCache }))?.accessToken;
    } catch (e) {
      throw classifyMsalError(e, 'app-only');
    }
    if (!accessToken) throw new EwsError('Transient', 'Entra ID returned no access token');
    assertTokenTenant(accessToken, creds.tenantId);
    return accessToken;
  }

  private client(key: string, storeKey: string, creds: OrgCredentials): ConfidentialClientApplication {
    let client = this.clients.get(key);
    if (!client) {
      // A new credential for the same app replaces the old one: drop the old client and its token.
      const app = key.slice(0, key.lastIndexOf('|') + 1);
      for (const k of this.clients.keys()) {
        if (k.startsWith(app)) {
          this.clients.delete(k);
          this.current.delete(k);
        }
      }
      client = createMsalClient(creds, {
        allowInsecureAuthority: this.opts.allowInsecureAuthority,
        endpointPolicy: this.opts.endpointPolicy,
        cachePlugin: this.opts.cache ? storeCachePlugin(this.opts.cache, storeKey) : undefined,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  private async sharedTokenValid(store: TokenCacheStore, storeKey: string): Promise<boolean> {
    const data = await store.get(storeKey);
    return data !== undefined && latestAccessTokenExpiry(data) > Date.now() / 1000 + MSAL_RENEWAL_OFFSET_SECONDS;
  }

  private async waitForSharedToken(store: TokenCacheStore, storeKey: string): Promise<void> {
    const deadline = Date.now() + (this.opts.lockWaitMs ?? 10_000);
    while (Date.now() < deadline) {
      if (await this.sharedTokenValid(store, storeKey)) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
