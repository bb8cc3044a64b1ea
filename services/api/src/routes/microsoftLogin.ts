import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply } from 'fastify';
import { getExchangeSettings, getUser, loadCredentials, recordConsent, recordUserSignIn, type ExchangeCredentials } from '@exsync/db';
import { adminMessage, isSyncError } from '@exsync/canonical';
import { createMsalClient, errorFromAadsts, redeemAuthCode, type RedeemedAuthCode } from '@exsync/ews-client';
import { requestSyncSoon } from '../requestSyncSoon';
import type pg from 'pg';
import { assertOrgAccess } from '../auth';
import { HttpError, notFound } from '../httpError';
import { clearBindingCookie, readBindingCookie, setBindingCookie } from '../login/browserBinding';
import { IdTokenRejectedError, verifyIdToken } from '../login/idTokenCheck';
import { LOGIN_LINK_TTL_SECONDS, readLoginTicket, signLoginTicket } from '../login/loginLink';
import { consumeOAuthState, deleteStaleOAuthStates, insertOAuthState, peekOAuthState } from '../login/oauthStateRepository';
import { allowedAuthority } from '../login/allowedAuthority';
import { verifyAppConsent } from '../login/consentCheck';
import { DELEGATED_SCOPES } from '../login/transportPermissions';
import { stopOrganisation, toOrgCredentials } from '@exsync/db';
import { createPkcePair, randomOpaque, s256 } from '../login/pkce';
import { resultPage, type SignInOutcome } from '../login/resultPage';
import { errorResponses, isoDateTime, noQuery, userParams } from '../schemas';

/**
 * Identity scopes in every mode; delegated mode adds the organisation's transport as the user (EWS
 * or Microsoft Graph's calendar and contacts). offline_access is asked in both because msal-node
 * always requests it at the token endpoint; app-only mode discards the refresh token it brings.
 */
const IDENTITY_SCOPES = ['openid', 'profile', 'email'];

function signInScopes(creds: Pick<ExchangeCredentials, 'authMode' | 'transport'>): string[] {
  return creds.authMode === 'delegated' ? [...IDENTITY_SCOPES, ...DELEGATED_SCOPES[creds.transport]] : [...IDENTITY_SCOPES, 'offline_access'];
}

