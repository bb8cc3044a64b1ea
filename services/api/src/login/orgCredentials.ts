import type { ExchangeCredentials } from '@exsync/db';
import type { OrgCredentials } from '@exsync/ews-client';

/** The stored settings in the shape the ews-client token code takes. */
export function toOrgCredentials(creds: ExchangeCredentials): OrgCredentials {
  return {
    authorityHost: creds.authorityHost,
    tenantId: creds.tenantId,
    applicationId: creds.applicationId,
    clientSecret: creds.clientSecret ?? undefined,
    clientCertificate: creds.clientCertificate
      ? { privateKeyPem: creds.clientCertificate.privateKey, thumbprint: creds.clientCertificate.thumbprintSha256 }
      : undefined,
  };
}
