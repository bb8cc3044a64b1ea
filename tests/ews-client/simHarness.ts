import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { AppTokenProvider } from '../../packages/ews-client/src/auth/appTokenProvider';
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
