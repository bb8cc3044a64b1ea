import { createCipheriv, createDecipheriv } from 'node:crypto';

/** AES-256-GCM as the api's secret box does it (iv | tag | ciphertext, base64), for the cache tests. */
export function sealingWith(key: Buffer): { seal(plaintext: string): string; open(sealed: string): string } {
  return {
    seal(plaintext) {
      const iv = Buffer.from(crypto.getRandomValues(new Uint8Array(12)));
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      const raw = Buffer.from(sealed, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    },
  };
}
