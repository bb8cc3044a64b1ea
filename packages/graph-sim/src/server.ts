import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, type RequestLogEntry } from '@exsync/ews-sim';
import type { GraphTokenChecker } from './auth';
import { runBatch } from './batch';
import type { GraphDeps, GraphRequest, GraphResponse } from './context';
import { errors, GraphError, graphErrorBody } from './errors';
import { HTML_ERROR_PAGE, pickGraphFault, sleep, throttled } from './graphFaults';
import { prepare, type Prepared } from './router';

export interface ServerDeps extends GraphDeps {
  tokens: GraphTokenChecker;
  /** Delay of every answer, in ms (on top of the fault latency), held inside the concurrency slot. */
  baseLatencyMs: number;
  /** Responses held open by the hang fault, so close() can end them. */
  hung: Set<ServerResponse>;
  /** Serves the shared control API (`/_sim/`) on this port too. */
  handleControl: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function errorResponse(e: unknown, requestId: string, clientRequestId: string | undefined): GraphResponse {
  const g = e instanceof GraphError ? e : new GraphError(500, 'InternalServerError', 'An internal server error occurred.');
  return { status: g.status, headers: g.headers, body: graphErrorBody(g.code, g.message, requestId, clientRequestId) };
}

/** `prepare` as a value: the prepared call, or the refusal to answer with. */
function tryPrepare(deps: GraphDeps, req: GraphRequest): Prepared | { error: unknown } {
  try {
    return prepare(deps, req);
  } catch (error) {
    return { error };
  }
}

/**
 * Runs one prepared call inside its mailbox's concurrency slot: the slot is held across the answer's
 * latency, so concurrent clients meet the limit as they would against Outlook. Inside a $batch the
 * "busy per item" fault answers that request 429.
 */
async function execute(
  deps: ServerDeps,
  req: GraphRequest,
  p: Prepared | { error: unknown },
  entry: RequestLogEntry,
  latencyMs: number,
  inBatch: boolean,
): Promise<GraphResponse> {
  const requestId = randomUUID();
  try {
    if ('error' in p) throw p.error;
    entry.mailbox = p.mb.email;
    entry.operation = inBatch ? `$batch ${p.name}` : p.name;
    entry.inFlight = deps.concurrency.current(req.principal.appId, p.mb.email) + 1;
    const release = deps.concurrency.acquire(req.principal.appId, p.mb.email);
    try {
      const config = deps.faults.effective(p.mb.email);
      await sleep(latencyMs);
      if (inBatch && deps.faults.rollItemBusy(config)) throw throttled(config);
      const res = p.run();
      refuseUnreadableItem(deps, req, p.mb.email, res);
      res.headers['request-id'] ??= requestId;
      return res;
    } finally {
      release();
    }
  } catch (e) {
    if (!(e instanceof GraphError)) deps.requestLog.noteError(entry, e);
    return errorResponse(e, requestId, req.headers['client-request-id']);
  }
}

/**
 * The shared per-item refusal (`PUT /_sim/mailboxes/:email/item-faults`) on reads, as EWS's GetItem
 * honours it: a GET answering one item whose text contains the refusal's mark is answered 400 with
 * the refusal's code instead (an item Exchange cannot read), inside a `$batch` too, while the rest
 * of the batch succeeds. Listings (delta rounds: `value`) are never refused.
 */
function refuseUnreadableItem(deps: ServerDeps, req: GraphRequest, mailbox: string, res: GraphResponse): void {
  if (req.method !== 'GET' || res.status !== 200) return;
  const body = res.body as { id?: unknown; value?: unknown } | undefined;
  if (!body || typeof body !== 'object' || typeof body.id !== 'string' || 'value' in body) return;
  const refusal = deps.faults.itemRefusal(mailbox, () => [JSON.stringify(body)]);
  if (refusal) throw new GraphError(400, refusal.code, 'The item cannot be read.');
}

/** Builds the internal request from the wire: version check, JSON body, token, headers. */
async function readRequest(deps: ServerDeps, req: IncomingMessage, url: URL): Promise<GraphRequest> {
  const raw = await readBody(req, MAX_BODY, () => new GraphError(413, 'RequestEntityTooLarge', 'The request body is too large.'));
  if (!url.pathname.startsWith('/v1.0/')) throw new GraphError(400, 'BadRequest', `Invalid version: ${url.pathname.split('/')[1] ?? ''}`);
  let body: unknown;
  if (raw.trim()) {
    try {
      body = JSON.parse(raw);
    } catch {
      throw errors.badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    }
  }
  const principal = await deps.tokens.check(req.headers.authorization, (tid) => deps.store.tenants.has(tid));
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname.slice('/v1.0'.length),
    query: url.searchParams,
    headers,
    body,
    principal,
    baseUrl: `http://${req.headers.host ?? 'localhost'}/v1.0`,
  };
}

