/**
 * The browser side of a monitored mailbox's grant (routes/oauth/monitor): /oauth/monitor/start
 * (from the authorization link), /oauth/monitor/callback (exsync's redirect URI) and
 * /oauth/monitor/paste (the address a public client's native-client redirect landed on). Either
 * way the code is redeemed with PKCE, the ID token names who signed in, and only the mailbox's own
 * account is bound.
 */
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import {
  getExchangeSettings,
  getMonitoredMailbox,
  getMonitorSettings,
  recordMonitorGrant,
  consumeOAuthState,
  deleteStaleOAuthStates,
  insertOAuthState,
} from '@exsync/db';
import {
  monitorAppFrom,
  monitorAuthorizeUrl,
  MonitorTokenError,
  NATIVE_CLIENT_REDIRECT_URI,
  redeemMonitorCode,
  type MonitorApp,
} from '@exsync/mailbox-monitor';
import type { ResolvedDeps } from '../app';
import { signedInAccount } from './idTokenCheck';
import { readLoginTicket } from './loginLink';
import { monitorPastePage } from './monitorPastePage';
import { createPkcePair, randomOpaque } from './pkce';
import { microsoftErrorText, sendPage } from './signInPage';

/** exsync's redirect URI for monitored mailboxes, read per request (the demo learns its public URL once it listens). */
export const callbackUri = (deps: ResolvedDeps): string => `${deps.config.publicUrl}/oauth/monitor/callback`;

async function monitorApp(deps: ResolvedDeps, orgId: string): Promise<MonitorApp | null> {
  const s = await getMonitorSettings(deps.pool, deps.secretBox, orgId);
  if (!s) return null;
  return monitorAppFrom(s, s.authorityHost ? undefined : (await getExchangeSettings(deps.pool, orgId))?.authorityHost);
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .send(body);
}

/** GET /oauth/monitor/start?s=<link>[&r=paste]: redirects to Microsoft, or shows the paste-the-address page. */
export async function openMonitorLink(deps: ResolvedDeps, query: { s?: string; r?: string }, reply: FastifyReply): Promise<FastifyReply> {
  const { pool } = deps;
  const linkKeys = [deps.config.encryptionKey.key, ...deps.config.previousEncryptionKeys.map((k) => k.key)];
  const read = query.s ? readLoginTicket(linkKeys, query.s) : undefined;
  if (!read) return sendPage(reply, 'link-invalid');
  if (read.expired) return sendPage(reply, 'link-expired');
  const mailbox = await getMonitoredMailbox(pool, read.ticket.orgId, read.ticket.userId);
  if (!mailbox) return sendPage(reply, 'link-invalid');
  const appReg = await monitorApp(deps, mailbox.orgId);
  if (!appReg) return sendPage(reply, 'not-configured');
  const paste = query.r === 'paste';
  const state = randomOpaque();
  const nonce = randomOpaque();
  const pkce = createPkcePair();
  await deleteStaleOAuthStates(pool);
  await insertOAuthState(
    pool,
    { state, orgId: mailbox.orgId, purpose: 'mailbox-monitor', codeVerifier: pkce.verifier, nonce, monitoredMailboxId: mailbox.id },
    deps.config.oauthStateLimits,
  );
  const url = monitorAuthorizeUrl(appReg, {
    redirectUri: paste ? NATIVE_CLIENT_REDIRECT_URI : callbackUri(deps),
    state,
    codeChallenge: pkce.challenge,
    nonce,
    loginHint: mailbox.email,
  });
  if (paste) return html(reply, 200, monitorPastePage({ email: mailbox.email, authorizeUrl: url, state }));
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(url, 302);
}

