/**
 * The browser side of a monitored mailbox's grant: /oauth/monitor/start (from the authorization
 * link), /oauth/monitor/callback (exsync's redirect URI) and /oauth/monitor/paste (the address a
 * public client's native-client redirect landed on). Either way the code is redeemed with PKCE,
 * the ID token names who signed in, and only the mailbox's own account is bound.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyBaseLogger } from 'fastify';
import { getExchangeSettings, getMonitoredMailbox, getMonitorSettings, recordMonitorGrant } from '@exsync/db';
import {
  monitorAppFrom,
  monitorAuthorizeUrl,
  MonitorTokenError,
  NATIVE_CLIENT_REDIRECT_URI,
  redeemMonitorCode,
  type MonitorApp,
} from '@exsync/mailbox-monitor';
import { IdTokenRejectedError, verifyIdToken } from '../login/idTokenCheck';
import { readLoginTicket } from '../login/loginLink';
import { monitorPastePage } from '../login/monitorPastePage';
import { consumeOAuthState, deleteStaleOAuthStates, insertOAuthState } from '../login/oauthStateRepository';
import { createPkcePair, randomOpaque } from '../login/pkce';
import { microsoftErrorText, sendPage } from './microsoftLogin';

const htmlOnly = { 200: { type: 'string', description: 'HTML page' } };

export const monitorSignInRoutes: FastifyPluginAsync = async (app) => {
  const { pool, config, secretBox } = app.deps;
  // Read per request: a process that learns its public URL once it listens (npm run demo on a free
  // port) sets config.publicUrl after the routes are registered.
  const callbackUri = (): string => `${config.publicUrl}/oauth/monitor/callback`;
  const linkKeys = [config.encryptionKey.key, ...config.previousEncryptionKeys.map((k) => k.key)];
  await app.register(formbody, { bodyLimit: 16_384 });

  async function monitorApp(orgId: string): Promise<MonitorApp | null> {
    const s = await getMonitorSettings(pool, secretBox, orgId);
    if (!s) return null;
    return monitorAppFrom(s, s.authorityHost ? undefined : (await getExchangeSettings(pool, orgId))?.authorityHost);
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

  app.get<{ Querystring: { s?: string; r?: string } }>(
    '/oauth/monitor/start',
    {
      schema: {
        tags: ['mailbox-monitor'],
        security: [],
        summary: 'Opens a mailbox authorization link: redirects to Microsoft, or shows the paste-the-address page',
        querystring: { type: 'object', properties: { s: { type: 'string', maxLength: 2000 }, r: { type: 'string', enum: ['paste'] } } },
        response: { ...htmlOnly, 302: { type: 'null', description: 'Redirect to the Microsoft authorize endpoint' } },
      },
    },
    async (request, reply) => {
      const read = request.query.s ? readLoginTicket(linkKeys, request.query.s) : undefined;
      if (!read) return sendPage(reply, 'link-invalid');
      if (read.expired) return sendPage(reply, 'link-expired');
      const mailbox = await getMonitoredMailbox(pool, read.ticket.orgId, read.ticket.userId);
      if (!mailbox) return sendPage(reply, 'link-invalid');
      const appReg = await monitorApp(mailbox.orgId);
      if (!appReg) return sendPage(reply, 'not-configured');
      const paste = request.query.r === 'paste';
      const state = randomOpaque();
      const nonce = randomOpaque();
      const pkce = createPkcePair();
      await deleteStaleOAuthStates(pool);
      await insertOAuthState(
        pool,
        { state, orgId: mailbox.orgId, purpose: 'mailbox-monitor', codeVerifier: pkce.verifier, nonce, monitoredMailboxId: mailbox.id },
        app.deps.config.oauthStateLimits,
      );
      const url = monitorAuthorizeUrl(appReg, {
        redirectUri: paste ? NATIVE_CLIENT_REDIRECT_URI : callbackUri(),
        state,
        codeChallenge: pkce.challenge,
        nonce,
        loginHint: mailbox.email,
      });
      if (paste) return html(reply, 200, monitorPastePage({ email: mailbox.email, authorizeUrl: url, state }));
      return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(url, 302);
    },
  );

  async function finish(
    reply: FastifyReply,
    log: FastifyBaseLogger,
    params: { state?: string; code?: string; error?: string; error_description?: string },
    redirectUri: string,
  ): Promise<FastifyReply> {
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
    const appReg = mailbox ? await monitorApp(row.orgId) : null;
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
    let signedInAs: string;
    try {
      ({ signedInAs } = await verifyIdToken(tokens.idToken, {
        authorityHost: appReg.authorityHost,
        tenantId: appReg.tenantId,
        applicationId: appReg.clientId,
        nonce: row.nonce,
        endpointPolicy: app.deps.endpointPolicy,
      }));
    } catch (err) {
      const problem = err instanceof IdTokenRejectedError ? err.problem : 'invalid';
      log.warn({ problem }, 'mailbox monitor sign-in: ID token rejected');
      return sendPage(reply, problem === 'wrong-tenant' ? 'wrong-tenant' : 'code-rejected');
    }
    if (signedInAs.toLowerCase() !== mailbox.email.toLowerCase()) {
      return sendPage(reply, 'other-account', { signedInAs, email: mailbox.email });
    }
    await recordMonitorGrant(pool, secretBox, mailbox, { signedInAs, refreshToken: tokens.refreshToken });
    log.info({ mailboxId: mailbox.id }, 'mailbox monitor sign-in: mailbox bound');
    return sendPage(reply, 'monitor-connected', { email: signedInAs });
  }

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/oauth/monitor/callback',
    {
      schema: {
        tags: ['mailbox-monitor'],
        security: [],
        summary: "Microsoft's redirect after a mailbox's sign-in (answers a page in plain words)",
        querystring: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 } },
        response: htmlOnly,
      },
    },
    (request, reply) => finish(reply, request.log, request.query, callbackUri()),
  );

  app.post<{ Body: { state?: string; address?: string } }>(
    '/oauth/monitor/paste',
    {
      schema: {
        tags: ['mailbox-monitor'],
        security: [],
        summary: "The address a public client's native-client redirect landed on (form post from the paste page)",
        body: {
          type: 'object',
          properties: { state: { type: 'string', maxLength: 200 }, address: { type: 'string', maxLength: 8192 } },
          required: ['state', 'address'],
        },
        response: htmlOnly,
      },
    },
    async (request, reply) => {
      let landed: URL;
      try {
        landed = new URL((request.body.address ?? '').trim());
      } catch {
        return sendPage(reply, 'code-rejected');
      }
      const q = landed.searchParams;
      // The address must carry the state this page was opened with: a pasted address from another sign-in is refused.
      if (q.get('state') !== request.body.state) return sendPage(reply, 'state-unknown');
      const redirectUri = `${landed.origin}${landed.pathname}`;
      return finish(
        reply,
        request.log,
        {
          state: q.get('state') ?? undefined,
          code: q.get('code') ?? undefined,
          error: q.get('error') ?? undefined,
          error_description: q.get('error_description') ?? undefined,
        },
        redirectUri,
      );
    },
  );
};
