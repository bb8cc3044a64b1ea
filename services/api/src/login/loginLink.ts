import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The sign-in link an admin copies for a user: `/oauth/start?s=<ticket>`. The ticket is an
 * HMAC-signed {org, user, expiry}, so it needs no storage and can live longer than the 10-minute
 * OAuth state, which is only minted when the user actually opens the link.
 */
export interface LoginTicket {
  orgId: string;
  userId: string;
  /** unix seconds */
  expiresAt: number;
}

export const LOGIN_LINK_TTL_SECONDS = 7 * 24 * 3600;

function macKey(secret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'exsync microsoft-login link v1', 32));
}

export function signLoginTicket(secret: Buffer, ticket: LoginTicket): string {
  const body = Buffer.from(JSON.stringify({ o: ticket.orgId, u: ticket.userId, e: ticket.expiresAt })).toString('base64url');
  const mac = createHmac('sha256', macKey(secret)).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/** undefined when forged or malformed; `expired: true` when genuine but too old. */
export function readLoginTicket(
  secrets: Buffer[],
  raw: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): { ticket: LoginTicket; expired: boolean } | undefined {
  const [body, mac, extra] = raw.split('.');
  if (!body || !mac || extra !== undefined) return undefined;
  const given = Buffer.from(mac, 'base64url');
  const genuine = secrets.some((s) => {
    const want = createHmac('sha256', macKey(s)).update(body).digest();
    return want.length === given.length && timingSafeEqual(want, given);
  });
  if (!genuine) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const p = parsed as { o?: unknown; u?: unknown; e?: unknown };
  if (typeof p.o !== 'string' || typeof p.u !== 'string' || typeof p.e !== 'number') return undefined;
  const ticket = { orgId: p.o, userId: p.u, expiresAt: p.e };
  return { ticket, expired: ticket.expiresAt <= nowSeconds };
}

/**
 * A one-time link to `${publicUrl}${path}?s=<ticket>` (plus `extraQuery`, e.g. `&r=paste`) for
 * `subjectId` (a user, or a monitored mailbox) of `orgId`, valid LOGIN_LINK_TTL_SECONDS from now.
 */
export function oneTimeLink(
  config: { publicUrl: string; encryptionKey: { key: Buffer } },
  path: string,
  orgId: string,
  subjectId: string,
  extraQuery = '',
): { url: string; expiresAt: string } {
  const expiresAt = Math.floor(Date.now() / 1000) + LOGIN_LINK_TTL_SECONDS;
  const ticket = signLoginTicket(config.encryptionKey.key, { orgId, userId: subjectId, expiresAt });
  return { url: `${config.publicUrl}${path}?s=${ticket}${extraQuery}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
}
