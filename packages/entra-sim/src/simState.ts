import { randomUUID } from 'node:crypto';

export interface SimCertificate {
  /** SHA-1 thumbprint, hex (what the Azure portal shows); `x5t` carries it base64url-encoded */
  thumbprint: string;
  /** SHA-256 thumbprint, hex; MSAL sends it as `x5t#S256` when given thumbprintSha256 */
  thumbprintSha256?: string;
  publicKeyPem: string;
}

export interface SimApp {
  tenantId: string;
  appId: string;
  displayName: string;
  secrets: string[];
  /** registered secrets past their end date */
  expiredSecrets: string[];
  certificates: SimCertificate[];
  /** application permissions granted by admin consent, e.g. full_access_as_app */
  roles: string[];
  consented: boolean;
  /** delegated scopes the app may be granted for users, as full scope strings */
  delegatedScopes: string[];
  /** exact redirect URIs; empty accepts any (the sim is usually reached by tests on ephemeral ports) */
  redirectUris: string[];
  /** oid of the app's service principal in its tenant */
  servicePrincipalId: string;
  /** what the admin answers on /adminconsent */
  adminConsentAnswer: 'grant' | 'deny';
  /** a public client (mobile and desktop platform): token requests carry no client credential */
  publicClient: boolean;
  /** users (or an admin) consented to the delegated scopes; false answers AADSTS65001 at the token endpoint */
  delegatedConsent: boolean;
}

export interface SimUser {
  tenantId: string;
  email: string;
  oid: string;
  name: string;
  password?: string;
  /** the user cancels the sign-in / consent prompt */
  cancels: boolean;
  /** refresh tokens issued before this instant are revoked (Entra's TokensValidFrom) */
  tokensValidFrom: number;
  /** Conditional Access requires MFA: the token endpoint answers AADSTS50076 for this user */
  mfaRequired: boolean;
}

export interface AuthCodeGrant {
  code: string;
  clientId: string;
  tenantId: string;
  userOid: string;
  redirectUri: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  clientId: string;
  tenantId: string;
  userOid: string;
  scopes: string[];
  issuedAt: number;
}

export interface TokenRequestStats {
  total: number;
  byGrantType: Record<string, number>;
  byClientId: Record<string, number>;
}

export interface SimFaults {
  /** the next N token requests fail with this HTTP status (503 by default) */
  failTokenRequests: { remaining: number; status: number; retryAfterSeconds?: number };
  /** issue tokens whose `tid` is this value instead of the tenant's (to test the client's tid check) */
  tidOverride?: string;
}

export interface AddAppInput {
  tenantId: string;
  appId: string;
  displayName?: string;
  secrets: string[];
  certificates?: SimCertificate[];
  roles: string[];
  consented: boolean;
  delegatedScopes?: string[];
  redirectUris?: string[];
  servicePrincipalId?: string;
  adminConsentAnswer?: 'grant' | 'deny';
  publicClient?: boolean;
  delegatedConsent?: boolean;
}

export interface AddUserInput {
  tenantId: string;
  email: string;
  oid?: string;
  name?: string;
  password?: string;
  cancels?: boolean;
}

/** Everything the simulator knows: directory objects, outstanding grants, counters and faults. */
export class SimState {
  readonly tenants = new Map<string, { tenantId: string; domains: string[] }>();
  readonly apps = new Map<string, SimApp>();
  /** keyed by lower-cased email */
  readonly users = new Map<string, SimUser>();
  readonly codes = new Map<string, AuthCodeGrant>();
  readonly refreshTokens = new Map<string, RefreshGrant>();
  tokenLifetimeSeconds: number;
  faults: SimFaults = { failTokenRequests: { remaining: 0, status: 503 } };
  stats: TokenRequestStats = emptyStats();

  constructor(tokenLifetimeSeconds: number) {
    this.tokenLifetimeSeconds = tokenLifetimeSeconds;
  }

  addTenant(tenantId: string, domains: string[] = []): void {
    const existing = this.tenants.get(tenantId);
    if (existing) {
      for (const d of domains) if (!existing.domains.includes(d)) existing.domains.push(d);
      return;
    }
    this.tenants.set(tenantId, { tenantId, domains: [...domains] });
  }

  /** Resolves a tenant path segment (GUID or verified domain) to its tenant id. */
  resolveTenant(segment: string): string | undefined {
    const lower = segment.toLowerCase();
    for (const t of this.tenants.values()) {
      if (t.tenantId.toLowerCase() === lower || t.domains.some((d) => d.toLowerCase() === lower)) return t.tenantId;
    }
    return undefined;
  }

