import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, importSPKI, importX509, jwtVerify, errors as joseErrors } from 'jose';
import { aadErrors } from './aadError';
import type { SimApp } from './simState';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Checks the confidential client's credential: a client secret, or a client assertion (RS256 JWT
 * signed with a registered certificate's key, named by `x5t` or `x5t#S256`). Returns how the client
 * proved itself, which decides `appidacr`.
 */
export async function authenticateClient(app: SimApp, form: URLSearchParams, tenantSegment: string): Promise<{ viaCertificate: boolean }> {
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null) {
    if (app.expiredSecrets.includes(secret)) throw aadErrors.expiredSecret(app.appId);
    if (!app.secrets.includes(secret)) throw aadErrors.invalidSecret(app.appId);
    return { viaCertificate: false };
  }
  if (assertion !== null) {
    if (form.get('client_assertion_type') !== JWT_BEARER) throw aadErrors.missingParameter('client_assertion_type');
    await verifyAssertion(app, assertion, tenantSegment);
    return { viaCertificate: true };
  }
  if (app.publicClient) return { viaCertificate: false };
  throw aadErrors.missingClientCredential();
}

async function verifyAssertion(app: SimApp, assertion: string, tenantSegment: string): Promise<void> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw aadErrors.assertionInvalid('the assertion is not a JWT');
  }
  const sha1 = typeof header.x5t === 'string' ? b64urlToHex(header.x5t) : undefined;
  const sha256 = typeof header['x5t#S256'] === 'string' ? b64urlToHex(header['x5t#S256'] as string) : undefined;
  const cert = app.certificates.find(
    (c) => (sha1 !== undefined && c.thumbprint.toLowerCase() === sha1) || (sha256 !== undefined && c.thumbprintSha256?.toLowerCase() === sha256),
  );
  if (!cert) throw aadErrors.assertionKeyNotFound((sha1 ?? sha256 ?? '').toUpperCase());
  // Entra tolerates five minutes of clock skew on assertions. MSAL signs with PS256 since msal-node 2; other clients use RS256. Entra accepts both.
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') throw aadErrors.assertionInvalid(`unsupported alg '${alg ?? ''}'`);
  const key = cert.publicKeyPem.includes('BEGIN CERTIFICATE') ? await importX509(cert.publicKeyPem, alg) : await importSPKI(toSpkiPem(cert.publicKeyPem), alg);
  try {
    const { payload } = await jwtVerify(assertion, key, { algorithms: [alg], clockTolerance: 300 });
    if (payload.iss !== app.appId || payload.sub !== app.appId) throw aadErrors.assertionInvalid('iss and sub must be the client id');
    const aud = typeof payload.aud === 'string' ? payload.aud : payload.aud?.[0];
    // The audience is the token endpoint the client was configured with; the scheme and host differ
    // behind the loopback seam, so only the tenant path is compared.
    if (!aud || !aud.toLowerCase().endsWith(`/${tenantSegment.toLowerCase()}/oauth2/v2.0/token`)) {
      throw aadErrors.assertionInvalid(`unexpected audience '${aud ?? ''}'`);
    }
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw aadErrors.assertionExpired();
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw aadErrors.assertionBadSignature();
    if (e instanceof joseErrors.JOSEError) throw aadErrors.assertionInvalid(e.message);
    throw e;
  }
}

function b64urlToHex(v: string): string {
  return Buffer.from(v, 'base64url').toString('hex').toLowerCase();
}

/** Accepts a PKCS#1 ("BEGIN RSA PUBLIC KEY") or SPKI PEM and returns SPKI. */
function toSpkiPem(pem: string): string {
  if (pem.includes('BEGIN PUBLIC KEY')) return pem;
  return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
}
