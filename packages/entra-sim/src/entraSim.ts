import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AadError, aadErrorBody, aadErrors } from './aadError';
import { handleAdminConsent, handleAuthorize } from './authorizeEndpoint';
import { handleControlRequest } from './controlApi';
import { createPublicKey } from 'node:crypto';
import { DEFAULT_SEED, MAIL_DELEGATED_SCOPES } from './defaultSeed';
import { jwks, openIdConfiguration } from './discoveryDocuments';
import { readBody, sendJson } from './httpIo';
import { createSigningKey } from './signingKey';
import { SimState, type AddAppInput, type AddUserInput, type SimApp, type SimUser, type TokenRequestStats } from './simState';
import { handleTokenRequest } from './tokenEndpoint';
import { TokenIssuer } from './tokenIssuer';

export interface EntraSimOptions {
  /** 0 (default) picks an ephemeral port */
  port?: number;
  host?: string;
  /** lifetime of access and ID tokens; Entra ID's default is 60-90 minutes */
  tokenLifetimeSeconds?: number;
  /** seed DEFAULT_SEED's tenant, app and users (default true) */
  seed?: boolean;
}

export interface EntraSim {
  /** http://127.0.0.1:PORT, the authority host to configure */
  readonly url: string;
  /** the JWKS other services (the EWS simulator) verify tokens with */
  readonly jwksUrl: string;
  readonly state: SimState;
  /** token requests counted per grant type and client id; also under `tokenRequests` */
  readonly stats: TokenRequestStats & { tokenRequests: TokenRequestStats };
  addTenant(tenantId: string, domains?: string[]): void;
  addApp(input: AddAppInput): SimApp;
  addUser(input: AddUserInput): SimUser;
  revokeSecret(appId: string, secret: string): void;
  /** the secret stays registered but is past its end date (AADSTS7000222) */
  expireSecret(appId: string, secret: string): void;
  setConsent(appId: string, consented: boolean): void;
  setRoles(appId: string, roles: string[]): void;
  setAdminConsentAnswer(appId: string, answer: 'grant' | 'deny'): void;
  revokeRefreshTokens(email: string): void;
  /** Conditional Access requires MFA for the user: code and refresh-token redemptions answer AADSTS50076. */
  setMfaRequired(email: string, required: boolean): void;
  /** Withdraws (false) or gives the delegated consent of an app: token requests answer AADSTS65001. */
  setDelegatedConsent(appId: string, consented: boolean): void;
  /** The token-signing key other servers (Dovecot, the SMTP server) validate tokens with. */
  readonly signingKey: { kid: string; publicKeyPem: string };
  /**
   * Mints a delegated access token for a known user directly (no grant), for the simulators' own
   * plumbing, e.g. the mail simulator delivering a message into a mailbox over IMAP.
   */
  mintDelegatedToken(input: { email: string; resource: string; scp: string; lifetimeSeconds?: number }): Promise<string>;
  setTokenLifetime(seconds: number): void;
  /** the next `count` token requests fail with `status` (503 by default), as an outage would */
  failNextTokenRequests(count: number, status?: number, retryAfterSeconds?: number): void;
  /** issue tokens carrying this `tid` instead of the tenant's (undefined restores) */
  setTidOverride(tid: string | undefined): void;
  resetStats(): void;
  close(): Promise<void>;
}

export function seedDefaults(state: SimState): void {
  state.addTenant(DEFAULT_SEED.tenantId, [DEFAULT_SEED.tenantDomain]);
  state.addApp({
    tenantId: DEFAULT_SEED.tenantId,
    appId: DEFAULT_SEED.applicationId,
    displayName: 'exsync',
    secrets: [DEFAULT_SEED.clientSecret],
    // EWS's application permission and Microsoft Graph's (CONTRACT.md, "Simulators").
    roles: ['full_access_as_app', 'Calendars.ReadWrite', 'Contacts.ReadWrite'],
    consented: true,
    servicePrincipalId: DEFAULT_SEED.servicePrincipalId,
    delegatedScopes: [
      'https://outlook.office365.com/EWS.AccessAsUser.All',
      'https://graph.microsoft.com/Calendars.ReadWrite',
      'https://graph.microsoft.com/Contacts.ReadWrite',
    ],
  });
  state.addApp({
    tenantId: DEFAULT_SEED.tenantId,
    appId: DEFAULT_SEED.monitorApplicationId,
    displayName: 'mailbox monitor',
    secrets: [],
    roles: [],
    consented: true,
    publicClient: true,
    delegatedScopes: [...MAIL_DELEGATED_SCOPES],
  });
  for (const u of DEFAULT_SEED.users) {
    state.addUser({ tenantId: DEFAULT_SEED.tenantId, email: u.email, oid: u.oid, name: u.name, password: u.password });
  }
}

