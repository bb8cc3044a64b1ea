import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readLoginTicket, signLoginTicket } from '../../services/api/src/login/loginLink';
import { createPkcePair, randomOpaque, s256 } from '../../services/api/src/login/pkce';
import { resultPage } from '../../services/api/src/login/resultPage';

const key = Buffer.alloc(32, 7);
const oldKey = Buffer.alloc(32, 9);
const ticket = { orgId: 'org-1', userId: 'user-1', expiresAt: 2_000_000_000 };

describe('sign-in link tickets', () => {
  it('round-trip, and are refused when tampered with or signed by an unknown key', () => {
    const raw = signLoginTicket(key, ticket);
    expect(readLoginTicket([key], raw, 1_900_000_000)).toEqual({ ticket, expired: false });
    const [body, mac] = raw.split('.');
    const other = Buffer.from(JSON.stringify({ o: 'org-2', u: 'user-1', e: ticket.expiresAt })).toString('base64url');
    expect(readLoginTicket([key], `${other}.${mac}`)).toBeUndefined();
    expect(readLoginTicket([key], `${body}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`)).toBeUndefined();
    expect(readLoginTicket([key], `${body}.${mac}.extra`)).toBeUndefined();
    expect(readLoginTicket([key], 'garbage')).toBeUndefined();
    expect(readLoginTicket([Buffer.alloc(32, 8)], raw)).toBeUndefined();
  });

  it('say when they expired', () => {
    const raw = signLoginTicket(key, ticket);
    expect(readLoginTicket([key], raw, ticket.expiresAt)).toEqual({ ticket, expired: true });
  });

  it('keep working after a key rotation while the old key is configured', () => {
    const raw = signLoginTicket(oldKey, ticket);
    expect(readLoginTicket([key, oldKey], raw, 1)).toEqual({ ticket, expired: false });
    expect(readLoginTicket([key], raw, 1)).toBeUndefined();
  });
});

describe('PKCE', () => {
  it('makes a 43-character verifier and its S256 challenge (RFC 7636 appendix B vector)', () => {
    const { verifier, challenge } = createPkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(randomOpaque()).not.toBe(randomOpaque());
  });
});

describe('result pages', () => {
  it('escape what comes from tokens and the CRM', () => {
    const page = resultPage('other-account', { signedInAs: '<script>alert(1)</script>@x', email: 'a"b@example.com' });
    expect(page.status).toBe(400);
    expect(page.html).not.toContain('<script>alert');
    expect(page.html).toContain('&lt;script&gt;');
    expect(page.html).toContain('a&quot;b@example.com');
  });

  it('answer 200 only for success', () => {
    expect(resultPage('signed-in', { email: 'a@b.c', enabled: 'yes' }).status).toBe(200);
    expect(resultPage('consent-granted').status).toBe(200);
    expect(resultPage('cancelled').status).toBe(400);
    expect(resultPage('signed-in', { email: 'a@b.c', enabled: 'no' }).html).toContain('as soon as your administrator switches it on');
  });
});
