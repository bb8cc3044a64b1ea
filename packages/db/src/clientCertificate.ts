import { X509Certificate, createPrivateKey } from 'node:crypto';

/** What MSAL's `clientCertificate` option needs, parsed from one PEM bundle. */
export interface ClientCertificate {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form MSAL accepts. */
  privateKey: string;
  /** The certificate PEM, sent as x5c so Entra ID can do subject-name/issuer auth. */
  certificate: string;
  /** Hex SHA-256 thumbprint of the DER certificate. */
  thumbprintSha256: string;
}

export class ClientCertificateError extends Error {}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_BLOCK = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** Parses a PEM bundle holding one certificate and its unencrypted private key; checks they match. */
export function parseClientCertificate(pem: string): ClientCertificate {
  const certPem = pem.match(CERT_BLOCK)?.[0];
  const keyPem = pem.match(KEY_BLOCK)?.[0];
  if (!certPem || !keyPem) {
    throw new ClientCertificateError('must be a PEM bundle with a CERTIFICATE block and its PRIVATE KEY block');
  }
  let cert: X509Certificate;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    cert = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch {
    throw new ClientCertificateError('holds a certificate or private key that does not parse (encrypted keys are not supported)');
  }
  if (!cert.checkPrivateKey(key)) throw new ClientCertificateError('private key does not belong to the certificate');
  return {
    privateKey: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    certificate: certPem,
    thumbprintSha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}
