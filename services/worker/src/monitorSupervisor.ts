import type pg from 'pg';
import { endpointPolicyOf, type Config } from '@exsync/config';
import { getExchangeSettings, guardCheckedOutClient, listRunnableMonitoredMailboxes, tryLockMonitorSession, type SecretBox } from '@exsync/db';
import { runMonitorSession, type MonitorCheckpoint, type MonitorLogger } from '@exsync/mailbox-monitor';

export interface MonitorSupervisorOptions {
  config: Config;
  pool: pg.Pool;
  secretBox: SecretBox;
  log: MonitorLogger;
  /** how often to look for mailboxes to start or stop (ms); default the poll interval */
  scanMs?: number;
  checkpoint?: (point: MonitorCheckpoint) => void;
}

export interface MonitorSupervisor {
  /** mailbox ids this process holds a session for */
  running(): string[];
  stop(): Promise<void>;
}

/**
 * Keeps one IMAP session per runnable monitored mailbox (enabled, with a grant, not waiting for a
 * sign-in) across every worker process: a session starts only under a Postgres session-level
 * advisory lock on a dedicated connection, so two workers never read the same mailbox, and a
 * killed worker's locks go with its connections at once. Scans every `scanMs`.
 */
export function startMonitorSupervisor(opts: MonitorSupervisorOptions): MonitorSupervisor {
  const { config, pool } = opts;
  const sessions = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let stopped = false;
  const scanMs = opts.scanMs ?? config.monitorPollSeconds * 1000;

  const deps = {
    pool,
    secretBox: opts.secretBox,
    log: opts.log,
    pollSeconds: config.monitorPollSeconds,
    endpointPolicy: endpointPolicyOf(config),
    exchangeAuthorityHost: async (orgId: string) => (await getExchangeSettings(pool, orgId))?.authorityHost,
    checkpoint: opts.checkpoint,
  };

  async function start(mailbox: { id: string; orgId: string }): Promise<void> {
    const client = await pool.connect();
    const guard = guardCheckedOutClient(client);
    let locked = false;
    try {
      locked = await tryLockMonitorSession(client, mailbox.id);
    } catch (err) {
      guard.markBroken(err as Error);
    }
    if (!locked || stopped) {
      // Unlocked or never locked: a session lock must not return to the pool.
      if (locked) guard.markBroken(new Error('stopping'));
      guard.release();
      return;
    }
    const abort = new AbortController();
    const done = runMonitorSession(deps, mailbox, abort.signal)
      .catch((err: Error) => opts.log.warn({ mailboxId: mailbox.id, err: err.message }, 'mailbox monitor session failed'))
      .finally(() => {
        sessions.delete(mailbox.id);
        // Closing the connection releases the advisory lock whatever state it is in.
        guard.markBroken(new Error('monitor session ended'));
        guard.release();
      });
    sessions.set(mailbox.id, { abort, done });
  }

  let scanning: Promise<void> = Promise.resolve();
  async function scan(): Promise<void> {
    if (stopped) return;
    try {
      const runnable = await listRunnableMonitoredMailboxes(pool);
      for (const m of runnable) {
        if (stopped) return;
        if (!sessions.has(m.id)) await start(m);
      }
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'mailbox monitor scan failed');
    }
  }
  const timer = setInterval(() => {
    scanning = scanning.then(scan);
  }, scanMs);
  scanning = scan();

  return {
    running: () => [...sessions.keys()],
    async stop() {
      stopped = true;
      clearInterval(timer);
      await scanning;
      for (const s of sessions.values()) s.abort.abort();
      await Promise.all([...sessions.values()].map((s) => s.done));
    },
  };
}
