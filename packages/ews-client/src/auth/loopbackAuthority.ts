import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';

/**
 * The one seam between production and the Entra ID simulator. MSAL only accepts `https://`
 * authorities (authority_uri_insecure), so for an `http://` authority host (allowed only with
 * allowInsecureAuthority) MSAL is given the same host under `https://`, declared in
 * `knownAuthorities` with static `authorityMetadata` (no discovery round trip), and a network client
 * that rewrites exactly that origin back to `http://`. Everything else MSAL does is unchanged.
 */
export interface LoopbackAuthority {
  authority: string;
  knownAuthorities: string[];
  authorityMetadata: string;
  networkClient: INetworkModule;
}

export function loopbackAuthority(httpOrigin: URL, tenantId: string): LoopbackAuthority {
  const httpsOrigin = `https://${httpOrigin.host}`;
  const base = `${httpsOrigin}/${tenantId}`;
  return {
    authority: base,
    knownAuthorities: [httpOrigin.host],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      issuer: `${httpOrigin.origin}/${tenantId}/v2.0`,
    }),
    networkClient: new RewritingNetworkClient(httpsOrigin, httpOrigin.origin),
  };
}

const REQUEST_TIMEOUT_MS = 30_000;

class RewritingNetworkClient implements INetworkModule {
  constructor(
    private readonly from: string,
    private readonly to: string,
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: string, url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    if (url !== this.from && !url.startsWith(`${this.from}/`)) {
      // Only the configured authority is reachable through the seam.
      throw new AuthError('network_error', '', `Refusing request outside the configured authority: ${new URL(url).origin}`);
    }
    let response: Response;
    try {
      response = await fetch(this.to + url.slice(this.from.length), {
        method,
        headers: options?.headers,
        body: method === 'POST' ? (options?.body ?? '') : undefined,
        signal: AbortSignal.timeout(timeout ?? REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      throw new AuthError('network_error', '', `Network request failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      headers[k] = v;
    });
    let body: T;
    try {
      body = (await response.json()) as T;
    } catch (e) {
      throw new AuthError('token_parsing_error', '', `Failed to parse response (HTTP ${response.status}): ${e instanceof Error ? e.message : String(e)}`);
    }
    return { headers, body, status: response.status };
  }
}