/** Redeems Microsoft's answer (a callback's query, or the pasted address's) and binds the mailbox to the account that signed in. */
export async function finish(
  deps: ResolvedDeps,
  reply: FastifyReply,
  log: FastifyBaseLogger,
  params: { state?: string; code?: string; error?: string; error_description?: string },
  redirectUri: string,
): Promise<FastifyReply> {
  const { pool, secretBox } = deps;
  if (!params.state) return sendPage(reply, 'state-unknown');
  const consumed = await consumeOAuthState(pool, params.state, 'mailbox-monitor');
  if (consumed.status === 'unknown') return sendPage(reply, 'state-unknown');
  if (consumed.status === 'expired') return sendPage(reply, 'state-expired');
  if (consumed.status === 'used') return sendPage(reply, 'state-replayed');
  const row = consumed.row;
  if (params.error) {
    const text = microsoftErrorText(params.error, params.error_description);
    log.info({ error: params.error }, 'mailbox monitor sign-in: Microsoft returned an error');
    if (/AADSTS5007[69]\b/.test(text)) return sendPage(reply, 'mfa-required');
    if (/AADSTS65001\b/.test(text)) return sendPage(reply, 'consent-missing', { error: text });
    if (params.error === 'access_denied') return sendPage(reply, 'cancelled');
    return sendPage(reply, 'microsoft-error', { error: text });
  }
  if (!params.code || !row.monitoredMailboxId || !row.codeVerifier || !row.nonce) return sendPage(reply, 'code-rejected');
  const mailbox = await getMonitoredMailbox(pool, row.orgId, row.monitoredMailboxId);
  const appReg = mailbox ? await monitorApp(deps, row.orgId) : null;
  if (!mailbox || !appReg) return sendPage(reply, 'not-configured');

  let tokens;
  try {
    tokens = await redeemMonitorCode(appReg, { code: params.code, redirectUri, codeVerifier: row.codeVerifier });
  } catch (err) {
    const problem = err instanceof MonitorTokenError ? err.problem : 'rejected';
    log.warn({ problem, code: err instanceof MonitorTokenError ? err.code : undefined }, 'mailbox monitor sign-in: code redemption failed');
    if (problem === 'mfa-required') return sendPage(reply, 'mfa-required');
    if (problem === 'consent-missing') return sendPage(reply, 'consent-missing', { error: (err as Error).message });
    return sendPage(reply, 'code-rejected');
  }
  if (!tokens.idToken) return sendPage(reply, 'code-rejected');
  const account = await signedInAccount(
    tokens.idToken,
    { authorityHost: appReg.authorityHost, tenantId: appReg.tenantId, applicationId: appReg.clientId, nonce: row.nonce, endpointPolicy: deps.endpointPolicy },
    log,
    'mailbox monitor sign-in',
  );
  if ('rejected' in account) return sendPage(reply, account.rejected);
  const { signedInAs } = account;
  if (signedInAs.toLowerCase() !== mailbox.email.toLowerCase()) {
    return sendPage(reply, 'other-account', { signedInAs, email: mailbox.email });
  }
  await recordMonitorGrant(pool, secretBox, mailbox, { signedInAs, refreshToken: tokens.refreshToken });
  log.info({ mailboxId: mailbox.id }, 'mailbox monitor sign-in: mailbox bound');
  return sendPage(reply, 'monitor-connected', { email: signedInAs });
}

/** POST /oauth/monitor/paste: the address the browser landed on, which must carry this page's state. */
export async function finishPastedSignIn(
  deps: ResolvedDeps,
  log: FastifyBaseLogger,
  body: { state?: string; address?: string },
  reply: FastifyReply,
): Promise<FastifyReply> {
  let landed: URL;
  try {
    landed = new URL((body.address ?? '').trim());
  } catch {
    return sendPage(reply, 'code-rejected');
  }
  const q = landed.searchParams;
  // The address must carry the state this page was opened with: a pasted address from another sign-in is refused.
  if (q.get('state') !== body.state) return sendPage(reply, 'state-unknown');
  const redirectUri = `${landed.origin}${landed.pathname}`;
  return finish(
    deps,
    reply,
    log,
    {
      state: q.get('state') ?? undefined,
      code: q.get('code') ?? undefined,
      error: q.get('error') ?? undefined,
      error_description: q.get('error_description') ?? undefined,
    },
    redirectUri,
  );
}
