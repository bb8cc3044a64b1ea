import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsPattern } from '@exsync/db';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
let org: { id: string; token: string };
let other: { id: string; token: string };

const PEOPLE = [
  { crmUserId: 'CRM-100', email: 'ann.lee@contoso.example', displayName: 'Ann Lee' },
  { crmUserId: 'crm-101', email: 'bob@contoso.example', displayName: 'Robert Leeds' },
  { crmUserId: 'crm-102', email: 'cy@fabrikam.example', displayName: 'Cy 100% Sure' },
  { crmUserId: 'crm_103', email: 'dee@fabrikam.example' },
];

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
  other = await h.createOrg();
  for (const p of PEOPLE) expect((await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, p)).statusCode).toBe(201);
  await h.call('POST', `/v1/orgs/${other.id}/users`, other.token, { crmUserId: 'crm-100', email: 'ann@elsewhere.example', displayName: 'Ann Other' });
  // Ann enabled (awaiting her sign-in); the others stay not-enabled.
  const ann = (await h.call('GET', `/v1/orgs/${org.id}/users?search=ann.lee`, org.token)).json().users[0];
  await h.call('PATCH', `/v1/orgs/${org.id}/users/${ann.id}`, org.token, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true });
});
afterAll(async () => h?.close());

async function emails(query: string): Promise<string[]> {
  const res = await h.call('GET', `/v1/orgs/${org.id}/users?${query}`, org.token);
  expect(res.statusCode, query).toBe(200);
  return res
    .json()
    .users.map((u: { email: string }) => u.email)
    .sort();
}

describe('GET /v1/orgs/:orgId/users search and state', () => {
  it.each([
    ['search=lee', ['ann.lee@contoso.example', 'bob@contoso.example']],
    ['search=LEE', ['ann.lee@contoso.example', 'bob@contoso.example']],
    ['search=fabrikam', ['cy@fabrikam.example', 'dee@fabrikam.example']],
    ['search=crm-100', ['ann.lee@contoso.example']],
    ['search=100', ['ann.lee@contoso.example', 'cy@fabrikam.example']],
    ['search=100%25', ['cy@fabrikam.example']],
    ['search=_', ['dee@fabrikam.example']],
    ['search=robert', ['bob@contoso.example']],
    ['search=nobody', []],
    ['search=%20%20', PEOPLE.map((p) => p.email).sort()],
    ['state=awaiting-user-login', ['ann.lee@contoso.example']],
    ['state=not-enabled', ['bob@contoso.example', 'cy@fabrikam.example', 'dee@fabrikam.example']],
    ['state=healthy', []],
    ['state=not-enabled&search=contoso', ['bob@contoso.example']],
  ])('%s', async (query, expected) => {
    expect(await emails(query)).toEqual(expected);
  });

  it('pages a filtered list with the same filter', async () => {
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const res = await h.call('GET', `/v1/orgs/${org.id}/users?search=example&state=not-enabled&limit=1${next ? `&after=${next}` : ''}`, org.token);
      seen.push(...res.json().users.map((u: { email: string }) => u.email));
      next = res.json().next;
    } while (next);
    expect(seen.sort()).toEqual(['bob@contoso.example', 'cy@fabrikam.example', 'dee@fabrikam.example']);
  });

  it.each([
    ['state=asleep', 'state'],
    [`search=${'x'.repeat(201)}`, 'search'],
  ])('refuses %s with a 400 naming the field', async (query, field) => {
    const res = await h.call('GET', `/v1/orgs/${org.id}/users?${query}`, org.token);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });
});

describe('containsPattern', () => {
  it.each([
    ['abc', '%abc%'],
    ['100%', '%100\\%%'],
    ['a_b', '%a\\_b%'],
    ['c:\\x', '%c:\\\\x%'],
  ])('%s -> %s', (text, pattern) => {
    expect(containsPattern(text)).toBe(pattern);
  });
});
