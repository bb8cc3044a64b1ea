/**
 * Migration 1797200000000 (one user per email, one bound mailbox per address) on a database that
 * already holds duplicates: it succeeds, changes no row's data, exempts every duplicate but the
 * first, and the rule holds for every write from then on.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEmailError, MailboxAddressTakenError, createUser, migrateUp, migrationNames, recordUserSignIn, updateUserSettings } from '@exsync/db';

const MIGRATION = '1797200000000_unique-user-email';
const adminUrl = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL!;
const name = `exsync_uniq_${randomBytes(4).toString('hex')}`;
let url: string;
let pool: pg.Pool;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  url = u.toString();
  // Every migration, then this one undone by its own Down section: the schema just before it.
  expect(migrationNames()).toContain(MIGRATION);
  await migrateUp(url);
  pool = new pg.Pool({ connectionString: url, max: 4 });
  const sql = readFileSync(path.resolve(__dirname, `../../migrations/${MIGRATION}.sql`), 'utf8');
  await pool.query(sql.slice(sql.indexOf('-- Down Migration')));
  await pool.query(`DELETE FROM pgmigrations WHERE name = $1`, [MIGRATION]);
});
afterAll(async () => {
  await pool?.end();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('the unique email migration on a database with duplicates', () => {
  let orgId: string;
  const ids: Record<string, { user: string; mailbox: string }> = {};

  it('applies, marking every duplicate but the first exempt', async () => {
    orgId = (await pool.query(`INSERT INTO organisations (name) VALUES ('legacy') RETURNING id`)).rows[0].id;
    // Three users with one email (case and spaces aside), oldest first; two of them bound to one address.
    for (const [i, [crm, email, smtp]] of (
      [
        ['old', 'dup@contoso.example', 'dup@contoso.example'],
        ['mid', ' DUP@contoso.example', 'Dup@Contoso.example'],
        ['new', 'dup@CONTOSO.example', null],
        ['solo', 'solo@contoso.example', 'solo@contoso.example'],
      ] as const
    ).entries()) {
      const user = (
        await pool.query(`INSERT INTO users (org_id, crm_user_id, email, created_at) VALUES ($1, $2, $3, now() - make_interval(mins => $4)) RETURNING id`, [
          orgId,
          crm,
          email,
          10 - i,
        ])
      ).rows[0].id;
      const mailbox = (
        await pool.query(
          `INSERT INTO mailboxes (org_id, user_id, smtp_address, signed_in_at) VALUES ($1, $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE now() - make_interval(mins => $4) END) RETURNING id`,
          [orgId, user, smtp, 10 - i],
        )
      ).rows[0].id;
      ids[crm] = { user, mailbox };
    }

    expect(await migrateUp(url)).toEqual([MIGRATION]);

    const users = await pool.query(`SELECT crm_user_id, email, email_unique_exempt FROM users ORDER BY created_at`);
    expect(users.rows).toEqual([
      { crm_user_id: 'old', email: 'dup@contoso.example', email_unique_exempt: false },
      { crm_user_id: 'mid', email: ' DUP@contoso.example', email_unique_exempt: true },
      { crm_user_id: 'new', email: 'dup@CONTOSO.example', email_unique_exempt: true },
      { crm_user_id: 'solo', email: 'solo@contoso.example', email_unique_exempt: false },
    ]);
    const mailboxes = await pool.query(`SELECT user_id, smtp_address, smtp_unique_exempt FROM mailboxes`);
    const exempt = Object.fromEntries(mailboxes.rows.map((r) => [r.user_id, r.smtp_unique_exempt]));
    expect(exempt).toEqual({ [ids.old.user]: false, [ids.mid.user]: true, [ids.new.user]: false, [ids.solo.user]: false });
  });

  it('from then on the rule holds: no new duplicate, an exempt user or mailbox rejoins it when written', async () => {
    await expect(createUser(pool, orgId, { crmUserId: 'newer', email: 'Dup@contoso.example' })).rejects.toBeInstanceOf(DuplicateEmailError);
    // An exempt user's settings may change; its email may not be set to the duplicate again, but to a free one.
    expect(await updateUserSettings(pool, orgId, [ids.new.user], { syncCalendar: true })).toEqual([ids.new.user]);
    await expect(updateUserSettings(pool, orgId, [ids.new.user], { email: 'dup@contoso.example' })).rejects.toBeInstanceOf(DuplicateEmailError);
    expect(await updateUserSettings(pool, orgId, [ids.new.user], { email: 'fresh@contoso.example' })).toEqual([ids.new.user]);
    await expect(createUser(pool, orgId, { crmUserId: 'fresh-2', email: 'FRESH@contoso.example' })).rejects.toBeInstanceOf(DuplicateEmailError);

    // The exempt second binding cannot be renewed by a sign-in; the first binding can.
    await expect(recordUserSignIn(pool, ids.mid.mailbox, { smtpAddress: 'dup@contoso.example' })).rejects.toBeInstanceOf(MailboxAddressTakenError);
    expect((await recordUserSignIn(pool, ids.old.mailbox, { smtpAddress: 'dup@contoso.example' }))?.smtpAddress).toBe('dup@contoso.example');
    await expect(recordUserSignIn(pool, ids.new.mailbox, { smtpAddress: 'solo@contoso.example' })).rejects.toBeInstanceOf(MailboxAddressTakenError);
    expect((await pool.query(`SELECT smtp_address FROM mailboxes WHERE id = $1`, [ids.new.mailbox])).rows[0].smtp_address).toBeNull();
  });
});
