/** Rows for tests that need no simulator or API: an org with settings and users with bound mailboxes, written through packages/db. */
import { createOrganisation, createSecretBox, createUser, upsertExchangeSettings } from '@exsync/db';
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';

export const testBox = createSecretBox({ id: 'k1', key: randomBytes(32) });

export async function seedOrg(pool: pg.Pool): Promise<string> {
  const org = await createOrganisation(pool, `org ${randomUUID().slice(0, 8)}`);
  await upsertExchangeSettings(pool, testBox, org.id, {
    applicationId: randomUUID(),
    tenantId: randomUUID(),
    clientSecret: 'not-used-here',
    ewsUrl: 'http://127.0.0.1:9/EWS/Exchange.asmx',
    authorityHost: 'http://127.0.0.1:9',
  });
  return org.id;
}

/** A user with an enabled mailbox in `state`, due at `nextRunAt` (seconds from now). */
export async function seedMailbox(
  pool: pg.Pool,
  orgId: string,
  opts: { state?: string; enabled?: boolean; dueInSeconds?: number | null; throttledForSeconds?: number } = {},
): Promise<{ userId: string; mailboxId: string }> {
  const user = await createUser(pool, orgId, { crmUserId: randomUUID(), email: `${randomUUID().slice(0, 8)}@contoso.example` });
  await pool.query(`UPDATE users SET mobile_access = true, use_oauth_for_exchange = true, sync_calendar = true WHERE id = $1`, [user.id]);
  await pool.query(
    `UPDATE mailboxes SET enabled = $2, state = $3, smtp_address = $4, signed_in_at = now(),
            next_run_at = CASE WHEN $5::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $5::double precision) END,
            throttled_until = CASE WHEN $6::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $6::double precision) END
      WHERE id = $1`,
    [
      user.mailboxId,
      opts.enabled ?? true,
      opts.state ?? 'scheduled',
      user.email,
      opts.dueInSeconds === undefined ? -1 : opts.dueInSeconds,
      opts.throttledForSeconds ?? null,
    ],
  );
  return { userId: user.id, mailboxId: user.mailboxId };
}
