import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAUTH_STATE_TTL_SECONDS } from '@exsync/db';

/**
 * Binds a sign-in to the browser that started it: /oauth/start sets a random value in an HttpOnly
 * cookie and sends its hash as the OIDC nonce, so a callback arriving in another browser (a
 * forwarded or planted response) fails, and the ID token's nonce proves which sign-in it answers.
 */
export const BINDING_COOKIE = 'exsync_signin';

export function setBindingCookie(reply: FastifyReply, value: string, secure: boolean): void {
  reply.header('set-cookie', `${BINDING_COOKIE}=${value}; Path=/oauth; Max-Age=${OAUTH_STATE_TTL_SECONDS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
}

export function clearBindingCookie(reply: FastifyReply, secure: boolean): void {
  reply.header('set-cookie', `${BINDING_COOKIE}=; Path=/oauth; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
}

export function readBindingCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === BINDING_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}
