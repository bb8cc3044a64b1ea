/**
 * The simulators for tests that drive a client against them without the rest of exsync:
 * `startSimHarness` (Entra and EWS simulators over real HTTP, tokens from the real MSAL or the
 * authorization code flow), `startEwsHarness` (the EWS simulator alone with one mailbox and a plain
 * ews-javascript-api service), `startTestIssuer` (tokens the Entra simulator will not mint), and the
 * client-credentials token and ews-javascript-api service every such test needs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XhrApi } from '@ewsjs/xhr';
import { openGraphMailbox, type GraphMailbox, type GraphMailboxOptions } from '@exsync/graph-client';
import { ConnectingIdType, ExchangeService, ExchangeVersion, ImpersonatedUserId, OAuthCredentials, TimeZoneInfo, Uri } from 'ews-javascript-api';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { AppTokenProvider } from '../../packages/ews-client/src/auth/appTokenProvider';
import type { createMsalClient } from '../../packages/ews-client/src/auth/createMsalClient';
import { EWS_DELEGATED_SCOPES, GRAPH_APP_SCOPE } from '../../packages/ews-client/src/auth/scopes';
import type { OrgCredentials } from '../../packages/ews-client/src/auth/orgCredentials';
import { openMailbox, type EwsMailbox, type OpenMailboxOptions } from '../../packages/ews-client/src/mailboxSession';

/**
 * Both simulators over real HTTP, with tokens from the real MSAL (app-only, through the token
 * provider) or from the Entra simulator's authorization code flow (delegated).
 */
export interface SimHarness {
  entra: EntraSim;
  sim: EwsSim;
  creds: OrgCredentials;
  tenantId: string;
  /** a fresh provider per call: tests that change roles must not see a cached token */
  appTokenGetter(creds?: OrgCredentials): () => Promise<string>;
  /** the user signs in at once through login_hint (the simulator's shortcut for known users) */
  delegatedToken(email: string): Promise<string>;
  appOnly(email: string, extra?: Partial<OpenMailboxOptions>): EwsMailbox;
  close(): Promise<void>;
}

export const ALICE = DEFAULT_SEED.users[0];
export const BOB = DEFAULT_SEED.users[1];
export const CAROL = DEFAULT_SEED.users[2];

