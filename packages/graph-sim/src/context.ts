import type { Faults, Mailbox, RequestLog, SimStore } from '@exsync/ews-sim';
import type { GraphPrincipal, Need } from './auth';
import type { Preferences } from './prefer';
import type { GraphState } from './state';
import type { MailboxConcurrency } from './throttle';

/** Everything the Graph simulator shares with the EWS simulator, plus its own state. */
export interface GraphDeps {
  store: SimStore;
  state: GraphState;
  faults: Faults;
  requestLog: RequestLog;
  concurrency: MailboxConcurrency;
}

/** One Graph call, from the wire or from inside a $batch. `path` is after `/v1.0`, without the query. */
export interface GraphRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: unknown;
  principal: GraphPrincipal;
  /** `http://host:port/v1.0`, the base of every link the answer carries. */
  baseUrl: string;
}

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** What a route handler gets: the mailbox, the parsed preferences and the path parameters. */
export interface RouteContext {
  deps: GraphDeps;
  req: GraphRequest;
  mb: Mailbox;
  prefs: Preferences;
  params: string[];
}

export interface Route {
  method: string;
  /** Path segments after the user (`events`, `:id`, `instances`), matched case-insensitively. */
  pattern: string[];
  need: Need;
  /** Short name for the request log (`GET calendarView/delta`). */
  name: string;
  run: (ctx: RouteContext) => GraphResponse;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): GraphResponse {
  return { status, headers, body };
}
