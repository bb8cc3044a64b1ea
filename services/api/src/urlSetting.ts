import { checkEndpointUrl, EndpointRefusedError, type EndpointKind, type EndpointPolicy } from '@exsync/config';
import { badRequest } from './httpError';

/**
 * Normalises and checks an endpoint setting (authorityHost, ewsUrl, graphUrl) against the endpoint
 * policy (packages/config/src/endpointPolicy.ts): a bare host name means https; http only with
 * EXSYNC_ALLOW_INSECURE_AUTHORITY; no credentials, query or fragment; the host must be Microsoft's
 * for `kind` or listed in EXSYNC_ALLOWED_HOSTS. A refusal answers 400 naming `field`.
 */
export function endpointSetting(policy: EndpointPolicy, kind: EndpointKind, field: string, raw: string): string {
  try {
    return checkEndpointUrl(policy, kind, field, raw, { bareOrigin: kind === 'authority' });
  } catch (e) {
    if (e instanceof EndpointRefusedError) throw badRequest(`body field "${field}": ${e.message}`, field);
    throw e;
  }
}
