import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createTokenChecker } from './auth';
import { handleControl, type ControlDeps, type ControlRoute } from './controlApi';
import { handleEws } from './ewsHandler';
import { Faults } from './faults';
import { listenHttp } from './httpIo';
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
  /**
   * Adds routes to the JSON control API under /_sim/ (used by the Graph simulator sharing this store);
   * `onReset` runs on `POST /_sim/reset`.
   */
  addControlRoutes(routes: ControlRoute[], onReset?: () => void): void;
  /** Answers one control-API request, so another server can serve the same /_sim/ API. */
  handleControl(req: IncomingMessage, res: ServerResponse): Promise<void>;
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
  const controlDeps: ControlDeps = { store, faults, requestLog, extraRoutes: [], resetHooks: [] };
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
      const builtIn = () => void handleControl(controlDeps, req, res);
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
  const { url, close } = await listenHttp(server, opts.port, opts.host);
  return {
    url,
    ewsUrl: `${url}/EWS/Exchange.asmx`,
    store,
    requestLog,
    faults,
    addControlRoutes: (routes, onReset) => {
      controlDeps.extraRoutes!.push(...routes);
      if (onReset) controlDeps.resetHooks!.push(onReset);
    },
    handleControl: (req, res) => handleControl(controlDeps, req, res),
    close: () => {
      hung.clear();
      return close();
    },
  };
}

export { SimStore } from './simStore';
export { SimClock } from './simClock';
export type { AppointmentJson, ContactJson, ItemJson, ExtendedPropertyJson, RecurrenceJson } from './simStore';
export { Faults, NO_FAULTS } from './faults';
export type { FaultConfig } from './faults';
export { RequestLog } from './requestLog';
export type { RequestLogEntry } from './requestLog';
export { knownTimeZones } from './timeZones';
export { seededRandom } from './seededRandom';

// Shared with the Graph simulator, which serves the same mailboxes over Microsoft Graph.
export { HttpJsonError } from './controlApi';
export type { ControlRoute, ControlDeps } from './controlApi';
export { extendedPropertyKey, DISTINGUISHED_PROPERTY_SETS } from './store';
export type { Mailbox, StoredItem, Folder, ItemKind, OccurrenceException, TenantPolicy } from './store';
export { seriesOccurrences, occurrenceAt, isoUtc, itemStart, itemEnd, refId, displayName, type ItemRef, type OccurrenceInfo } from './itemView';
export { snapAllDay } from './itemWrite';
export { parseOccurrenceId, newChangeKey } from './ids';
export { DAY_NAMES, formatXsDate, parseXsDate, type Recurrence, type Pattern, type Range } from './recurrence';
export { knownTimeZone, localToUtc, utcToLocal, UTC_ZONE, type TimeZoneDef } from './timeZones';
export { WINDOWS_TO_IANA } from './windowsZoneIds';
export { el, textEl, child, childText, type El } from './xml';
export { createBearerReader, type BearerRead } from './auth';
export { listenHttp, readBody } from './httpIo';
