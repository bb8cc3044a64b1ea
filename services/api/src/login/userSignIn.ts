/**
 * A user's Microsoft sign-in, browser side (routes/oauth): opening the one-time link
 * (/oauth/start: PKCE, a single-use state, a browser-binding cookie, then Microsoft's authorize
 * endpoint), Microsoft's redirect back (/oauth/callback: the code redeemed, the ID token checked,
 * the mailbox bound) and the tenant admin's consent redirect (/oauth/admin-consent/callback).
 * Every outcome is a page in plain words (resultPage.ts); codes and tokens never reach the log.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { adminMessage, isSyncError } from '@exsync/canonical';
import {
  MailboxAddressTakenError,
  findMailboxBoundTo,
  getExchangeSettings,
  getUser,
  loadCredentials,
  recordConsent,
  recordUserSignIn,
  stopOrganisation,
  toOrgCredentials,
  type ExchangeCredentials,
  consumeOAuthState,
  deleteStaleOAuthStates,
  insertOAuthState,
  peekOAuthState,
} from '@exsync/db';
import { createMsalClient, errorFromAadsts, redeemAuthCode, type RedeemedAuthCode } from '@exsync/ews-client';
import type { ResolvedDeps } from '../app';
import { requestSyncSoon } from '../requestSyncSoon';
import { allowedAuthority } from './allowedAuthority';
import { clearBindingCookie, readBindingCookie, setBindingCookie } from './browserBinding';
import { verifyAppConsent } from './consentCheck';
import { signedInAccount } from './idTokenCheck';
import { readLoginTicket } from './loginLink';
import { createPkcePair, randomOpaque, s256 } from './pkce';
import { microsoftErrorText, sendPage, type SignInOutcome } from './signInPage';
import { DELEGATED_SCOPES } from './transportPermissions';

/**
 * Identity scopes in every mode; delegated mode adds the organisation's transport as the user (EWS
 * or Microsoft Graph's calendar and contacts). offline_access is asked in both because msal-node
 * always requests it at the token endpoint; app-only mode discards the refresh token it brings.
 */
const IDENTITY_SCOPES = ['openid', 'profile', 'email'];

function signInScopes(creds: Pick<ExchangeCredentials, 'authMode' | 'transport'>): string[] {
  return creds.authMode === 'delegated' ? [...IDENTITY_SCOPES, ...DELEGATED_SCOPES[creds.transport]] : [...IDENTITY_SCOPES, 'offline_access'];
}

/**
 * Which failure page a failed code redemption earns; the code and tokens never reach the log. An
 * organisation-wide cause (an expired client secret, consent missing) is named with its fix from
 * the catalogue and recorded on the organisation at once, so the admin sees it in the status even
 * while a cached token still lets the sync run.
 */
async function redemptionOutcome(
  err: unknown,
  log: FastifyBaseLogger,
  pool: pg.Pool,
  orgId: string,
): Promise<{ outcome: SignInOutcome; details?: Record<string, string> }> {
  const code = isSyncError(err) ? err.code : undefined;
  log.warn({ kind: isSyncError(err) ? err.kind : 'unknown', errorCode: code }, 'microsoft sign-in: code redemption failed');
  if (code === 'tenant_mismatch') return { outcome: 'wrong-tenant' };
  if (isSyncError(err) && err.scope === 'organisation') return organisationProblem(err, pool, orgId);
  return { outcome: 'code-rejected' };
}

/** Records an organisation-wide cause on the organisation and names its cause and fix on the page. */
async function organisationProblem(err: unknown, pool: pg.Pool, orgId: string): Promise<{ outcome: SignInOutcome; details: Record<string, string> }> {
  const m = adminMessage(err);
  await stopOrganisation(pool, orgId, { code: m.code, message: m.message });
  return { outcome: 'organisation-problem', details: { cause: m.cause, fix: m.fix, code: m.code } };
}

