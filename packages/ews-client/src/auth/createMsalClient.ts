import { ConfidentialClientApplication, type Configuration, type ICachePlugin } from '@azure/msal-node';
import { EwsError } from '../errors';
import type { EndpointPolicy } from '@exsync/config';
import { defaultEndpointPolicy } from '../guardedHttp';
import { GuardedNetworkClient } from './guardedNetworkClient';
import { loopbackAuthority } from './loopbackAuthority';
import { normaliseAuthorityHost, validateOrgCredentials, type OrgCredentials } from './orgCredentials';

export interface MsalClientOptions {
  /** allow an `http://` authority host (the simulators); the caller reads EXSYNC_ALLOW_INSECURE_AUTHORITY */
  allowInsecureAuthority?: boolean;
  /** MSAL cache persistence (cross-process token cache) */
  cachePlugin?: ICachePlugin;
  /** hosts and addresses the authority may be reached at, checked when connecting (default: this process's EXSYNC_ALLOWED_HOSTS) */
  endpointPolicy?: EndpointPolicy;
}

/** Raised for an `http://` authority host when insecure authorities are not allowed. */
export class InsecureAuthorityError extends EwsError {
  constructor(authorityHost: string) {
    super(
      'Permanent',
      `Refusing the insecure authority host '${authorityHost}': Entra ID must be reached over https. ` +
        'Set EXSYNC_ALLOW_INSECURE_AUTHORITY=true only for the local simulators.',
      { code: 'insecure_authority' },
    );
    this.name = 'InsecureAuthorityError';
  }
}

/**
 * The configured MSAL confidential client for one organisation's app registration. Used by the
 * token providers and by the user sign-in flow (getAuthCodeUrl / acquireTokenByCode), so all of
 * them go through the same authority handling.
 */
export function createMsalClient(creds: OrgCredentials, opts: MsalClientOptions = {}): ConfidentialClientApplication {
  validateOrgCredentials(creds);
  const host = normaliseAuthorityHost(creds.authorityHost);
  const auth: Configuration['auth'] = { clientId: creds.applicationId };
  if (creds.clientSecret !== undefined) auth.clientSecret = creds.clientSecret;
  if (creds.clientCertificate) {
    const thumb = creds.clientCertificate.thumbprint.replace(/:/g, '').toLowerCase();
    auth.clientCertificate =
      thumb.length === 64
        ? { thumbprintSha256: thumb, privateKey: creds.clientCertificate.privateKeyPem }
        : { thumbprint: thumb, privateKey: creds.clientCertificate.privateKeyPem };
  }
  const config: Configuration = {
    auth,
    cache: opts.cachePlugin ? { cachePlugin: opts.cachePlugin } : undefined,
    // MSAL's own logging stays off: its messages can carry PII.
    system: { loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => {} } },
  };
  const policy = opts.endpointPolicy ?? defaultEndpointPolicy();
  if (host.protocol === 'https:') {
    auth.authority = `${host.origin}/${creds.tenantId}`;
    config.system = { ...config.system, networkClient: new GuardedNetworkClient({ policy }) };
  } else if (host.protocol === 'http:') {
    if (!opts.allowInsecureAuthority) throw new InsecureAuthorityError(host.origin);
    const seam = loopbackAuthority(host, creds.tenantId, policy);
    auth.authority = seam.authority;
    auth.knownAuthorities = seam.knownAuthorities;
    auth.authorityMetadata = seam.authorityMetadata;
    config.system = { ...config.system, networkClient: seam.networkClient };
  } else {
    throw new EwsError('InvalidSettings', `authorityHost must use https, not ${host.protocol}`, { code: 'invalid_configuration' });
  }
  return new ConfidentialClientApplication(config);
}
