import { createHash, randomBytes } from 'node:crypto';

export interface PkcePair {
  /** kept server-side only; sent to the token endpoint with the code */
  verifier: string;
  /** sent in the authorize URL with code_challenge_method=S256 */
  challenge: string;
}

/** RFC 7636: a 43-character verifier from 32 random bytes, and its S256 challenge. */
export function createPkcePair(): PkcePair {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

/** base64url(SHA-256(value)), the S256 transform; also how the nonce is derived from the browser cookie. */
export function s256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** An unguessable opaque value (state, browser binding). */
export function randomOpaque(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
