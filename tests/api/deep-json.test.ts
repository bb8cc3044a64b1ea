/**
 * Bodies nested far deeper than any request exsync takes, on a public route and an authenticated
 * one: a 400 naming where the nesting goes too deep, never a 500 (a body of 100,000 nested arrays
 * once overflowed the stack of the unstorable-text check that runs before every route's schema).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '@exsync/canonical';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
let org: { id: string; token: string };
beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
});
afterAll(async () => {
  await h?.close();
});

const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const post = (url: string, payload: string, token?: string) =>
  h.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });

describe('deeply nested JSON bodies', () => {
  for (const [shape, body] of [
    ['arrays', arrays],
    ['objects', objects],
  ] as const) {
    for (const depth of [MAX_JSON_DEPTH + 1, 1_000, 100_000]) {
      it(`${depth} nested ${shape}: 400 naming the depth, on a public route and on /v1`, async () => {
        for (const res of [await post('/oauth/monitor/paste', body(depth)), await post(`/v1/orgs/${org.id}/users`, body(depth), org.token)]) {
          expect(res.statusCode).toBe(400);
          expect(res.json().message).toContain(`nested more than ${MAX_JSON_DEPTH} levels deep`);
        }
      });
    }
  }

  it('a body just inside the limit reaches the route schema, which names the field', async () => {
    const res = await post(
      `/v1/orgs/${org.id}/users`,
      JSON.stringify({ crmUserId: 'deep', email: 'deep@example.com', settings: JSON.parse(objects(MAX_JSON_DEPTH - 2)) }),
      org.token,
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/settings/);
  });

  it('the API still answers afterwards', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/orgs/${org.id}/users`, headers: { authorization: `Bearer ${org.token}` } });
    expect(res.statusCode).toBe(200);
  });
});
