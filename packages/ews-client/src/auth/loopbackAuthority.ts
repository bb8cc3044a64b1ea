import type { EndpointPolicy } from '@exsync/config';
import { GuardedNetworkClient } from './guardedNetworkClient';

/**
 * The one seam between production and the Entra ID simulator. MSAL only accepts `https://`
 * authorities (authority_uri_insecure), so for an `http://` authority host (allowed only with
 * allowInsecureAuthority) MSAL is given the same host under `https://`, declared in
 * `knownAuthorities` with static `authorityMetadata` (no discovery round trip), and a network client
 * that rewrites exactly that origin back to `http://` (and applies the endpoint policy and body caps
 * as for every authority). Everything else MSAL does is unchanged.
 */
export interface LoopbackAuthority {
  authority: string;
  knownAuthorities: string[];
  authorityMetadata: string;
  networkClient: GuardedNetworkClient;
}

export function loopbackAuthority(httpOrigin: URL, tenantId: string, policy: EndpointPolicy): LoopbackAuthority {
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
    networkClient: new GuardedNetworkClient({ policy, rewrite: { from: httpsOrigin, to: httpOrigin.origin } }),
  };
}