/** What the three pages need from the deployment; the public URL is read per request (the demo learns it once it listens). */
function context(deps: ResolvedDeps) {
  const { pool, config, secretBox, endpointPolicy: policy } = deps;
  return {
    pool,
    config,
    secretBox,
    policy,
    stateLimits: config.oauthStateLimits,
    redirectUri: (): string => `${config.publicUrl}/oauth/callback`,
    secureCookie: (): boolean => config.publicUrl.startsWith('https:'),
    linkKeys: [config.encryptionKey.key, ...config.previousEncryptionKeys.map((k) => k.key)],
  };
}

type Query = Record<string, string | undefined>;

/** GET /oauth/start?s=<link>: redirects to Microsoft's authorize endpoint, or a page saying why not. */
export async function openSignInLink(deps: ResolvedDeps, request: FastifyRequest, query: { s?: string }, reply: FastifyReply): Promise<FastifyReply> {
  const { pool, policy, stateLimits, redirectUri, secureCookie, linkKeys } = context(deps);
  const read = query.s ? readLoginTicket(linkKeys, query.s) : undefined;
  if (!read) return sendPage(reply, 'link-invalid');
  if (read.expired) return sendPage(reply, 'link-expired');
  const { orgId, userId } = read.ticket;
  const user = await getUser(pool, orgId, userId);
  if (!user) return sendPage(reply, 'link-invalid');
  const settings = await getExchangeSettings(pool, orgId);
  if (!settings) return sendPage(reply, 'not-configured');
  // Only to an authority the operator allows: never a redirect from exsync's domain to any host.
  const authority = allowedAuthority(policy, settings.authorityHost);
  if (!authority) {
    request.log.warn({ orgId }, 'sign-in refused: the stored authority host is not allowed');
    return sendPage(reply, 'not-configured');
  }

  const state = randomOpaque();
  const binding = randomOpaque();
  const nonce = s256(binding);
  const pkce = createPkcePair();
  await deleteStaleOAuthStates(pool);
  await insertOAuthState(pool, { state, orgId, userId, purpose: 'user-login', codeVerifier: pkce.verifier, nonce }, stateLimits);

  // Built by hand rather than with MSAL's getAuthCodeUrl: the browser must reach the configured
  // authority host as is (MSAL only knows an https alias of a local simulator).
  const authorize = new URL(`${authority}/${settings.tenantId}/oauth2/v2.0/authorize`);
  const q = authorize.searchParams;
  q.set('client_id', settings.applicationId);
  q.set('response_type', 'code');
  q.set('redirect_uri', redirectUri());
  q.set('response_mode', 'query');
  q.set('scope', signInScopes(settings).join(' '));
  q.set('state', state);
  q.set('nonce', nonce);
  q.set('code_challenge', pkce.challenge);
  q.set('code_challenge_method', 'S256');
  q.set('login_hint', user.email);
  q.set('client_info', '1');
  setBindingCookie(reply, binding, secureCookie());
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(authorize.toString(), 302);
}

/**
 * GET /oauth/callback: Microsoft's redirect after the user's sign-in; binds the mailbox to the
 * account that signed in, unless another user's mailbox of the organisation is bound to that
 * address (page mailbox-taken, nothing bound).
 */