  addApp(input: AddAppInput): SimApp {
    if (!this.tenants.has(input.tenantId)) this.addTenant(input.tenantId);
    const app: SimApp = {
      tenantId: input.tenantId,
      appId: input.appId,
      displayName: input.displayName ?? `exsync-sim-${input.appId.slice(0, 8)}`,
      secrets: [...input.secrets],
      expiredSecrets: [],
      certificates: (input.certificates ?? []).map((c) => ({ ...c })),
      roles: [...input.roles],
      consented: input.consented,
      delegatedScopes: [...(input.delegatedScopes ?? ['https://outlook.office365.com/EWS.AccessAsUser.All'])],
      redirectUris: [...(input.redirectUris ?? [])],
      servicePrincipalId: input.servicePrincipalId ?? randomUUID(),
      adminConsentAnswer: input.adminConsentAnswer ?? 'grant',
      publicClient: input.publicClient ?? false,
      delegatedConsent: input.delegatedConsent ?? true,
    };
    this.apps.set(app.appId, app);
    return app;
  }

  addUser(input: AddUserInput): SimUser {
    if (!this.tenants.has(input.tenantId)) this.addTenant(input.tenantId);
    const local = input.email.split('@')[0] ?? input.email;
    const user: SimUser = {
      tenantId: input.tenantId,
      email: input.email,
      oid: input.oid ?? randomUUID(),
      name: input.name ?? local.charAt(0).toUpperCase() + local.slice(1),
      password: input.password,
      cancels: input.cancels ?? false,
      tokensValidFrom: 0,
      mfaRequired: false,
    };
    this.users.set(input.email.toLowerCase(), user);
    return user;
  }

  findUser(email: string): SimUser | undefined {
    return this.users.get(email.toLowerCase());
  }

  findUserByOid(oid: string): SimUser | undefined {
    for (const u of this.users.values()) if (u.oid === oid) return u;
    return undefined;
  }

  requireApp(appId: string): SimApp {
    const app = this.apps.get(appId);
    if (!app) throw new Error(`entra-sim: no app ${appId}`);
    return app;
  }

  revokeSecret(appId: string, secret: string): void {
    const app = this.requireApp(appId);
    app.secrets = app.secrets.filter((s) => s !== secret);
  }

  expireSecret(appId: string, secret: string): void {
    const app = this.requireApp(appId);
    app.secrets = app.secrets.filter((s) => s !== secret);
    if (!app.expiredSecrets.includes(secret)) app.expiredSecrets.push(secret);
  }

  setConsent(appId: string, consented: boolean): void {
    this.requireApp(appId).consented = consented;
  }

  setRoles(appId: string, roles: string[]): void {
    this.requireApp(appId).roles = [...roles];
  }

  setAdminConsentAnswer(appId: string, answer: 'grant' | 'deny'): void {
    this.requireApp(appId).adminConsentAnswer = answer;
  }

  /** Like revokeSignInSessions: every refresh token issued so far for the user stops working. */
  revokeRefreshTokens(email: string): void {
    const user = this.findUser(email);
    if (!user) throw new Error(`entra-sim: no user ${email}`);
    // Strictly after every grant issued so far, even within the same millisecond.
    user.tokensValidFrom = Date.now() + 1;
  }

  /** Conditional Access starts (true) or stops requiring MFA for the user's token requests. */
  setMfaRequired(email: string, required: boolean): void {
    const user = this.findUser(email);
    if (!user) throw new Error(`entra-sim: no user ${email}`);
    user.mfaRequired = required;
  }

  setDelegatedConsent(appId: string, consented: boolean): void {
    this.requireApp(appId).delegatedConsent = consented;
  }

  setTokenLifetime(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error('entra-sim: token lifetime must be a positive integer');
    this.tokenLifetimeSeconds = seconds;
  }

  failNextTokenRequests(count: number, status = 503, retryAfterSeconds?: number): void {
    this.faults.failTokenRequests = { remaining: count, status, retryAfterSeconds };
  }

  setTidOverride(tid: string | undefined): void {
    this.faults.tidOverride = tid;
  }

  countTokenRequest(grantType: string, clientId: string): void {
    this.stats.total += 1;
    this.stats.byGrantType[grantType] = (this.stats.byGrantType[grantType] ?? 0) + 1;
    this.stats.byClientId[clientId] = (this.stats.byClientId[clientId] ?? 0) + 1;
  }

  resetStats(): void {
    this.stats = emptyStats();
  }
}

function emptyStats(): TokenRequestStats {
  return { total: 0, byGrantType: {}, byClientId: {} };
}
