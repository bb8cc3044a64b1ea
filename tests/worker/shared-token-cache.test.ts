import { describe, expect, it } from 'vitest';
import { type Stack, useStack } from '../support/stack';

let stack: Stack;
useStack((s) => (stack = s));

describe('app-only tokens shared across worker processes', () => {
  it('a second worker with a cold in-process cache reuses the org token from Redis', async () => {
    const first = await stack.addUser();
    await stack.waitForRunAfter(first, new Date(0));
    const tokenRequests = stack.entra.stats.byGrantType.client_credentials ?? 0;
    expect(tokenRequests).toBe(1);

    // Replace the worker: the new one has its own AppTokenProvider, so only Redis can spare it a request.
    await stack.workers[0].close();
    await stack.startWorker({ scheduler: true, name: 'second' });
    const second = await stack.addUser();
    const status = await stack.waitForRunAfter(second, new Date(0));
    expect(status.state).toBe('healthy');
    expect(stack.entra.stats.byGrantType.client_credentials).toBe(tokenRequests);
  });
});