/**
 * Handles one HTTP request to the Graph simulator, from the first byte to the last: `/_sim/` goes to
 * the shared control API; `/v1.0/...` is authenticated, then meets the shared faults (the mailbox's,
 * else the global ones; a $batch meets the global ones), then runs.
 */
export async function handleGraph(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://graph');
  if (url.pathname.startsWith('/_sim/')) {
    await deps.handleControl(req, res);
    return;
  }
  const entry = deps.requestLog.start({ impersonation: false, anchorMailbox: undefined, protocol: 'graph' });
  const requestId = randomUUID();
  const clientRequestId = header(req, 'client-request-id');
  const send = (r: GraphResponse) => {
    const headers: Record<string, string> = { 'request-id': requestId, 'client-request-id': clientRequestId ?? requestId, ...r.headers };
    let text = '';
    if (r.body !== undefined && r.status !== 204) {
      text = JSON.stringify(r.body);
      headers['Content-Type'] ??= JSON_TYPE;
    }
    headers['Content-Length'] = String(Buffer.byteLength(text));
    res.writeHead(r.status, headers);
    res.end(text);
    noteRetryAfter(entry, r);
    deps.requestLog.finish(entry, r.status);
  };
  try {
    const graphReq = await readRequest(deps, req, url);
    const isBatch = graphReq.path.toLowerCase() === '/$batch';
    const prepared = isBatch ? undefined : tryPrepare(deps, graphReq);
    if (prepared && 'mb' in prepared) {
      // logged under its mailbox even when a fault answers it before it runs
      entry.mailbox = prepared.mb.email;
      entry.operation = prepared.name;
    }
    const config = deps.faults.effective(prepared && 'mb' in prepared ? prepared.mb.email : undefined);
    const fault = pickGraphFault(deps.faults, config);
    if (fault?.kind === 'reset') {
      deps.requestLog.finish(entry, 0, 'reset');
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      deps.hung.add(res);
      res.on('close', () => {
        deps.hung.delete(res);
        deps.requestLog.finish(entry, 0, 'hang');
      });
      return;
    }
    if (fault?.kind === 'error') {
      send(errorResponse(fault.error, requestId, clientRequestId));
      return;
    }
    let answer: GraphResponse;
    if (isBatch) {
      if (graphReq.method !== 'POST') throw errors.methodNotAllowed();
      entry.operation = 'POST $batch';
      if (config.latencyMs > 0) await sleep(config.latencyMs);
      answer = await runBatch(graphReq, async (inner) => {
        const innerEntry = deps.requestLog.start({ impersonation: false, anchorMailbox: undefined, protocol: 'graph' });
        innerEntry.batchSeq = entry.seq;
        const p = tryPrepare(deps, inner);
        const latency = deps.baseLatencyMs + ('mb' in p ? deps.faults.effective(p.mb.email).latencyMs : 0);
        const r = await execute(deps, inner, p, innerEntry, latency, true);
        noteRetryAfter(innerEntry, r);
        deps.requestLog.finish(innerEntry, r.status);
        return r;
      });
    } else {
      answer = await execute(deps, graphReq, prepared!, entry, deps.baseLatencyMs + config.latencyMs, false);
    }
    if (fault?.kind === 'malformed') {
      const html = deps.faults.nextMalformedIsHtml();
      const full = JSON.stringify(answer.body ?? {});
      const text = html ? HTML_ERROR_PAGE : full.slice(0, Math.max(1, Math.floor(full.length / 2)));
      res.writeHead(html ? 500 : 200, {
        'Content-Type': html ? 'text/html; charset=utf-8' : JSON_TYPE,
        'Content-Length': String(Buffer.byteLength(text)),
        'request-id': requestId,
      });
      res.end(text);
      deps.requestLog.finish(entry, html ? 500 : 200);
      return;
    }
    send(answer);
  } catch (e) {
    send(errorResponse(e, requestId, clientRequestId));
  }
}

function noteRetryAfter(entry: RequestLogEntry, r: GraphResponse): void {
  const v = r.headers['Retry-After'] ?? r.headers['retry-after'];
  if (v !== undefined) entry.retryAfter = v;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
