import { checkEndpointUrl, EndpointRefusedError, type EndpointPolicy } from '@exsync/config';

/**
 * The stored authority host as an origin exsync may send a browser to, or null when the endpoint
 * policy refuses it (settings saved before the policy, or an operator entry since removed). The
 * sign-in start and the admin-consent link build their redirects only from this, so exsync's own
 * domain never redirects to a host of an org admin's choosing.
 */
export function allowedAuthority(policy: EndpointPolicy, authorityHost: string): string | null {
  try {
    return checkEndpointUrl(policy, 'authority', 'authorityHost', authorityHost, { bareOrigin: true });
  } catch (e) {
    if (e instanceof EndpointRefusedError) return null;
    throw e;
  }
}