export async function finishSignIn(deps: ResolvedDeps, request: FastifyRequest, query: Query, reply: FastifyReply): Promise<FastifyReply> {
  const { pool, config, secretBox, policy, redirectUri, secureCookie } = context(deps);
  const { state, code, error } = query;
  if (!state) return sendPage(reply, 'state-unknown');
  // The browser binding is checked before the state is used up: a response opened in another
  // browser (forwarded, planted or just copied) must not spend the real user's sign-in.
  const peeked = await peekOAuthState(pool, state, 'user-login');
  if (peeked) {
    const binding = readBindingCookie(request);
    if (!binding || s256(binding) !== peeked.nonce) return sendPage(reply, 'other-browser');
  }
  const consumed = await consumeOAuthState(pool, state, 'user-login');
  if (consumed.status === 'unknown') return sendPage(reply, 'state-unknown');
  if (consumed.status === 'expired') return sendPage(reply, 'state-expired');
  if (consumed.status === 'used') return sendPage(reply, 'state-replayed');
  clearBindingCookie(reply, secureCookie());
  const row = consumed.row;

  if (error) {
    request.log.info({ error }, 'microsoft sign-in: Microsoft returned an error');
    if (error === 'access_denied') return sendPage(reply, 'cancelled');
    // An organisation-wide cause named by its AADSTS code (consent, app, secret) gets the catalogue's cause and fix.
    const aadsts = /AADSTS(\d{1,9})/.exec(query.error_description ?? '')?.[1];
    const settings = aadsts ? await getExchangeSettings(pool, row.orgId) : null;
    const known = aadsts && settings ? errorFromAadsts(Number(aadsts), 'authorize error', settings.authMode) : undefined;
    if (known?.scope === 'organisation') {
      const failed = await organisationProblem(known, pool, row.orgId);
      return sendPage(reply, failed.outcome, failed.details);
    }
    return sendPage(reply, 'microsoft-error', { error: microsoftErrorText(error, query.error_description) });
  }
  if (!code || !row.userId || !row.codeVerifier || !row.nonce) return sendPage(reply, 'code-rejected');

  const user = await getUser(pool, row.orgId, row.userId);
  let creds: ExchangeCredentials | null;
  try {
    creds = await loadCredentials(pool, secretBox, row.orgId);
  } catch {
    creds = null;
  }
  if (!user || !creds) return sendPage(reply, 'not-configured');

  let redeemed: RedeemedAuthCode;
  try {
    const client = createMsalClient(toOrgCredentials(creds), { allowInsecureAuthority: config.allowInsecureAuthority, endpointPolicy: policy });
    redeemed = await redeemAuthCode(client, {
      code,
      redirectUri: redirectUri(),
      codeVerifier: row.codeVerifier,
      tenantId: creds.tenantId,
      nonce: row.nonce,
      scopes: signInScopes(creds),
    });
  } catch (err) {
    const failed = await redemptionOutcome(err, request.log, pool, row.orgId);
    return sendPage(reply, failed.outcome, failed.details);
  }

  const account = await signedInAccount(
    redeemed.idToken,
    { authorityHost: creds.authorityHost, tenantId: creds.tenantId, applicationId: creds.applicationId, nonce: row.nonce, endpointPolicy: policy },
    request.log,
    'microsoft sign-in',
  );
  if ('rejected' in account) return sendPage(reply, account.rejected);
  const { signedInAs } = account;
  if (signedInAs.toLowerCase() !== user.email.toLowerCase()) {
    request.log.info({ userId: user.id }, 'microsoft sign-in: another account than the CRM user signed in');
    return sendPage(reply, 'other-account', { signedInAs, email: user.email });
  }

  // App-only mode never keeps the user's refresh token: the app's own token reaches the mailbox.
  const sealed = creds.authMode === 'delegated' ? secretBox.seal(redeemed.refreshToken, row.orgId) : undefined;
  let mailbox;
  try {
    mailbox = await recordUserSignIn(pool, user.mailboxId, {
      smtpAddress: signedInAs,
      refreshTokenEnc: sealed?.ciphertext,
      refreshKeyId: sealed?.keyId,
    });
  } catch (err) {
    if (!(err instanceof MailboxAddressTakenError)) throw err;
    // Two users syncing one mailbox would copy each one's CRM items into the other's CRM: the
    // binding stays with the mailbox that has it, and the admin decides (README, "Admin API in brief").
    const holder = await findMailboxBoundTo(pool, row.orgId, signedInAs, user.mailboxId);
    request.log.warn(
      { orgId: row.orgId, userId: user.id, mailboxId: user.mailboxId, boundToUserId: holder?.userId, boundToCrmUserId: holder?.crmUserId },
      'microsoft sign-in refused: the address is already bound to another user of the organisation',
    );
    return sendPage(reply, 'mailbox-taken', { email: signedInAs });
  }
  request.log.info({ userId: user.id, mailboxId: user.mailboxId, state: mailbox?.status.state }, 'microsoft sign-in: mailbox bound');
  // Delegated: a user's successful sign-in (the tenant let them consent to EWS as themselves) is the proof of consent.
  if (creds.authMode === 'delegated') await recordConsent(pool, row.orgId, { state: 'granted' });
  if (mailbox?.status.state === 'scheduled') await requestSyncSoon(deps.enqueueSync, request.log, mailbox.id, 'user signed in');
  return sendPage(reply, 'signed-in', { email: signedInAs, enabled: mailbox?.status.enabled ? 'yes' : 'no' });
}