export function sendPage(reply: FastifyReply, outcome: SignInOutcome, details?: Record<string, string>): FastifyReply {
  const page = resultPage(outcome, details);
  return reply
    .code(page.status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .send(page.html);
}

/** Microsoft's error_description starts with "AADSTSnnn: sentence" and then trace ids; keep the sentence. */
export function microsoftErrorText(error: string, description: string | undefined): string {
  const first = (description ?? '').split(/\r?\n| Trace ID:/)[0].trim();
  return first ? first : error;
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

const signInLinkResponse = {
  type: 'object',
  properties: {
    url: { type: 'string', description: 'The one-time sign-in link to send to the user' },
    expiresAt: isoDateTime,
  },
  required: ['url', 'expiresAt'],
} as const;

/** POST .../microsoft-login: the link an admin copies for one user (bearer auth, under /v1). */
export const microsoftLoginLinkRoutes: FastifyPluginAsync = async (app) => {
  const { pool, config } = app.deps;

  app.post<{ Params: { orgId: string; userId: string } }>(
    '/v1/orgs/:orgId/users/:userId/microsoft-login',
    {
      schema: {
        tags: ['users'],
        summary: "The user's one-time Microsoft sign-in link",
        description:
          'Returns a link to send to the user. Opening it starts a Microsoft sign-in (authorization code with PKCE, ' +
          "a single-use state valid for 10 minutes) for the user's email; the signed-in mailbox must be that address. " +
          'The link itself stays valid for 7 days and can be opened again if a sign-in fails.',
        params: userParams,
        querystring: noQuery,
        response: { 200: signInLinkResponse, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId, userId } = request.params;
      assertOrgAccess(request, orgId);
      const user = await getUser(pool, orgId, userId);
      if (!user) throw notFound('user not found');
      if (!(await getExchangeSettings(pool, orgId))) {
        throw new HttpError(409, 'no Exchange settings for this organisation yet: PUT /v1/orgs/:orgId/exchange first');
      }
      const expiresAt = Math.floor(Date.now() / 1000) + LOGIN_LINK_TTL_SECONDS;
      const ticket = signLoginTicket(config.encryptionKey.key, { orgId, userId, expiresAt });
      reply.header('cache-control', 'no-store');
      return { url: `${config.publicUrl}/oauth/start?s=${ticket}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
    },
  );
};

/** The browser-facing redirects: /oauth/start, /oauth/callback, /oauth/admin-consent/callback (no bearer auth). */
export const microsoftLoginRedirectRoutes: FastifyPluginAsync = async (app) => {
  const { pool, config, secretBox } = app.deps;
  const policy = app.deps.endpointPolicy;
  const stateLimits = config.oauthStateLimits;
  // Read per request: a process that learns its public URL once it listens (npm run demo on a free
  // port) sets config.publicUrl after the routes are registered.
  const redirectUri = (): string => `${config.publicUrl}/oauth/callback`;
  const secureCookie = (): boolean => config.publicUrl.startsWith('https:');
  const linkKeys = [config.encryptionKey.key, ...config.previousEncryptionKeys.map((k) => k.key)];
  const htmlOnly = { 200: { type: 'string', description: 'HTML page' } };

  app.get<{ Querystring: { s?: string } }>(
    '/oauth/start',
    {
      schema: {
        tags: ['sign-in'],
        security: [],
        summary: 'Opens a user sign-in link: redirects to Microsoft',
        querystring: { type: 'object', properties: { s: { type: 'string', maxLength: 2000 } } },
        response: { ...htmlOnly, 302: { type: 'null', description: 'Redirect to the Microsoft authorize endpoint' } },
      },
    },
    async (request, reply) => {
      const read = request.query.s ? readLoginTicket(linkKeys, request.query.s) : undefined;
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
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/oauth/callback',
    {
      schema: {
        tags: ['sign-in'],
        security: [],
        summary: "Microsoft's redirect after a user's sign-in (answers a page in plain words)",
        querystring: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 } },
        response: htmlOnly,
      },
    },
    async (request, reply) => {
      const { state, code, error } = request.query;
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
        const aadsts = /AADSTS(\d{1,9})/.exec(request.query.error_description ?? '')?.[1];
        const settings = aadsts ? await getExchangeSettings(pool, row.orgId) : null;
        const known = aadsts && settings ? errorFromAadsts(Number(aadsts), 'authorize error', settings.authMode) : undefined;
        if (known?.scope === 'organisation') {
          const failed = await organisationProblem(known, pool, row.orgId);
          return sendPage(reply, failed.outcome, failed.details);
        }
        return sendPage(reply, 'microsoft-error', { error: microsoftErrorText(error, request.query.error_description) });
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

      let signedInAs: string;
      try {
        ({ signedInAs } = await verifyIdToken(redeemed.idToken, {
          authorityHost: creds.authorityHost,
          tenantId: creds.tenantId,
          applicationId: creds.applicationId,
          nonce: row.nonce,
          endpointPolicy: policy,
        }));
      } catch (err) {
        const problem = err instanceof IdTokenRejectedError ? err.problem : 'invalid';
        request.log.warn({ problem }, 'microsoft sign-in: ID token rejected');
        return sendPage(reply, problem === 'wrong-tenant' ? 'wrong-tenant' : 'code-rejected');
      }
      if (signedInAs.toLowerCase() !== user.email.toLowerCase()) {
        request.log.info({ userId: user.id }, 'microsoft sign-in: another account than the CRM user signed in');
        return sendPage(reply, 'other-account', { signedInAs, email: user.email });
      }

      // App-only mode never keeps the user's refresh token: the app's own token reaches the mailbox.
      const sealed = creds.authMode === 'delegated' ? secretBox.seal(redeemed.refreshToken, row.orgId) : undefined;
      const mailbox = await recordUserSignIn(pool, user.mailboxId, {
        smtpAddress: signedInAs,
        refreshTokenEnc: sealed?.ciphertext,
        refreshKeyId: sealed?.keyId,
      });
      request.log.info({ userId: user.id, mailboxId: user.mailboxId, state: mailbox?.status.state }, 'microsoft sign-in: mailbox bound');
      // Delegated: a user's successful sign-in (the tenant let them consent to EWS as themselves) is the proof of consent.
      if (creds.authMode === 'delegated') await recordConsent(pool, row.orgId, { state: 'granted' });
      if (mailbox?.status.state === 'scheduled') await requestSyncSoon(app.deps.enqueueSync, request.log, mailbox.id, 'user signed in');
      return sendPage(reply, 'signed-in', { email: signedInAs, enabled: mailbox?.status.enabled ? 'yes' : 'no' });
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/oauth/admin-consent/callback',
    {
      schema: {
        tags: ['exchange'],
        security: [],
        summary: "Microsoft's redirect after the tenant admin's consent (records granted or denied)",
        querystring: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 } },
        response: htmlOnly,
      },
    },
    async (request, reply) => {
      const { state, error, admin_consent: adminConsent, tenant } = request.query;
      if (!state) return sendPage(reply, 'state-unknown');
      const consumed = await consumeOAuthState(pool, state, 'admin-consent');
      if (consumed.status === 'unknown') return sendPage(reply, 'state-unknown');
      if (consumed.status === 'expired') return sendPage(reply, 'state-expired');
      if (consumed.status === 'used') return sendPage(reply, 'state-replayed');
      const orgId = consumed.row.orgId;
      // Microsoft's error redirect still says admin_consent=True: an error always means not granted.
      if (error) {
        const text = microsoftErrorText(error, request.query.error_description);
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
    },
  );
};
