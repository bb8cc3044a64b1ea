/**
 * The mailbox monitor's fault cases against the real servers: a session the server drops
 * (re-authenticates with a fresh token, misses nothing), a UIDVALIDITY change (re-reads without
 * duplicates), a revoked refresh token (that mailbox "needs-sign-in", the others go on), and a
 * server without IDLE (polling picks messages up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeMessage, startMonitorStack, waitFor, type MonitorStack } from '../support/monitor';

const ALICE = 'alice@contoso.example';
const BOB = 'bob@contoso.example';

function message(to: string, tag: string): Promise<Buffer> {
  return composeMessage({ from: 'sender@sender.example', to, subject: tag, messageId: `<${tag}@sender.example>`, text: `body ${tag}` });
}

async function subjectsOf(stack: MonitorStack, mailboxId: string): Promise<string[]> {
  return (await stack.feed()).filter((m) => m.mailboxId === mailboxId).map((m) => m.subject ?? '');
}

describe('mailbox monitor faults (Dovecot with IDLE)', () => {
  let stack: MonitorStack;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    // Tokens shorter than the refresh margin: every (re)connect refreshes, as after an expiry.
    stack = await startMonitorStack({ tokenLifetimeSeconds: 60 });
    alice = await stack.addMailbox(ALICE);
    bob = await stack.addMailbox(BOB);
    stack.startMonitor();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('re-authenticates with a fresh token after the server drops the session, missing nothing', async () => {
    await waitFor('alice connected', async () => (await stack.mailbox(alice)).state === 'idle');
    const before = stack.entra.stats.byGrantType.refresh_token ?? 0;
    const tags: string[] = [];
    let kicked = 0;
    for (let i = 0; i < 30; i++) {
      const tag = `drop-${i}`;
      tags.push(tag);
      await stack.mail.deliver(ALICE, await message(ALICE, tag));
      if (i % 10 === 5) {
        await waitFor('a session to drop', async () => (await stack.mailbox(alice)).state === 'idle');
        if (await stack.mail.dovecot.kick(ALICE)) kicked += 1;
      }
    }
    expect(kicked).toBe(3);
    const got = await waitFor(
      'all 30 read',
      async () => {
        const s = await subjectsOf(stack, alice);
        return s.length >= 30 ? s : undefined;
      },
      60_000,
      300,
    );
    expect(got).toEqual(tags);
    expect(stack.entra.stats.byGrantType.refresh_token ?? 0).toBeGreaterThan(before);
    await waitFor('inbox empty', async () => (await stack.mail.readFolder(ALICE, 'INBOX')).length === 0);
  });

  it('re-reads the folder after a UIDVALIDITY change without duplicates in the feed', async () => {
    await stack.stopMonitor();
    const old = await subjectsOf(stack, alice);
    // Messages already read come back into the folder (a rebuilt server), new ones arrive, and the
    // folder gets a new UIDVALIDITY.
    for (const tag of ['drop-0', 'drop-1', 'drop-2']) await stack.mail.deliver(ALICE, await message(ALICE, tag));
    for (const tag of ['uv-new-0', 'uv-new-1']) await stack.mail.deliver(ALICE, await message(ALICE, tag));
    await stack.mail.setUidValidity(ALICE, 'INBOX', 424242);
    stack.startMonitor();
    await waitFor('inbox emptied again', async () => (await stack.mail.readFolder(ALICE, 'INBOX')).length === 0, 30_000, 300);
    const now = await subjectsOf(stack, alice);
    expect(now).toEqual([...old, 'uv-new-0', 'uv-new-1']);
    expect(new Set(now).size).toBe(now.length);
  });

  it('puts a mailbox whose refresh token was revoked in "needs-sign-in" and leaves the others running', async () => {
    await waitFor('both connected', async () => (await stack.mailbox(alice)).state === 'idle' && (await stack.mailbox(bob)).state === 'idle');
    stack.entra.revokeRefreshTokens(ALICE);
    await stack.mail.dovecot.kick(ALICE); // the session ends as at a token expiry; the refresh is refused
    const state = await waitFor(
      'needs-sign-in',
      async () => {
        const m = await stack.mailbox(alice);
        return m.state === 'needs-sign-in' ? m : undefined;
      },
      30_000,
      200,
    );
    expect(state.stateMessage).toMatch(/sign in again/);
    await stack.mail.deliver(BOB, await message(BOB, 'bob-after-revoke'));
    await stack.mail.deliver(ALICE, await message(ALICE, 'alice-after-revoke'));
    await waitFor('bob still read', async () => (await subjectsOf(stack, bob)).includes('bob-after-revoke'), 30_000, 200);
    expect((await stack.mailbox(bob)).state).toBe('idle');
    expect(await subjectsOf(stack, alice)).not.toContain('alice-after-revoke');
    expect((await stack.mail.readFolder(ALICE, 'INBOX')).map((m) => m.subject)).toEqual(['alice-after-revoke']);
    // A new sign-in brings the mailbox back, and the waiting message is read.
    const { signIn } = await import('../support/monitor');
    expect(await signIn(stack, alice)).toBe('monitor-connected');
    await waitFor('alice read again', async () => (await subjectsOf(stack, alice)).includes('alice-after-revoke'), 30_000, 200);
  });
});

describe('mailbox monitor against a server without IDLE', () => {
  let stack: MonitorStack;
  beforeAll(async () => {
    stack = await startMonitorStack({ withoutIdle: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('polls and picks messages up', async () => {
    const id = await stack.addMailbox(ALICE);
    stack.startMonitor();
    const m = await waitFor('polling', async () => {
      const mb = await stack.mailbox(id);
      return mb.state === 'polling' ? mb : undefined;
    });
    expect(m.stateMessage).toMatch(/no IDLE/);
    for (const tag of ['poll-0', 'poll-1', 'poll-2']) await stack.mail.deliver(ALICE, await message(ALICE, tag));
    const got = await waitFor(
      'polled',
      async () => {
        const s = await subjectsOf(stack, id);
        return s.length === 3 ? s : undefined;
      },
      30_000,
      200,
    );
    expect(got).toEqual(['poll-0', 'poll-1', 'poll-2']);
  });
});
