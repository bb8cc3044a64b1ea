import { createHash } from 'node:crypto';
import { EwsError } from '../errors';

/** What exsync stores per organisation to obtain app-only tokens for its Exchange tenant. */
export interface OrgCredentials {
  /** e.g. https://login.microsoftonline.com (no path) */
  authorityHost: string;
  tenantId: string;
  applicationId: string;
  clientSecret?: string;
  clientCertificate?: { privateKeyPem: string; thumbprint: string };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Rejects settings no token request could succeed with, before MSAL sees them. */
export function validateOrgCredentials(creds: OrgCredentials): void {
  const bad = (msg: string) => new EwsError('InvalidSettings', msg, { code: 'invalid_configuration' });
  if (!GUID.test(creds.tenantId)) throw bad('tenantId must be the directory (tenant) id, a GUID');
  if (!GUID.test(creds.applicationId)) throw bad('applicationId must be the application (client) id, a GUID');
  const hasSecret = typeof creds.clientSecret === 'string' && creds.clientSecret.length > 0;
  const cert = creds.clientCertificate;
  if (hasSecret === (cert !== undefined)) throw bad('exactly one of clientSecret or clientCertificate is required');
  if (cert && !/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(cert.thumbprint.replace(/:/g, ''))) {
    throw bad('clientCertificate.thumbprint must be the SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint');
  }
  if (cert && !cert.privateKeyPem.includes('PRIVATE KEY')) throw bad('clientCertificate.privateKeyPem must be a PEM private key');
}

/** Removes trailing slashes; the authority host carries no path. */
export function normaliseAuthorityHost(host: string): URL {
  let url: URL;
  try {
    url = new URL(host.trim());
  } catch {
    throw new EwsError('InvalidSettings', `authorityHost '${host}' is not a URL`, { code: 'invalid_configuration' });
  }
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash) {
    throw new EwsError('InvalidSettings', `authorityHost '${host}' must be a bare origin such as https://login.microsoftonline.com`, {
      code: 'invalid_configuration',
    });
  }
  return new URL(url.origin);
}

/**
 * Identifies one confidential client: the same app with a rotated secret is a different client, so a
 * cache never serves tokens obtained with a credential the org has since replaced. The credential
 * itself never appears in the key, only a hash of it.
 */
export function credentialKey(creds: OrgCredentials): string {
  const credential = creds.clientSecret ?? `cert:${creds.clientCertificate?.thumbprint.toLowerCase() ?? ''}`;
  const fingerprint = createHash('sha256').update(credential).digest('base64url').slice(0, 22);
  return [normaliseAuthorityHost(creds.authorityHost).origin, creds.tenantId.toLowerCase(), creds.applicationId.toLowerCase(), fingerprint].join('|');
}
