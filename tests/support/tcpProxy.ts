/**
 * A small TCP proxy for "restart" tests: put it in front of Postgres or Redis and drop every open
 * connection mid-run (optionally refusing new ones for a while), without touching the real servers
 * other test runs share.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  /** the port on 127.0.0.1 clients connect to */
  port: number;
  /** connections accepted so far */
  readonly accepted: number;
  /** connections cut by dropAll so far */
  readonly dropped: number;
  /** destroys every open connection; new ones are cut at once for `downMs` (a server restarting) */
  dropAll(downMs?: number): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let dropped = 0;
  let downUntil = 0;
  const server = createServer((client) => {
    if (Date.now() < downUntil) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect({ host: targetHost, port: targetPort });
    open.add(client);
    open.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get dropped() {
      return dropped;
    },
    dropAll(downMs = 0) {
      downUntil = Date.now() + downMs;
      const n = open.size / 2;
      for (const s of [...open]) s.destroy();
      open.clear();
      dropped += n;
      return n;
    },
    async close() {
      for (const s of open) s.destroy();
      open.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
