/** The harness most issue-12 end-to-end tests share: a stack with one user whose first sync has run. */
import { afterAll, beforeAll } from 'vitest';
import { startStack, type Stack, type StackUser } from '../support/stack';

export interface UserStack {
  stack: Stack;
  user: StackUser;
  /** `/v1/orgs/:orgId/users/:userId` of that user */
  base: string;
}

/** Registers beforeAll/afterAll for the calling file; the fields are set once beforeAll has run. */
export function useUserStack(opts: { syncContacts?: boolean } = {}): UserStack {
  const t = {} as UserStack;
  beforeAll(async () => {
    t.stack = await startStack();
    t.user = await t.stack.addUser(opts);
    await t.stack.waitForRunAfter(t.user, new Date(0));
    t.base = `/v1/orgs/${t.stack.orgId}/users/${t.user.userId}`;
  }, 60_000);
  afterAll(async () => {
    await t.stack?.close();
  });
  return t;
}
