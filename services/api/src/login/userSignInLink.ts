/** The one-time sign-in link an admin sends a user (CONTRACT.md `POST .../users/:userId/microsoft-login`). */
import { getExchangeSettings, getUser } from '@exsync/db';
import type { ResolvedDeps } from '../app';
import { HttpError, notFound } from '../httpError';
import { oneTimeLink } from './loginLink';

/** The link (valid LOGIN_LINK_TTL_SECONDS) to /oauth/start; 404 for an unknown user, 409 before the organisation has Exchange settings. */
export async function userSignInLink(deps: ResolvedDeps, orgId: string, userId: string): Promise<{ url: string; expiresAt: string }> {
  const { pool, config } = deps;
  if (!(await getUser(pool, orgId, userId))) throw notFound('user not found');
  if (!(await getExchangeSettings(pool, orgId))) {
    throw new HttpError(409, 'no Exchange settings for this organisation yet: PUT /v1/orgs/:orgId/exchange first');
  }
  return oneTimeLink(config, '/oauth/start', orgId, userId);
}
