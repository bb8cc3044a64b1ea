import type { FastifyBaseLogger } from 'fastify';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import type { EndpointPolicy } from '@exsync/config';
import { GuardedNetworkClient } from '@exsync/ews-client';

export type IdTokenProblem = 'wrong-tenant' | 'nonce-mismatch' | 'invalid';

export class IdTokenRejectedError extends Error {
  constructor(
    readonly problem: IdTokenProblem,
    message: string,
  ) {
    super(message);
    this.name = 'IdTokenRejectedError';
  }
}

export interface IdTokenExpectations {
  /** e.g. https://login.microsoftonline.com (the org's authorityHost) */
  authorityHost: string;
  tenantId: string;
  applicationId: string;
  nonce: string;
  /** the keys are fetched only from an allowed authority, at a checked address, with a size cap */
  endpointPolicy: EndpointPolicy;
}

export interface VerifiedIdentity {
  tid: string;
  oid?: string;
  /** preferred_username, else email: the mailbox the person signed in with */
  signedInAs: string;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;
const jwksByPolicy = new WeakMap<EndpointPolicy, Map<string, KeySet>>();

/**
 * The authority's signing keys, fetched through the same guarded client as MSAL's token requests
 * (jose's default fetch would inflate any compressed answer without a cap).
 */
function jwksFor(authorityHost: string, tenantId: string, policy: EndpointPolicy): KeySet {
  const url = `${authorityHost.replace(/\/+$/, '')}/${tenantId}/discovery/v2.0/keys`;
  let sets = jwksByPolicy.get(policy);
  if (!sets) jwksByPolicy.set(policy, (sets = new Map()));
  let set = sets.get(url);
  if (!set) {
    const client = new GuardedNetworkClient({ policy });
    set = createRemoteJWKSet(new URL(url), {
      [customFetch]: async (input: string) => {
        const r = await client.sendGetRequestAsync<unknown>(String(input), { headers: { accept: 'application/json' } }, 5_000);
        return new Response(JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
      },
    });
    sets.set(url, set);
  }
  return set;
}

/**
 * Checks the ID token from the code exchange: signature against the authority's JWKS, audience =
 * our app, then the tenant (before the issuer, so a foreign tenant gets its own plain answer), the
 * issuer, and the nonce that binds the token to this browser's sign-in.
 */
export async function verifyIdToken(idToken: string, expect: IdTokenExpectations): Promise<VerifiedIdentity> {
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(idToken, jwksFor(expect.authorityHost, expect.tenantId, expect.endpointPolicy), {
      audience: expect.applicationId,
      algorithms: ['RS256'],
      clockTolerance: 300,
    }));
  } catch (e) {
    throw new IdTokenRejectedError('invalid', `the ID token failed verification (${e instanceof Error ? e.name : 'error'})`);
  }
  const tid = typeof claims.tid === 'string' ? claims.tid : '';
  if (tid.toLowerCase() !== expect.tenantId.toLowerCase()) {
    throw new IdTokenRejectedError('wrong-tenant', `the account belongs to tenant ${tid || '(none)'}, not ${expect.tenantId}`);
  }
  const issuer = `${expect.authorityHost.replace(/\/+$/, '')}/${tid}/v2.0`;
  if (typeof claims.iss !== 'string' || claims.iss.toLowerCase() !== issuer.toLowerCase()) {
    throw new IdTokenRejectedError('invalid', 'the ID token was not issued by the configured authority');
  }
  if (claims.nonce !== expect.nonce) {
    throw new IdTokenRejectedError('nonce-mismatch', 'the ID token does not belong to this sign-in');
  }
  const who = typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.email === 'string' ? claims.email : '';
  if (!who) throw new IdTokenRejectedError('invalid', 'the ID token names no account');
  return { tid, oid: typeof claims.oid === 'string' ? claims.oid : undefined, signedInAs: who };
}

/**
 * The account an ID token proves signed in, or the sign-in page to answer with when the token is
 * rejected: `wrong-tenant` for an account of another tenant, else `code-rejected`. A rejection is
 * logged as `<flow>: ID token rejected` with its problem only, never the token. The caller compares
 * the account with the mailbox it expects.
 */
export async function signedInAccount(
  idToken: string,
  expect: IdTokenExpectations,
  log: FastifyBaseLogger,
  flow: string,
): Promise<{ signedInAs: string } | { rejected: 'wrong-tenant' | 'code-rejected' }> {
  try {
    return { signedInAs: (await verifyIdToken(idToken, expect)).signedInAs };
  } catch (err) {
    const problem = err instanceof IdTokenRejectedError ? err.problem : 'invalid';
    log.warn({ problem }, `${flow}: ID token rejected`);
    return { rejected: problem === 'wrong-tenant' ? 'wrong-tenant' : 'code-rejected' };
  }
}
