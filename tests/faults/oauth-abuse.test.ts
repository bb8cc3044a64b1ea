/**
 * OAuth abuse against the real sign-in routes and the Entra simulator (helpers from tests/login):
 * each attempt is refused with a result page that names what happened, and nothing is bound.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { authorizeAtMicrosoft, deliverCallback, mailboxRow, orgWithUser, outcomeOf, startLoginHarness, startSignIn, type LoginHarness } from '../support/login';
import { measure, secretHits } from './collector';

const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');
const OTHER_TENANT = '99999999-9999-4999-8999-999999999999';

let h: LoginHarness;
beforeAll(async () => {
  h = await startLoginHarness();
  for (const name of ['fa-replay', 'fa-expired', 'fa-verifier', 'fa-tenant', 'fa-nonce'])
    h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: `${name}@contoso.example` });
});
afterAll(async () => {
  await h?.close();
});

interface Attempt {
  name: string;
  email: string;
  /** expected data-outcome of the result page */
  outcome: string;
  run(orgId: string, userId: string): Promise<{ statusCode: number; body: string }>;
}

const attempts: Attempt[] = [
  {
    name: 'replayed state',
    email: 'fa-replay@contoso.example',
    outcome: 'state-replayed',
    async run(orgId, userId) {
      const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
      const callback = await authorizeAtMicrosoft(authorizeUrl);
      const first = await deliverCallback(h, callback, cookie);
      expect(outcomeOf(first)).toBe('signed-in');
      // Undo the legitimate binding so that "nothing bound" is about the replay alone.
      await h.pool.query(`UPDATE mailboxes SET state = 'awaiting-user-login', smtp_address = NULL, signed_in_at = NULL WHERE user_id = $1`, [userId]);
      h.enqueued.length = 0;
      return deliverCallback(h, callback, cookie);
    },
  },
  {
    name: 'expired state',
    email: 'fa-expired@contoso.example',
    outcome: 'state-expired',
    async run(orgId, userId) {
      const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
      const callback = await authorizeAtMicrosoft(authorizeUrl);
      await h.pool.query(`UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state = $1`, [authorizeUrl.searchParams.get('state')]);
      return deliverCallback(h, callback, cookie);
    },
  },
  {
    name: 'wrong code_verifier',
    email: 'fa-verifier@contoso.example',
    outcome: 'code-rejected',
    async run(orgId, userId) {
      const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
      authorizeUrl.searchParams.set('code_challenge', s256('a verifier exsync does not hold'));
      return deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    },
  },
  {
    name: 'id token from another tenant',
    email: 'fa-tenant@contoso.example',
    outcome: 'wrong-tenant',
    async run(orgId, userId) {
      const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
      const callback = await authorizeAtMicrosoft(authorizeUrl);
      h.sim.setTidOverride(OTHER_TENANT);
      try {
        return await deliverCallback(h, callback, cookie);
      } finally {
        h.sim.setTidOverride(undefined);
      }
    },
  },
  {
    name: 'mismatched nonce',
    email: 'fa-nonce@contoso.example',
    outcome: 'code-rejected',
    async run(orgId, userId) {
      const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
      authorizeUrl.searchParams.set('nonce', s256('another browser'));
      return deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    },
  },
];

describe('OAuth abuse', () => {
  it('refuses replayed and expired state, a wrong verifier, another tenant and a foreign nonce; nothing bound', async () => {
    await measure('OAuth abuse (replay, expired state, verifier, tenant, nonce)', async (setFigure) => {
      const refused: string[] = [];
      const bodies: string[] = [];
      let bound = 0;
      for (const a of attempts) {
        const { orgId, userId, mailboxId } = await orgWithUser(h, { email: a.email });
        h.enqueued.length = 0;
        const res = await a.run(orgId, userId);
        bodies.push(res.body);
        const mb = await mailboxRow(h, userId);
        const nothingBound =
          mb.state === 'awaiting-user-login' &&
          mb.smtp_address === null &&
          mb.signed_in_at === null &&
          mb.refresh_token_enc === null &&
          !h.enqueued.includes(mailboxId);
        if (!nothingBound) bound++;
        // A clear page: a 4xx HTML page that names the outcome.
        if (res.statusCode >= 400 && res.statusCode < 500 && outcomeOf(res as never) === a.outcome && /<html/i.test(res.body)) refused.push(a.name);
      }
      setFigure(`${refused.length}/${attempts.length} refused with a page naming the outcome, ${bound} mailboxes bound`);
      expect(refused).toEqual(attempts.map((a) => a.name));
      expect(bound).toBe(0);

      const texts = [...bodies, ...h.logs];
      const hits = secretHits(texts, [DEFAULT_SEED.clientSecret]);
      await measure('secrets (sign-in pages and API log)', async (set) => {
        set(`${texts.length} pages and log lines scanned: ${hits.length} hits`);
        expect(hits).toEqual([]);
      });
    });
  }, 120_000);
});
