import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretKey {
  id: string;
  key: Buffer;
}

export interface SealedSecret {
  /** Self-describing: version, key id, IV, auth tag and ciphertext. */
  ciphertext: Buffer;
  keyId: string;
}

export interface SecretBox {
  /** Seals with the current key; `orgId` is bound as associated data. */
  seal(plaintext: string, orgId: string): SealedSecret;
  /** Opens with whichever configured key sealed it; throws SecretBoxError on any mismatch. */
  open(ciphertext: Buffer, orgId: string): string;
  readonly currentKeyId: string;
}

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with the organisation id as associated data, so a ciphertext copied to another
 * organisation's row fails to open. The key id travels inside the ciphertext, so several keys can
 * be configured during a rotation and old rows keep opening until re-sealed.
 */
export function createSecretBox(current: SecretKey, previous: SecretKey[] = []): SecretBox {
  const keys = new Map<string, Buffer>();
  for (const k of [current, ...previous]) {
    if (k.key.length !== 32) throw new SecretBoxError(`encryption key ${k.id} is not 32 bytes`);
    if (keys.has(k.id)) throw new SecretBoxError(`encryption key id ${k.id} is configured twice`);
    keys.set(k.id, k.key);
  }
  return {
    currentKeyId: current.id,
    seal(plaintext, orgId) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(orgId, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const keyId = Buffer.from(current.id, 'utf8');
      const ciphertext = Buffer.concat([Buffer.from([FORMAT_VERSION, keyId.length]), keyId, iv, cipher.getAuthTag(), body]);
      return { ciphertext, keyId: current.id };
    },
    open(ciphertext, orgId) {
      if (ciphertext.length < 2 || ciphertext[0] !== FORMAT_VERSION) throw new SecretBoxError('unknown ciphertext format');
      const idEnd = 2 + ciphertext[1];
      const keyId = ciphertext.subarray(2, idEnd).toString('utf8');
      const key = keys.get(keyId);
      if (!key) throw new SecretBoxError(`ciphertext sealed with key ${keyId}, which is not configured`);
      const iv = ciphertext.subarray(idEnd, idEnd + IV_BYTES);
      const tag = ciphertext.subarray(idEnd + IV_BYTES, idEnd + IV_BYTES + TAG_BYTES);
      if (tag.length !== TAG_BYTES) throw new SecretBoxError('ciphertext is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(orgId, 'utf8'));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(ciphertext.subarray(idEnd + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('ciphertext does not open for this organisation (wrong key or moved row)');
      }
    },
  };
}

/** The box described by a loaded Config (EXSYNC_ENCRYPTION_KEY, _ID and the previous keys). */
export function secretBoxFromConfig(config: { encryptionKey: SecretKey; previousEncryptionKeys: SecretKey[] }): SecretBox {
  return createSecretBox(config.encryptionKey, config.previousEncryptionKeys);
}
