import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createTokenChecker } from './auth';
import { handleControl } from './controlApi';
import { handleEws } from './ewsHandler';
import { Faults } from './faults';
import { RequestLog } from './requestLog';
import { SimStore } from './simStore';

export interface EwsSimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The Entra simulator's `<entraUrl>/common/discovery/v2.0/keys`. */
  jwksUrl: string;
  /** Delay added to every EWS answer, in ms. */
  latencyMs?: number;
  /** Seed of the fault dice. */
  faultSeed?: number;
  /** More `/_sim/` routes served by another simulator (the mail servers); answers false for paths it does not know. */
  controlExtension?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

export interface EwsSim {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/EWS/Exchange.asmx` */
  ewsUrl: string;
  store: SimStore;
  requestLog: RequestLog;
  faults: Faults;
  close(): Promise<void>;
}

/** Starts the EWS simulator: SOAP on /EWS/Exchange.asmx, the JSON control API on /_sim/. */
export async function startEwsSim(opts: EwsSimOptions): Promise<EwsSim> {
  if (!opts.jwksUrl) throw new Error('startEwsSim: jwksUrl is required');
  const store = new SimStore();
  const faults = new Faults(opts.faultSeed ?? 1);
  const requestLog = new RequestLog();
  const hung = new Set<ServerResponse>();
  const tokens = createTokenChecker(opts.jwksUrl);
  const ewsDeps = { store, tokens, faults, requestLog, hung, baseLatencyMs: opts.latencyMs ?? 0, inFlight: new Map<string, { total: number; sync: number }>() };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.toLowerCase() === '/ews/exchange.asmx') {
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' });
        res.end();
        return;
      }
      void handleEws(ewsDeps, req, res);
      return;
    }
    if (path.startsWith('/_sim/')) {
      const builtIn = () => void handleControl({ store, faults, requestLog }, req, res);
      if (!opts.controlExtension) return builtIn();
      opts.controlExtension(req, res).then(
        (handled) => {
          if (!handled) builtIn();
        },
        () => {
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found');
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  const url = `http://${host}:${addr.port}`;
  return {
    url,
    ewsUrl: `${url}/EWS/Exchange.asmx`,
    store,
    requestLog,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        hung.clear();
        server.close(() => resolve());
      }),
  };
}

export { SimStore } from './simStore';
export type { AppointmentJson, ContactJson, ItemJson, ExtendedPropertyJson, RecurrenceJson } from './simStore';
export { Faults, NO_FAULTS } from './faults';
export type { FaultConfig } from './faults';
export { RequestLog } from './requestLog';
export type { RequestLogEntry } from './requestLog';
export { SYNC_OPERATIONS } from './operations';
export { knownTimeZones } from './timeZones';
export { seededRandom } from './seededRandom';
