/**
 * Users and their sync settings: creating a user, one user's PATCH and the bulk change. A change
 * that makes a mailbox due asks for a sync soon (requestSyncSoon: a failed enqueue only waits for
 * the scheduler).
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  DuplicateCrmUserIdError,
  DuplicateEmailError,
  applyEnablement,
  createUser,
  findUserByEmail,
  getUser,
  getUserSettings,
  updateUserSettings,
  withTransaction,
  type User,
  type UserSettings,
} from '@exsync/db';
import type { ResolvedDeps } from '../../../../../app';
import { HttpError, notFound } from '../../../../../httpError';
import { requestSyncSoon } from '../../../../../requestSyncSoon';

export type SettingsPatch = Partial<UserSettings>;
type UserPatch = SettingsPatch & { email?: string; displayName?: string | null };

export const MOBILE_ACCESS_RULE =
  'useOAuthForExchange needs mobileAccess: turn mobileAccess on (in the same request or before), or turn useOAuthForExchange off';

/** The 422 rule: OAuth for Exchange is only offered to users with mobile access. */
function violatesMobileAccessRule(current: UserSettings, patch: SettingsPatch): boolean {
  const merged = { ...current, ...patch };
  return merged.useOAuthForExchange && !merged.mobileAccess;
}

/** Applies settings to users (one transaction) and asks for a first sync of mailboxes that became due. Answers the updated ids. */
async function applySettings(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, userIds: string[], patch: UserPatch): Promise<string[]> {
  const { updated, scheduled } = await withTransaction(deps.pool, async (client) => {
    const ids = await updateUserSettings(client, orgId, userIds, patch);
    return { updated: ids, scheduled: await applyEnablement(client, orgId, ids) };
  });
  for (const mailboxId of scheduled) await requestSyncSoon(deps.enqueueSync, log, mailboxId, 'settings');
  return updated;
}

/**
 * The 409 (field email) for an email another user of the organisation has: names that user, found
 * once the refused write's transaction is over, and what the admin can do.
 */
async function emailTaken(deps: ResolvedDeps, orgId: string, email: string, userId?: string): Promise<HttpError> {
  const other = await findUserByEmail(deps.pool, orgId, email, userId);
  const who = other ? `CRM user ${other.crmUserId} (user ${other.id})` : 'another user';
  return new HttpError(
    409,
    `email ${email} is already the email of ${who} in this organisation, and two users cannot sync one Exchange mailbox: ` +
      `change the email of one of them (PATCH /v1/orgs/${orgId}/users/:userId), or, if the other user is an old account of the same person, ask your exsync support contact to delete it`,
    'email',
  );
}

/** Creates a CRM user and its mailbox (not enabled yet); 409 naming crmUserId when the CRM id is taken, email when another user has the email. */
export async function addUser(deps: ResolvedDeps, orgId: string, input: { crmUserId: string; email: string; displayName?: string }): Promise<User> {
  try {
    return await createUser(deps.pool, orgId, input);
  } catch (err) {
    if (err instanceof DuplicateCrmUserIdError) throw new HttpError(409, err.message, 'crmUserId');
    if (err instanceof DuplicateEmailError) throw await emailTaken(deps, orgId, input.email);
    if ((err as { code?: string }).code === '23503') throw notFound('organisation not found');
    throw err;
  }
}

/**
 * One user's PATCH: 404 for an unknown user, 422 (field useOAuthForExchange) for the mobile-access
 * rule, 409 (field email) for another user's email, nothing applied then; answers the user as now stored.
 */
export async function changeUser(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, userId: string, patch: UserPatch): Promise<User> {
  const current = (await getUserSettings(deps.pool, orgId, [userId])).get(userId);
  if (!current) throw notFound('user not found');
  if (violatesMobileAccessRule(current, patch)) throw new HttpError(422, MOBILE_ACCESS_RULE, 'useOAuthForExchange');
  try {
    await applySettings(deps, log, orgId, [userId], patch);
  } catch (err) {
    if (err instanceof DuplicateEmailError) throw await emailTaken(deps, orgId, err.email, userId);
    throw err;
  }
  const updated = await getUser(deps.pool, orgId, userId);
  if (!updated) throw notFound('user not found');
  return updated;
}

/** The bulk change: unknown ids and users the mobile-access rule refuses are reported, the others updated. */
export async function changeUsers(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, userIds: string[], settings: SettingsPatch) {
  const current = await getUserSettings(deps.pool, orgId, userIds);
  const notFoundIds = userIds.filter((id) => !current.has(id));
  const rejected = [...current].filter(([, s]) => violatesMobileAccessRule(s, settings)).map(([userId]) => ({ userId, message: MOBILE_ACCESS_RULE }));
  const rejectedIds = new Set(rejected.map((r) => r.userId));
  const eligible = [...current.keys()].filter((id) => !rejectedIds.has(id));
  const updated = eligible.length ? await applySettings(deps, log, orgId, eligible, settings) : [];
  return { updated, notFound: notFoundIds, rejected };
}
