/**
 * Issue 13 point 1, the worker's side: a mailbox whose EWS endpoint answers every request with a
 * decompression bomb (gzip, deflate, br in turn) fails its run with ResponseTooLarge; the worker
 * process that ran it keeps working and syncs the mailbox again once the endpoint is fixed.
 * EXSYNC_MAX_RESPONSE_MB=2 keeps the bomb at 16 MiB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startStack, type Stack, type StackUser } from '../support/stack';
import { startBombServer, type BombEncoding } from '../support/hostileServers';

let stack: Stack;
let user: StackUser;

beforeAll(async () => {
  process.env.EXSYNC_MAX_RESPONSE_MB = '2';
  stack = await startStack();
  user = await stack.addUser({ syncCalendar: true, syncContacts: false });
  const first = await stack.syncNow(user);
  expect(first.state).toBe('healthy');
});

afterAll(async () => {
  await stack?.close();
});

async function pointEwsAt(ewsUrl: string): Promise<void> {
  const res = await stack.api('PATCH', `/v1/orgs/${stack.orgId}/exchange`, { ewsUrl, clientSecret: DEFAULT_SEED.clientSecret });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

describe('a decompression bomb on the EWS leg of a scheduled sync', () => {
  for (const encoding of ['gzip', 'deflate', 'br'] as BombEncoding[]) {
    it(`${encoding}: the run fails with ResponseTooLarge, the worker lives on and recovers after the fix`, async () => {
      let failedAt = 0;
      const bomb = await startBombServer(encoding, 16 * 1024 * 1024, 'text/xml; charset=utf-8');
      try {
        await pointEwsAt(`${bomb.url}/EWS/Exchange.asmx`);
        const failed = await stack.syncNow(user);
        expect(bomb.requests).toBeGreaterThan(0);
        expect(failed.lastError?.code).toBe('ResponseTooLarge');
        // a status is a promise: a failed run is never shown as healthy
        expect(failed.state).toBe('error');
        expect(Date.parse(failed.lastError.at)).toBeGreaterThanOrEqual(Date.parse(failed.lastStartedAt));
        failedAt = Date.parse(failed.lastError.at);
      } finally {
        await bomb.close();
      }
      await pointEwsAt(stack.ews.ewsUrl);
      const recovered = await stack.syncNow(user);
      expect(recovered.state).toBe('healthy');
      expect(Date.parse(recovered.lastSuccessAt)).toBeGreaterThan(failedAt);
    });
  }
});
