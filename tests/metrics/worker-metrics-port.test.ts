import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack } from '../support/stack';
import { freePort } from '../support/freePort';

/** `npm run start:worker` alone serves its sync metrics on EXSYNC_WORKER_METRICS_PORT. */
let s: Stack;
beforeAll(async () => {
  s = await startStack({ worker: false });
});
afterAll(async () => {
  await s?.close();
});

describe('EXSYNC_WORKER_METRICS_PORT', () => {
  it('serves the sync metrics at /metrics and nothing else', async () => {
    const port = await freePort();
    const worker = s.spawnWorker({ EXSYNC_WORKER_METRICS_PORT: String(port) });
    const text = await waitFor(
      'the worker metrics endpoint',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        return res?.status === 200 ? res.text() : undefined;
      },
      30_000,
      200,
    );
    for (const name of [
      'exsync_sync_runs_total',
      'exsync_sync_items_total',
      'exsync_transport_requests_total',
      'exsync_due_mailboxes',
      'exsync_sync_queue_jobs',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect(await worker.kill('SIGTERM')).toBe(0);
  });
});