/** GET /oauth/admin-consent/callback: records the tenant admin's consent once a token proves it (app-only) or a user signs in (delegated). */
export async function finishAdminConsent(deps: ResolvedDeps, request: FastifyRequest, query: Query, reply: FastifyReply): Promise<FastifyReply> {
  const { pool, config, secretBox, policy } = context(deps);
  const { state, error, admin_consent: adminConsent, tenant } = query;
  if (!state) return sendPage(reply, 'state-unknown');
  const consumed = await consumeOAuthState(pool, state, 'admin-consent');
  if (consumed.status === 'unknown') return sendPage(reply, 'state-unknown');
  if (consumed.status === 'expired') return sendPage(reply, 'state-expired');
  if (consumed.status === 'used') return sendPage(reply, 'state-replayed');
  const orgId = consumed.row.orgId;
  // Microsoft's error redirect still says admin_consent=True: an error always means not granted.
  if (error) {
    const text = microsoftErrorText(error, query.error_description);
    await recordConsent(pool, orgId, { state: 'denied', error: text });
    request.log.info({ orgId, error }, 'admin consent denied');
    return sendPage(reply, 'consent-denied', { error: text });
  }
  const settings = await getExchangeSettings(pool, orgId);
  if (!settings) return sendPage(reply, 'not-configured');
  if (adminConsent?.toLowerCase() !== 'true') {
    await recordConsent(pool, orgId, { state: 'denied', error: 'Microsoft did not report a consent' });
    return sendPage(reply, 'consent-denied', { error: 'Microsoft did not report a consent' });
  }
  if (!tenant || tenant.toLowerCase() !== settings.tenantId.toLowerCase()) {
    request.log.warn({ orgId }, 'admin consent given in another tenant');
    return sendPage(reply, 'consent-wrong-tenant');
  }
  // The redirect alone proves nothing (anyone holding the link can forge it): app-only consent is
  // recorded once a client-credentials token for this tenant carries the role; delegated consent
  // once a user's sign-in succeeds.
  if (settings.authMode === 'delegated') {
    request.log.info({ orgId }, 'admin consent reported; recorded at the first successful user sign-in');
    return sendPage(reply, 'consent-pending');
  }
  let creds: ExchangeCredentials | null = null;
  try {
    creds = await loadCredentials(pool, secretBox, orgId);
  } catch {
    creds = null;
  }
  if (!creds) return sendPage(reply, 'not-configured');
  const verified = await verifyAppConsent(creds, { allowInsecureAuthority: config.allowInsecureAuthority, endpointPolicy: policy });
  if (!verified.ok) {
    request.log.info({ orgId, reason: verified.reason }, 'admin consent reported but not confirmed by a token');
    return sendPage(reply, 'consent-pending');
  }
  await recordConsent(pool, orgId, { state: 'granted' });
  request.log.info({ orgId }, 'admin consent granted');
  return sendPage(reply, 'consent-granted');
}
