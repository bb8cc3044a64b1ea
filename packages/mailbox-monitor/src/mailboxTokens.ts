import type pg from 'pg';
import { readMonitorRefreshToken, rotateMonitorRefreshToken, type SecretBox } from '@exsync/db';
import { MonitorTokenError, refreshMonitorToken, type MonitorApp } from './oauthClient';

/** Refresh a cached access token this long before it expires (ms). */
const EXPIRY_MARGIN_MS = 120_000;

/**
 * One monitored mailbox's access tokens: refreshed from the sealed refresh token, the rotated
 * refresh token stored back at once (before the access token is used), cached until near expiry.
 * Errors are MonitorTokenError; 'grant-revoked', 'mfa-required' and 'consent-missing' need a person.
 */
export class MailboxTokens {
  private cached: { token: string; expiresAt: number } | undefined;
  /** the grant the current refresh token belongs to (a newer sign-in replaces it) */
  grantAt: string | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly box: SecretBox,
    private readonly mailbox: { orgId: string; id: string },
    private readonly app: MonitorApp,
  ) {}

  /** A usable access token; `fresh` forces a refresh (after the server refused the cached one). */
  async accessToken(fresh = false): Promise<string> {
    if (!fresh && this.cached && this.cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return this.cached.token;
    const stored = await readMonitorRefreshToken(this.pool, this.box, this.mailbox);
    if (!stored) throw new MonitorTokenError('grant-revoked', 'no grant is stored for this mailbox');
    this.grantAt = stored.grantAt;
    const tokens = await refreshMonitorToken(this.app, stored.refreshToken);
    await rotateMonitorRefreshToken(this.pool, this.box, this.mailbox, stored.grantAt, tokens.refreshToken);
    this.cached = { token: tokens.accessToken, expiresAt: tokens.expiresAt };
    return tokens.accessToken;
  }

  /** Forgets the cached access token (the server dropped the session or refused it). */
  invalidate(): void {
    this.cached = undefined;
  }
}
