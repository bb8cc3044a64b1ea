import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBoxError, createSecretBox } from '../../packages/db/src/secretBox';

const ORG_A = '11111111-1111-4111-8111-111111111111';
const ORG_B = '22222222-2222-4222-8222-222222222222';

describe('secretBox', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };

  it('round-trips and never stores the plaintext', () => {
    const box = createSecretBox(k1);
    const sealed = box.seal('client-secret-value', ORG_A);
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext.includes(Buffer.from('client-secret-value'))).toBe(false);
    expect(box.open(sealed.ciphertext, ORG_A)).toBe('client-secret-value');
    // A fresh IV each time.
    expect(box.seal('client-secret-value', ORG_A).ciphertext.equals(sealed.ciphertext)).toBe(false);
  });

  it('fails to open for another organisation or after tampering', () => {
    const box = createSecretBox(k1);
    const { ciphertext } = box.seal('s', ORG_A);
    expect(() => box.open(ciphertext, ORG_B)).toThrow(SecretBoxError);
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 1] ^= 1;
    expect(() => box.open(tampered, ORG_A)).toThrow(SecretBoxError);
    expect(() => box.open(ciphertext.subarray(0, 10), ORG_A)).toThrow(SecretBoxError);
  });

  it('opens data sealed with a previous key after rotation, and seals with the new one', () => {
    const before = createSecretBox(k1).seal('old', ORG_A).ciphertext;
    const rotated = createSecretBox(k2, [k1]);
    expect(rotated.open(before, ORG_A)).toBe('old');
    expect(rotated.seal('new', ORG_A).keyId).toBe('k2');
    expect(() => createSecretBox(k2).open(before, ORG_A)).toThrow(/k1, which is not configured/);
  });
});