export async function startSimHarness(): Promise<SimHarness> {
  const entra = await startEntraSim();
  const sim = await startEwsSim({ jwksUrl: entra.jwksUrl });
  const tenantId = DEFAULT_SEED.tenantId;
  for (const u of DEFAULT_SEED.users) sim.store.createMailbox({ email: u.email, tenantId, displayName: u.name });
  const creds: OrgCredentials = {
    authorityHost: entra.url,
    tenantId,
    applicationId: DEFAULT_SEED.applicationId,
    clientSecret: DEFAULT_SEED.clientSecret,
  };
  const shared = new AppTokenProvider({ allowInsecureAuthority: true });
  const harness: SimHarness = {
    entra,
    sim,
    creds,
    tenantId,
    appTokenGetter(c) {
      if (!c) return () => shared.getToken(creds);
      const provider = new AppTokenProvider({ allowInsecureAuthority: true });
      return () => provider.getToken(c);
    },
    async delegatedToken(email) {
      const verifier = randomBytes(32).toString('base64url');
      const redirectUri = 'http://127.0.0.1:9/callback';
      const authorize = new URL(`${entra.url}/${tenantId}/oauth2/v2.0/authorize`);
      authorize.search = new URLSearchParams({
        client_id: DEFAULT_SEED.applicationId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'https://outlook.office365.com/EWS.AccessAsUser.All openid profile offline_access',
        state: 's',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        login_hint: email,
        response_mode: 'query',
      }).toString();
      const res = await fetch(authorize, { redirect: 'manual' });
      const code = new URL(res.headers.get('location') ?? '').searchParams.get('code');
      if (!code) throw new Error(`authorize gave no code (HTTP ${res.status})`);
      const tokenRes = await fetch(`${entra.url}/${tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: DEFAULT_SEED.applicationId,
          client_secret: DEFAULT_SEED.clientSecret,
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        }).toString(),
      });
      const body = (await tokenRes.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`token endpoint gave no access token (HTTP ${tokenRes.status})`);
      return body.access_token;
    },
    appOnly(email, extra = {}) {
      return openMailbox({ ewsUrl: sim.ewsUrl, smtpAddress: email, mode: 'app-only', getAccessToken: harness.appTokenGetter(), timeoutMs: 10_000, ...extra });
    },
    async close() {
      await sim.close();
      await entra.close();
    },
  };
  return harness;
}

/** Every page of a folder sync from `state`, collected. */
export async function collectPages(mailbox: EwsMailbox, folder: 'calendar' | 'contacts', state?: string) {
  const pages = [];
  for await (const page of mailbox.syncFolder(folder, state)) pages.push(page);
  return pages;
}

/** A plain ews-javascript-api service, the way exsync configures one, pointed at the simulator. */
export function ewsService(ewsUrl: string, token: string, impersonate?: string): ExchangeService {
  const service = new ExchangeService(ExchangeVersion.Exchange2016, TimeZoneInfo.Utc);
  service.Url = new Uri(ewsUrl);
  service.Credentials = new OAuthCredentials(token);
  service.XHRApi = new XhrApi({ timeout: 10_000, proxy: false } as never);
  if (impersonate) {
    service.ImpersonatedUserId = new ImpersonatedUserId(ConnectingIdType.SmtpAddress, impersonate);
    service.HttpHeaders.Add('X-AnchorMailbox', impersonate);
  }
  return service;
}

/**
 * A client-credentials token from the Entra simulator for `resource` (the EWS resource
 * `https://outlook.office365.com` unless told otherwise; `https://graph.microsoft.com` for Graph).
 */
export async function clientCredentialsToken(
  entraUrl: string,
  tenantId: string,
  clientId: string,
  clientSecret: string,
  resource = 'https://outlook.office365.com',
): Promise<string> {
  const res = await fetch(`${entraUrl}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: `${resource}/.default` }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error_description}`);
  return body.access_token;
}

/** Client-credentials token from the Entra simulator for EWS. */
export const entraAppToken = (entraUrl: string, tenantId: string, clientId: string, clientSecret: string): Promise<string> =>
  clientCredentialsToken(entraUrl, tenantId, clientId, clientSecret);

export const TEST_TENANT = '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11';
export const TEST_APP = '3f2d4b6a-8c1e-4f7a-9b2d-5e6c7a8b9d01';

/**
 * A stand-in token issuer for EWS simulator tests that need token shapes the Entra simulator will
 * not mint (wrong audience, missing roles, foreign signing key). Tokens follow Microsoft's v1 claims.
 */
export interface TestIssuer {
  jwksUrl: string;
  sign(claims: JWTPayload, opts?: { expiresInSeconds?: number; foreignKey?: boolean }): Promise<string>;
  appToken(over?: JWTPayload): Promise<string>;
  userToken(upn: string, over?: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/common/discovery/v2.0/keys') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const sign = async (claims: JWTPayload, opts: { expiresInSeconds?: number; foreignKey?: boolean } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iat: now - 60, nbf: now - 60, exp: now + (opts.expiresInSeconds ?? 3600), ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'test-key' })
      .sign(opts.foreignKey ? foreign.privateKey : privateKey);
  };
  const base = (tid: string): JWTPayload => ({
    aud: 'https://outlook.office365.com',
    iss: `https://sts.windows.net/${tid}/`,
    tid,
    appid: TEST_APP,
    appidacr: '1',
    ver: '1.0',
  });
  return {
    jwksUrl: `http://127.0.0.1:${port}/common/discovery/v2.0/keys`,
    sign,
    appToken: (over = {}) => sign({ ...base(String(over.tid ?? TEST_TENANT)), roles: ['full_access_as_app'], ...over }),
    userToken: (upn, over = {}) => sign({ ...base(String(over.tid ?? TEST_TENANT)), scp: 'EWS.AccessAsUser.All', upn, unique_name: upn, ...over }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * The EWS simulator with one mailbox, and a real ews-javascript-api service pointed at it over
 * HTTP (app-only token from a test issuer, impersonation + anchor header, UTC service zone).
 */
export const MAILBOX = 'mapper.test@contoso.example';

export interface EwsHarness {
  sim: EwsSim;
  service: ExchangeService;
  close(): Promise<void>;
}

export async function startEwsHarness(): Promise<EwsHarness> {
  const issuer: TestIssuer = await startTestIssuer();
  const sim = await startEwsSim({ jwksUrl: issuer.jwksUrl });
  sim.store.createMailbox({ email: MAILBOX, tenantId: TEST_TENANT });
  const token = await issuer.appToken();
  const service = ewsService(sim.ewsUrl, token, MAILBOX);
  return {
    sim,
    service,
    close: async () => {
      await sim.close();
      await issuer.close();
    },
  };
}

/**
 * The user sign-in URL for delegated EWS access through MSAL's getAuthCodeUrl (PKCE S256, response
 * in the query; scopes default to EWS.AccessAsUser.All + offline_access): how the auth tests start a
 * sign-in against the Entra simulator. The API builds its own (services/api/src/routes/microsoftLogin.ts).
 */
export function buildAuthorizeUrl(
  client: ReturnType<typeof createMsalClient>,
  input: { redirectUri: string; state: string; codeChallenge: string; nonce?: string; loginHint?: string; scopes?: string[] },
): Promise<string> {
  return client.getAuthCodeUrl({
    redirectUri: input.redirectUri,
    scopes: input.scopes ?? EWS_DELEGATED_SCOPES,
    state: input.state,
    nonce: input.nonce,
    loginHint: input.loginHint,
    codeChallenge: input.codeChallenge,
    codeChallengeMethod: 'S256',
    responseMode: 'query',
  });
}

/** One Graph token cache for the test process, as a worker keeps one (MSAL client credentials, Graph's `.default` scope). */
const graphTokens = new AppTokenProvider({ allowInsecureAuthority: true, scope: GRAPH_APP_SCOPE });

/** A Graph port for `email` at `graphUrl`, app-only, with tokens from MSAL against the Entra simulator of `creds`. */
export function openGraphAppOnly(graphUrl: string, creds: OrgCredentials, email: string, extra: Partial<GraphMailboxOptions> = {}): GraphMailbox {
  return openGraphMailbox({ graphUrl, smtpAddress: email, mode: 'app-only', getAccessToken: (o) => graphTokens.getToken(creds, o), ...extra });
}

/**
 * The simulators' control API (`/_sim/...`) at the base URL `baseUrl()` gives when called:
 * a JSON body in, the parsed JSON answer out (undefined when the answer is empty).
 */
export function simControl(baseUrl: () => string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  };
}
