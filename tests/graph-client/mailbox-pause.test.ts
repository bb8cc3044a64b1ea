import { afterEach, describe, expect, it, vi } from 'vitest';
import { Semaphore } from '@exsync/graph-client';

/**
 * The mailbox's pause after a Retry-After (GRAPH-NOTES "Limits": early retries count too): every
 * request started through the mailbox's semaphore waits for it, not only the one that was throttled.
 * Fake timers: this checks the order of events, not real time.
 */
describe('Semaphore.pauseFor', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds back every caller until the pause ends; a shorter pause never shortens it', async () => {
    vi.useFakeTimers();
    const s = new Semaphore(4);
    const ran: string[] = [];
    s.pauseFor(1000);
    const a = s.run(1, async () => ran.push('a'));
    const b = s.run(3, async () => ran.push('b'));
    s.pauseFor(10);
    await vi.advanceTimersByTimeAsync(999);
    expect(ran).toEqual([]);
    // a longer pause set while they wait moves the end
    s.pauseFor(500);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    await Promise.all([a, b]);
    expect(ran.sort()).toEqual(['a', 'b']);
  });

  it('does not delay callers when no pause is set or it has passed', async () => {
    vi.useFakeTimers();
    const s = new Semaphore(1);
    s.pauseFor(0);
    s.pauseFor(-5);
    await expect(s.run(1, async () => 'now')).resolves.toBe('now');
    s.pauseFor(100);
    await vi.advanceTimersByTimeAsync(100);
    await expect(s.run(1, async () => 'after')).resolves.toBe('after');
  });
});
