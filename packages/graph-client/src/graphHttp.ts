import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { SyncError, type TransportRequestRecord } from '@exsync/canonical';
import type { EndpointPolicy } from '@exsync/config';
import { checkedLookup, defaultEndpointPolicy, DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_WIRE_BYTES, readBoundedBody, utf8Text } from '@exsync/http-guard';
import { Semaphore } from './concurrency';
import { errorFromGraph, retryAfterMs, DEFAULT_RETRY_AFTER_MS } from './graphErrors';

/**
 * The HTTP layer of the Graph transport: one JSON request (or one `$batch`) at a time per call,
 * with a fresh token, `Prefer: IdType="ImmutableId"` on every request (GRAPH-NOTES, "ids": never
 * switch id type within a delta chain), the endpoint policy checked when connecting and the body
 * read within caps (@exsync/http-guard), at most `maxConcurrent` requests in flight per mailbox,
 * and 429/503/504 waited out with Retry-After (also per response inside a `$batch`).
 */

export interface GraphHttpOptions {
  /** e.g. https://graph.microsoft.com/v1.0 (no trailing slash) */
  baseUrl: string;
  getAccessToken: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  semaphore: Semaphore;
  timeoutMs: number;
  endpointPolicy?: EndpointPolicy;
  maxResponseBytes?: number;
  /** throttled answers waited out (and retried) per request before the error is raised */
  maxThrottleRetries: number;
  /** a Retry-After longer than this is not waited out here: the caller gets Throttled */
  maxRetryWaitMs: number;
  /** called once per HTTP request made (metrics): its operation and status, none when no answer came */
  onRequest?: (record: TransportRequestRecord) => void;
}

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  /** parsed JSON, or undefined for an empty body */
  body: unknown;
}

export interface BatchRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** path under the version root, e.g. /users/a@b/events */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

const IMMUTABLE_ID = 'IdType="ImmutableId"';
/** Graph answers at most 20 requests per $batch (learn.microsoft.com/graph/json-batching). */
export const MAX_BATCH = 20;

export class GraphHttp {
  constructor(private readonly opts: GraphHttpOptions) {}

  /**
   * One request, retried after throttling; `pathOrUrl` is a path under the base or a full link Graph
   * gave; `permits` is how many of the mailbox's concurrency slots it holds while in flight.
   */
  async request(method: string, pathOrUrl: string, body?: unknown, headers: Record<string, string> = {}, permits = 1): Promise<GraphResponse> {
    const url = this.resolve(pathOrUrl);
    for (let attempt = 0; ; attempt++) {
      const res = await this.opts.semaphore.run(permits, () => this.sendWithToken(method, url, body, headers));
      const wait = this.throttleWait(res, method, headers, attempt);
      if (wait === undefined) return res;
      // the next attempt (and every other request of the mailbox) waits in the semaphore
      this.opts.semaphore.pauseFor(wait);
    }
  }

  /**
   * One `$batch` of at most MAX_BATCH requests; answers in request order. Inner 429/503/504 answers
   * are sent again (only those) after the longest Retry-After among them.
   */
  async batch(requests: BatchRequest[]): Promise<GraphResponse[]> {
    if (requests.length > MAX_BATCH) throw new RangeError(`at most ${MAX_BATCH} requests per $batch`);
    const out: (GraphResponse | undefined)[] = new Array(requests.length);
    let pending = requests.map((_, i) => i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const payload = { requests: pending.map((i) => ({ id: String(i), ...withPrefer(requests[i]) })) };
      // Outlook runs up to 4 of a batch at once, each in the mailbox's budget: the batch holds that many permits
      const res = await this.request('POST', '/$batch', payload, {}, pending.length);
      if (res.status !== 200) throw errorFromGraph(res.status, res.body, res.headers['retry-after']);
      const answers = parseBatchAnswers(res.body);
      let waitMs = 0;
      const again: number[] = [];
      for (const i of pending) {
        const a = answers.get(String(i));
        if (!a) {
          out[i] = { status: 502, headers: {}, body: { error: { code: 'MissingResponse', message: 'Graph left a request of the batch unanswered' } } };
          continue;
        }
        out[i] = a;
        const wait = this.throttleWait(a, requests[i].method, requests[i].headers ?? {}, attempt);
        if (wait !== undefined) {
          again.push(i);
          waitMs = Math.max(waitMs, wait);
        }
      }
      pending = again;
      // the resend (and every other request of the mailbox) waits in the semaphore
      this.opts.semaphore.pauseFor(waitMs);
    }
    return out as GraphResponse[];
  }

  /** ms to wait before sending again, or undefined when the answer stands (success or final error). */
  private throttleWait(res: GraphResponse, method: string, headers: Record<string, string>, attempt: number): number | undefined {
    const s = res.status;
    if (s !== 429 && s !== 503 && s !== 504) return undefined;
    // a Retry-After binds the mailbox whether or not this answer is retried here
    this.opts.semaphore.pauseFor(retryAfterMs(res.headers['retry-after']) ?? 0);
    // a 504 may hide a POST that ran: only a create with a transactionId is safe to repeat, and
    // the caller decides that; 429 and 503 mean the request was not run
    if (s === 504 && method === 'POST' && !headers['x-exsync-idempotent']) return undefined;
    if (attempt >= this.opts.maxThrottleRetries) return undefined;
    const wait = retryAfterMs(res.headers['retry-after']) ?? (s === 504 ? 1000 : DEFAULT_RETRY_AFTER_MS);
    return wait <= this.opts.maxRetryWaitMs ? wait : undefined;
  }