export async function startEntraSim(opts: EntraSimOptions = {}): Promise<EntraSim> {
  const host = opts.host ?? '127.0.0.1';
  const state = new SimState(opts.tokenLifetimeSeconds ?? 3900);
  if (opts.seed ?? true) seedDefaults(state);
  const key = await createSigningKey();
  let baseUrl = '';
  const issuer = new TokenIssuer(key, () => baseUrl);

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err) });
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const segments = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    if (segments[0] === '_sim') {
      await handleControlRequest(state, req, res, segments.slice(1), method);
      return;
    }
    const tenant = segments[0];
    const rest = segments.slice(1).join('/');
    if (!tenant) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (rest === 'oauth2/v2.0/token' && method === 'POST') {
      await tokenRoute(req, res, tenant);
      return;
    }
    if (rest === 'oauth2/v2.0/authorize' && (method === 'GET' || method === 'POST')) {
      const form = method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
      handleAuthorize({ state, baseUrl }, res, tenant, form, method === 'POST');
      return;
    }
    if ((rest === 'adminconsent' || rest === 'v2.0/adminconsent') && method === 'GET') {
      handleAdminConsent({ state, baseUrl }, res, tenant, url.searchParams, rest.startsWith('v2.0'));
      return;
    }
    if ((rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration') && method === 'GET') {
      const tenantId = isAlias(tenant) ? undefined : state.resolveTenant(tenant);
      if (!isAlias(tenant) && !tenantId) {
        const e = aadErrors.tenantNotFound(tenant);
        sendJson(res, e.spec.status, aadErrorBody(e));
        return;
      }
      sendJson(res, 200, openIdConfiguration(baseUrl, tenant, tenantId));
      return;
    }
    if ((rest === 'discovery/v2.0/keys' || rest === 'discovery/keys') && method === 'GET') {
      sendJson(res, 200, jwks(key), { 'cache-control': 'max-age=86400, private' });
      return;
    }
    if (rest === 'discovery/instance' && method === 'GET') {
      // MSAL's instance discovery; the simulator is its own single cloud.
      const host = new URL(baseUrl).host;
      sendJson(res, 200, {
        tenant_discovery_endpoint: `${baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
      return;
    }
    sendJson(res, 404, { error: 'not_found', error_description: `No route for ${method} ${url.pathname}` });
  }

  async function tokenRoute(req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const basic = basicClientCredentials(req.headers.authorization);
    if (basic) {
      // client_secret_basic (what requests-oauthlib sends by default); the body may repeat client_id.
      if (form.has('client_id') && form.get('client_id') !== basic.clientId) {
        const e = aadErrors.missingParameter('client_id');
        sendJson(res, e.spec.status, aadErrorBody(e));
        return;
      }
      form.set('client_id', basic.clientId);
      form.set('client_secret', basic.clientSecret);
    }
    const fault = state.faults.failTokenRequests;
    if (fault.remaining > 0) {
      fault.remaining -= 1;
      state.countTokenRequest(form.get('grant_type') ?? '(none)', form.get('client_id') ?? '(none)');
      const e =
        fault.status === 503
          ? aadErrors.serviceUnavailable()
          : new AadError({ status: fault.status, error: 'server_error', code: 90033, message: 'A transient error has occurred. Please try again.' });
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      sendJson(res, fault.status, aadErrorBody(e), headers);
      return;
    }
    try {
      sendJson(res, 200, await handleTokenRequest({ state, issuer }, tenant, form));
    } catch (err) {
      if (err instanceof AadError) {
        sendJson(res, err.spec.status, aadErrorBody(err));
        return;
      }
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  baseUrl = `http://${urlHost}:${addr.port}`;

  return {
    url: baseUrl,
    jwksUrl: `${baseUrl}/common/discovery/v2.0/keys`,
    state,
    get stats() {
      return { ...state.stats, tokenRequests: state.stats };
    },
    addTenant: (t, d) => state.addTenant(t, d),
    addApp: (i) => state.addApp(i),
    addUser: (i) => state.addUser(i),
    revokeSecret: (a, s) => state.revokeSecret(a, s),
    expireSecret: (a, s) => state.expireSecret(a, s),
    setConsent: (a, c) => state.setConsent(a, c),
    setRoles: (a, r) => state.setRoles(a, r),
    setAdminConsentAnswer: (a, x) => state.setAdminConsentAnswer(a, x),
    revokeRefreshTokens: (e) => state.revokeRefreshTokens(e),
    setMfaRequired: (e, r) => state.setMfaRequired(e, r),
    setDelegatedConsent: (a, c) => state.setDelegatedConsent(a, c),
    signingKey: {
      kid: key.kid,
      publicKeyPem: createPublicKey({ key: key.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    },
    mintDelegatedToken: async ({ email, resource, scp, lifetimeSeconds }) => {
      const user = state.findUser(email);
      if (!user) throw new Error(`entra-sim: no user ${email}`);
      const app = state.requireApp(DEFAULT_SEED.monitorApplicationId);
      return issuer.delegatedAccessToken({ app, user, tid: user.tenantId, resource, scp, viaCertificate: false, lifetimeSeconds: lifetimeSeconds ?? 600 });
    },
    setTokenLifetime: (s) => state.setTokenLifetime(s),
    failNextTokenRequests: (c, s, r) => state.failNextTokenRequests(c, s, r),
    setTidOverride: (t) => state.setTidOverride(t),
    resetStats: () => state.resetStats(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** RFC 6749 2.3.1: Basic base64(urlencode(client_id) ":" urlencode(client_secret)). */
function basicClientCredentials(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unescape = (v: string) => {
    try {
      return decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      return v;
    }
  };
  return { clientId: unescape(decoded.slice(0, colon)), clientSecret: unescape(decoded.slice(colon + 1)) };
}

function isAlias(segment: string): boolean {
  const s = segment.toLowerCase();
  return s === 'common' || s === 'organizations' || s === 'consumers';
}
