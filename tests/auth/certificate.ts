import { createHash, generateKeyPairSync } from 'node:crypto';

/**
 * An RSA key pair with the thumbprints Azure shows for an uploaded certificate. The simulator needs
 * only the public key and the thumbprint; the DER hashed here stands in for the certificate's DER
 * (node:crypto cannot self-sign), which is all a thumbprint identifies.
 */
export function makeCertificate(): { privateKeyPem: string; publicKeyPem: string; sha1Thumbprint: string; sha256Thumbprint: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sha1Thumbprint: createHash('sha1').update(der).digest('hex'),
    sha256Thumbprint: createHash('sha256').update(der).digest('hex'),
  };
}
