/**
 * One Exchange mailbox per user: two users of an organisation cannot share an email (trimmed,
 * case-insensitive), on create, on PATCH, or when two creates race; other organisations may. The
 * mailbox binding behind it (one bound mailbox per address) holds when two sign-ins race.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEmailError, MailboxAddressTakenError, createUser, recordUserSignIn } from '@exsync/db';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
let org: { id: string; token: string };
let alice: { id: string; crmUserId: string };

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
  const res = await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'alice', email: 'alice@contoso.example' });
  expect(res.statusCode).toBe(201);
  alice = { id: res.json().id, crmUserId: 'alice' };
});
afterAll(async () => h?.close());

const usersUrl = () => `/v1/orgs/${org.id}/users`;

/** A 409 naming `email`, the other user's CRM id and what to do; answers the message. */
function expectEmailTaken(res: { statusCode: number; json(): any }, otherCrmUserId: string): string {
  expect(res.statusCode).toBe(409);
  const body = res.json();
  expect(body).toMatchObject({ error: 'Conflict', field: 'email' });
  expect(body.message).toContain(`CRM user ${otherCrmUserId}`);
  expect(body.message).toMatch(/change the email of one of them/);
  return body.message;
}

async function crmUserIdsWithEmail(email: string): Promise<string[]> {
  const res = await h.pool.query(`SELECT crm_user_id FROM users WHERE org_id = $1 AND lower(btrim(email)) = lower(btrim($2)) ORDER BY 1`, [org.id, email]);
  return res.rows.map((r) => r.crm_user_id);
}

describe('creating a user', () => {
  it("answers 409 naming email and the other CRM user for another user's email; nothing is created", async () => {
    const res = await h.call('POST', usersUrl(), org.token, { crmUserId: 'new1', email: 'alice@contoso.example' });
    const message = expectEmailTaken(res, 'alice');
    expect(message).toContain('alice@contoso.example');
    expect(message).toContain(alice.id);
    expect(await crmUserIdsWithEmail('alice@contoso.example')).toEqual(['alice']);
  });

  it('compares case-insensitively', async () => {
    expectEmailTaken(await h.call('POST', usersUrl(), org.token, { crmUserId: 'new2', email: 'ALICE@Contoso.Example' }), 'alice');
    expect(await crmUserIdsWithEmail('alice@contoso.example')).toEqual(['alice']);
  });

  it('an email with surrounding spaces is refused too: 400 at the API, the duplicate error below it', async () => {
    const res = await h.call('POST', usersUrl(), org.token, { crmUserId: 'new3', email: ' alice@contoso.example ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('email');
    // The repository compares trimmed, as the unique index does (rows written before the API's check had no such rule).
    await expect(createUser(h.pool, org.id, { crmUserId: 'new3', email: '  Alice@contoso.example\t' })).rejects.toBeInstanceOf(DuplicateEmailError);
    expect(await crmUserIdsWithEmail('alice@contoso.example')).toEqual(['alice']);
  });

  it('a CRM id and an email both taken: 409 naming crmUserId, as before', async () => {
    const res = await h.call('POST', usersUrl(), org.token, { crmUserId: 'alice', email: 'alice@contoso.example' });
    expect(res.statusCode).toBe(409);
    expect(res.json().field).toBe('crmUserId');
  });

  it('another organisation may have a user with the same email', async () => {
    const other = await h.createOrg();
    const res = await h.call('POST', `/v1/orgs/${other.id}/users`, other.token, { crmUserId: 'alice', email: 'alice@contoso.example' });
    expect(res.statusCode).toBe(201);
  });

  it('two concurrent creates with one email: exactly one 201, the other 409 naming email', async () => {
    for (let round = 0; round < 5; round++) {
      const email = `race-${round}@contoso.example`;
      const answers = await Promise.all(
        ['a', 'b', 'c', 'd'].map((n) =>
          h.call('POST', usersUrl(), org.token, { crmUserId: `race-${round}-${n}`, email: n === 'a' ? email : email.toUpperCase() }),
        ),
      );
      const codes = answers.map((a) => a.statusCode).sort();
      expect(codes).toEqual([201, 409, 409, 409]);
      const winner = answers.find((a) => a.statusCode === 201)!.json().crmUserId;
      for (const lost of answers.filter((a) => a.statusCode === 409)) expectEmailTaken(lost, winner);
      expect(await crmUserIdsWithEmail(email)).toEqual([winner]);
    }
  });
});

describe('changing a user', () => {
  it("answers 409 naming email for another user's email, in any case; nothing of the PATCH is applied", async () => {
    const bob = await h.createUser(org.id, 'bob');
    for (const email of ['alice@contoso.example', 'Alice@CONTOSO.example']) {
      const res = await h.call('PATCH', `${usersUrl()}/${bob.id}`, org.token, { email, syncCalendar: true, displayName: 'Bob' });
      expectEmailTaken(res, 'alice');
    }
    const row = (await h.call('GET', `${usersUrl()}/${bob.id}`, org.token)).json();
    expect(row).toMatchObject({ email: 'bob@example.com', displayName: null, settings: { syncCalendar: false } });
  });

  it('a user may change the case of its own email, and take an email nobody has; the freed email is free', async () => {
    const carol = await h.createUser(org.id, 'carol');
    const own = await h.call('PATCH', `${usersUrl()}/${carol.id}`, org.token, { email: 'Carol@Example.com' });
    expect(own.statusCode).toBe(200);
    expect(own.json().email).toBe('Carol@Example.com');
    const moved = await h.call('PATCH', `${usersUrl()}/${carol.id}`, org.token, { email: 'carol.new@example.com' });
    expect(moved.statusCode).toBe(200);
    const reuse = await h.call('POST', usersUrl(), org.token, { crmUserId: 'carol-2', email: 'carol@example.com' });
    expect(reuse.statusCode).toBe(201);
  });

  it('the bulk route cannot change emails, so it cannot make a duplicate: an email in its settings answers 400', async () => {
    const dave = await h.createUser(org.id, 'dave');
    const res = await h.call('POST', `${usersUrl()}/bulk`, h.platformToken, { userIds: [dave.id], settings: { email: 'alice@contoso.example' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('settings.email');
    expect(await crmUserIdsWithEmail('alice@contoso.example')).toEqual(['alice']);
  });
});

describe('binding a mailbox', () => {
  it('two concurrent sign-ins as one address: exactly one binds, the other is refused and binds nothing', async () => {
    const a = await h.createUser(org.id, 'bind-a');
    const b = await h.createUser(org.id, 'bind-b');
    const results = await Promise.allSettled([
      recordUserSignIn(h.pool, a.mailboxId, { smtpAddress: 'shared@contoso.example' }),
      recordUserSignIn(h.pool, b.mailboxId, { smtpAddress: 'Shared@Contoso.example' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(MailboxAddressTakenError);
    const bound = await h.pool.query(`SELECT id FROM mailboxes WHERE id = ANY($1::uuid[]) AND smtp_address IS NOT NULL`, [[a.mailboxId, b.mailboxId]]);
    expect(bound.rowCount).toBe(1);
  });
});
