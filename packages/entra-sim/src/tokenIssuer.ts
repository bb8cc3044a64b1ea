import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { SigningKey } from './signingKey';
import type { SimApp, SimUser } from './simState';

/**
 * Mints the three token shapes Entra ID issues for EWS: the v1 app-only access token, the v1
 * delegated access token, and the v2 ID token.
 */
export class TokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly baseUrl: () => string,
  ) {}

  private async sign(claims: JWTPayload, lifetimeSeconds: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims, iat: now, nbf: now, exp: now + lifetimeSeconds })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.key.kid, x5t: this.key.kid })
      .sign(this.key.privateKey);
  }

  appOnlyAccessToken(input: { app: SimApp; tid: string; resource: string; viaCertificate: boolean; lifetimeSeconds: number }): Promise<string> {
    const { app, tid } = input;
    const claims: JWTPayload = {
      aud: input.resource,
      iss: `https://sts.windows.net/${tid}/`,
      idp: `https://sts.windows.net/${tid}/`,
      appid: app.appId,
      appidacr: input.viaCertificate ? '2' : '1',
      oid: app.servicePrincipalId,
      sub: app.servicePrincipalId,
      tid,
      uti: uti(),
      ver: '1.0',
    };
    const roles = app.roles.filter((r) => roleBelongsTo(r, input.resource));
    if (roles.length > 0) claims.roles = roles;
    return this.sign(claims, input.lifetimeSeconds);
  }

  delegatedAccessToken(input: {
    app: SimApp;
    user: SimUser;
    tid: string;
    resource: string;
    scp: string;
    viaCertificate: boolean;
    lifetimeSeconds: number;
  }): Promise<string> {
    const { app, user, tid } = input;
    const [given, ...family] = user.name.split(' ');
    return this.sign(
      {
        aud: input.resource,
        iss: `https://sts.windows.net/${tid}/`,
        amr: ['pwd'],
        appid: app.appId,
        appidacr: input.viaCertificate ? '2' : '1',
        name: user.name,
        given_name: given,
        family_name: family.join(' ') || undefined,
        oid: user.oid,
        scp: input.scp,
        sub: user.oid,
        tid,
        unique_name: user.email,
        upn: user.email,
        uti: uti(),
        ver: '1.0',
      },
      input.lifetimeSeconds,
    );
  }

  idToken(input: { app: SimApp; user: SimUser; tid: string; nonce?: string; lifetimeSeconds: number }): Promise<string> {
    const { app, user, tid } = input;
    return this.sign(
      {
        aud: app.appId,
        iss: `${this.baseUrl()}/${tid}/v2.0`,
        name: user.name,
        nonce: input.nonce,
        oid: user.oid,
        preferred_username: user.email,
        email: user.email,
        sub: user.oid,
        tid,
        uti: uti(),
        ver: '2.0',
      },
      input.lifetimeSeconds,
    );
  }
}

/**
 * The resource each known application permission belongs to. Entra puts in a token only the roles of
 * the token's resource: an EWS token never carries Graph's Calendars.ReadWrite and the other way round.
 * Roles the table does not know go to every resource (tests grant arbitrary ones).
 */
const ROLE_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  full_access_as_app: ['https://outlook.office365.com', 'https://outlook.office.com', '00000002-0000-0ff1-ce00-000000000000'],
  'Calendars.ReadWrite': ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
  'Calendars.Read': ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
  'Contacts.ReadWrite': ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
  'Contacts.Read': ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
};

function roleBelongsTo(role: string, resource: string): boolean {
  const owners = ROLE_RESOURCES[role];
  return !owners || owners.includes(resource.replace(/\/+$/, ''));
}

function uti(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

/** Opaque, unguessable handle; Microsoft's refresh tokens are opaque to clients too. */
export function opaqueToken(prefix: string): string {
  return `${prefix}.${randomUUID()}.${randomBytes(32).toString('base64url')}`;
}
