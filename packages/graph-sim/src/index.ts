import { createServer, type ServerResponse } from 'node:http';
import { listenHttp, type EwsSim } from '@exsync/ews-sim';
import { createGraphTokenChecker } from './auth';
import { graphControlRoutes } from './controlRoutes';
import { handleGraph, type ServerDeps } from './server';
import { GraphState } from './state';
import { MailboxConcurrency } from './throttle';

export interface GraphSimOptions {
  /** The EWS simulator whose mailboxes, faults and request log this one shares. */
  ews: EwsSim;
  /** The Entra simulator's `<entraUrl>/common/discovery/v2.0/keys`. */
  jwksUrl: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Delay of every answer in ms, held inside the mailbox's concurrency slot. */
  latencyMs?: number;
  /** Entra object ids of known users (`/users/{id}`), e.g. DEFAULT_SEED's. */
  users?: { oid: string; email: string }[];
}

export interface GraphSim {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/v1.0`, the base Graph clients are given. */
  graphUrl: string;
  state: GraphState;
  close(): Promise<void>;
}

/**
 * Starts the Microsoft Graph simulator over the EWS simulator's store: Graph v1.0 under /v1.0, the
 * shared control API under /_sim/ (the Graph routes are added to the EWS simulator's too).
 */
export async function startGraphSim(opts: GraphSimOptions): Promise<GraphSim> {
  if (!opts.jwksUrl) throw new Error('startGraphSim: jwksUrl is required');
  const state = new GraphState();
  for (const u of opts.users ?? []) state.userIds.set(u.oid.toLowerCase(), u.email.toLowerCase());
  opts.ews.addControlRoutes(graphControlRoutes(state), () => state.reset());
  const hung = new Set<ServerResponse>();
  const deps: ServerDeps = {
    store: opts.ews.store,
    faults: opts.ews.faults,
    requestLog: opts.ews.requestLog,
    state,
    concurrency: new MailboxConcurrency(),
    tokens: createGraphTokenChecker(opts.jwksUrl),
    baseLatencyMs: opts.latencyMs ?? 0,
    hung,
    handleControl: (req, res) => opts.ews.handleControl(req, res),
  };
  const server = createServer((req, res) => void handleGraph(deps, req, res));
  const { url, close } = await listenHttp(server, opts.port, opts.host);
  return {
    url,
    graphUrl: `${url}/v1.0`,
    state,
    close: () => {
      hung.clear();
      return close();
    },
  };
}

export { GraphState } from './state';
export type { MeetingMessage } from './state';
export { restId, ewsIdFromRest } from './ids';
export { MAILBOX_CONCURRENCY_LIMIT } from './throttle';
export { MAX_BATCH_REQUESTS } from './batch';