  private resolve(pathOrUrl: string): URL {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const u = new URL(pathOrUrl);
      const base = new URL(this.opts.baseUrl);
      // a nextLink/deltaLink is followed only on the host the organisation configured
      if (u.origin !== base.origin) throw new SyncError('Permanent', 'Graph returned a link to another host', { code: 'UnexpectedLink' });
      return u;
    }
    return new URL(this.opts.baseUrl + pathOrUrl);
  }

  private async sendWithToken(method: string, url: URL, body: unknown, headers: Record<string, string>): Promise<GraphResponse> {
    let res = await this.send(method, url, body, headers, await this.token());
    // a token refused before its expiry (keys rolled over, stale cache) is asked for once more
    if (res.status === 401) res = await this.send(method, url, body, headers, await this.token(true));
    return res;
  }

  private async token(forceRefresh?: boolean): Promise<string> {
    const t = await this.opts.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    if (typeof t !== 'string' || !t) throw new SyncError('Permanent', 'The token getter returned no token', { code: 'NoToken' });
    return t;
  }

  private async send(method: string, url: URL, body: unknown, extra: Record<string, string>, token: string): Promise<GraphResponse> {
    const operation = graphOperation(method, url);
    try {
      const res = await this.sendOnce(method, url, body, extra, token);
      this.opts.onRequest?.({ operation, status: res.status });
      return res;
    } catch (e) {
      this.opts.onRequest?.({ operation });
      throw e;
    }
  }

  private async sendOnce(method: string, url: URL, body: unknown, extra: Record<string, string>, token: string): Promise<GraphResponse> {
    const lib = url.protocol === 'https:' ? https : http;
    const lookup = await checkedLookup(this.opts.endpointPolicy ?? defaultEndpointPolicy(), 'graph', 'graphUrl', url);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${token}`,
      'client-request-id': randomUUID(),
      'return-client-request-id': 'true',
    };
    for (const [k, v] of Object.entries(extra)) if (!k.startsWith('x-exsync-') && k.toLowerCase() !== 'prefer') headers[k] = v;
    headers['Prefer'] = [IMMUTABLE_ID, extra['Prefer'] ?? extra['prefer']].filter(Boolean).join(', ');
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const limits = {
      maxWireBytes: this.opts.maxResponseBytes ?? DEFAULT_MAX_WIRE_BYTES,
      maxDecodedBytes: this.opts.maxResponseBytes ?? DEFAULT_MAX_DECODED_BYTES,
    };
    return new Promise<GraphResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, value?: GraphResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value!);
      };
      let responded = false;
      const req = lib.request(url, { method, headers, lookup }, (res) => {
        responded = true;
        readBoundedBody(res, limits, 'Graph').then((buf) => {
          try {
            const status = res.statusCode ?? 0;
            const hdrs: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) hdrs[k] = Array.isArray(v) ? v.join(', ') : v;
            finish(undefined, { status, headers: hdrs, body: parseJson(utf8Text(buf, 'Graph'), status) });
          } catch (e) {
            finish(e);
          }
        }, finish);
      });
      const timer = setTimeout(() => {
        const e = new SyncError('Transient', `Graph did not answer within ${this.opts.timeoutMs} ms`, { code: 'Timeout' });
        finish(e);
        req.destroy(e);
      }, this.opts.timeoutMs);
      req.on('error', (e) => {
        if (responded) return;
        const code = (e as { code?: unknown }).code;
        finish(
          e instanceof SyncError
            ? e
            : new SyncError('Transient', `Graph connection failed: ${e.message}`, { code: typeof code === 'string' ? code : 'ConnectionFailed', cause: e }),
        );
      });
      req.end(payload);
    });
  }
}

/**
 * A request's operation as metrics name it: the method and the resource path without ids or the
 * mailbox (`GET calendarView/delta`, `POST $batch`, `PATCH events`), so label values stay few.
 */
export function graphOperation(method: string, url: URL): string {
  const names = url.pathname
    .split('/')
    .map(decodeURIComponent)
    .filter((seg) => /^\$?[A-Za-z]{1,40}$/.test(seg) && !['v1.0', 'users', 'me'].includes(seg));
  return `${method} ${names.join('/') || '/'}`;
}

/** A JSON body, undefined when empty; a 2xx that is not JSON is a MalformedResponse (Transient). */
function parseJson(text: string, status: number): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    if (status >= 200 && status < 300) {
      throw new SyncError('Transient', `Graph answered HTTP ${status} with a body that is not JSON`, { code: 'MalformedResponse', httpStatus: status });
    }
    return undefined;
  }
}

function withPrefer(r: BatchRequest): BatchRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) if (!k.startsWith('x-exsync-')) headers[k] = v;
  headers['Prefer'] = IMMUTABLE_ID;
  if (r.body !== undefined) headers['Content-Type'] = 'application/json';
  return { ...r, headers };
}

/** The `responses` of a `$batch` answer by id; a shape that is not one is MalformedResponse. */
function parseBatchAnswers(body: unknown): Map<string, GraphResponse> {
  const responses = (body as { responses?: unknown } | undefined)?.responses;
  if (!Array.isArray(responses)) throw new SyncError('Transient', 'Graph answered $batch without a responses list', { code: 'MalformedResponse' });
  const out = new Map<string, GraphResponse>();
  for (const r of responses) {
    if (!r || typeof r !== 'object') continue;
    const { id, status, headers, body: b } = r as { id?: unknown; status?: unknown; headers?: unknown; body?: unknown };
    if (typeof id !== 'string' || typeof status !== 'number') continue;
    const hdrs: Record<string, string> = {};
    if (headers && typeof headers === 'object') {
      for (const [k, v] of Object.entries(headers as Record<string, unknown>)) if (typeof v === 'string') hdrs[k.toLowerCase()] = v;
    }
    out.set(id, { status, headers: hdrs, body: b });
  }
  return out;
}
