import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { XMLParser } from 'fast-xml-parser';
import { classifyEwsError, errorFromAuthStatus, errorFromExchangeCode, DEFAULT_THROTTLE_BACKOFF_MS } from './classifyEwsError';
import { AuthFailedError, EwsError, ThrottledError } from './errors';
import { currentEwsCall } from './ewsCallContext';
import type { EndpointPolicy } from '@exsync/config';
import { checkedLookup, defaultEndpointPolicy, DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_WIRE_BYTES, readBoundedBody, utf8Text } from './guardedHttp';

/**
 * The HTTP layer under ews-javascript-api (`service.XHRApi`). It exists because the library must
 * never see a response it cannot parse (EWS-NOTES: an HTML 500 page becomes an unhandled rejection
 * inside the library): every answer other than a well-formed SOAP 200 is turned into a typed
 * EwsError here, and the library only ever receives 200s with a complete SOAP envelope.
 */

export interface EwsExchangeRecord {
  clientRequestId: string;
  /** the SOAP operation (first element of the request's soap:Body, e.g. `SyncFolderItems`), or `unknown` */
  operation: string;
  /** Exchange's own `request-id` answer, for support tickets */
  requestId?: string;
  status?: number;
  durationMs: number;
  error?: EwsError;
}

export interface EwsTransportOptions {
  /** deadline for the whole exchange: connect, send, wait, and read the body */
  timeoutMs: number;
  /**
   * Called before every request: MSAL serves it from its cache, so a token is never stale by age.
   * `forceRefresh` comes once per request after EWS answered 401 to a token not yet expired.
   */
  getAccessToken: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  /** app-only: routes the request to the impersonated mailbox's server */
  anchorMailbox?: string;
  /** answers larger than this on the wire are refused instead of buffered (default 64 MiB) */
  maxResponseBytes?: number;
  /** answers larger than this once decompressed (gzip, deflate, br) are refused (default 64 MiB) */
  maxDecodedBytes?: number;
  /** which hosts and addresses EWS may be reached at (default: this process's EXSYNC_ALLOWED_HOSTS) */
  endpointPolicy?: EndpointPolicy;
  onExchange?: (record: EwsExchangeRecord) => void;
}

/** The response shape ews-javascript-api reads (a subset of XMLHttpRequest). */
export interface XhrLikeResponse {
  status: number;
  statusText: string;
  responseText: string;
  headers: http.IncomingHttpHeaders;
  getResponseHeader(name: string): string | null;
  getAllResponseHeaders(): string;
}

/** The request shape ews-javascript-api hands to `XHRApi.xhr` (IXHROptions). */
export interface XhrLikeRequest {
  type?: string;
  url: string;
  headers?: Record<string, string>;
  data?: string;
}

export class EwsTransport {
  readonly apiName = 'exsync-ews-transport';
  private readonly inFlight = new Set<http.ClientRequest>();

  constructor(private readonly opts: EwsTransportOptions) {
    if (!(opts.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  }

  async xhr(request: XhrLikeRequest): Promise<XhrLikeResponse> {
    const clientRequestId = randomUUID();
    const started = Date.now();
    const record = (r: Omit<EwsExchangeRecord, 'clientRequestId' | 'durationMs' | 'operation'>) => {
      if (r.requestId) currentEwsCall()?.requestIds.push(r.requestId);
      this.opts.onExchange?.({ clientRequestId, operation: soapOperation(request.data), durationMs: Date.now() - started, ...r });
    };
    try {
      let raw = await this.send(request, await this.token(), clientRequestId);
      let failure = validateResponse(raw);
      if (failure instanceof AuthFailedError && failure.reason === 'token-rejected') {
        // A token rejected before its expiry (signing keys rolled over, a stale shared cache entry)
        // is asked for once more past every cache; a 401 means EWS did not run the request.
        record({ requestId: headerOf(raw.headers, 'request-id'), status: raw.status, error: failure });
        raw = await this.send(request, await this.token({ forceRefresh: true }), clientRequestId);
        failure = validateResponse(raw);
      }
      const requestId = headerOf(raw.headers, 'request-id');
      if (failure) {
        record({ requestId, status: raw.status, error: failure });
        throw failure;
      }
      record({ requestId, status: raw.status });
      noteResponseErrors(raw.body);
      return toXhrResponse(raw);
    } catch (err) {
      const typed = classifyEwsError(err);
      if (!(err instanceof EwsError)) record({ error: typed });
      const ctx = currentEwsCall();
      if (ctx) ctx.transportError = typed;
      throw typed;
    }
  }

  private async token(opts?: { forceRefresh: true }): Promise<string> {
    const token = await withDeadline(this.opts.getAccessToken(opts), this.opts.timeoutMs, 'No access token');
    if (typeof token !== 'string' || !token) throw new EwsError('Permanent', 'The token getter returned no token', { code: 'NoToken' });
    return token;
  }

  xhrStream(): Promise<never> {
    return Promise.reject(new EwsError('Permanent', 'Streaming notifications are not used by exsync', { code: 'NotSupported' }));
  }

  /** Aborts every request in flight (the library calls this for hanging requests only). */
  disconnect(): void {
    for (const req of this.inFlight) req.destroy(new EwsError('Transient', 'Request aborted by disconnect', { code: 'Aborted' }));
  }

  private async send(request: XhrLikeRequest, token: string, clientRequestId: string): Promise<RawResponse> {
    const url = new URL(request.url);
    const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!lib) throw new EwsError('Permanent', `Unsupported EWS URL scheme ${url.protocol}`, { code: 'BadUrl' });
    // The policy is checked when connecting, not only when the URL was saved: nothing (not even the
    // token) is sent to a host or address the operator does not allow.
    const lookup = await withDeadline(
      checkedLookup(this.opts.endpointPolicy ?? defaultEndpointPolicy(), 'ews', 'ewsUrl', url),
      this.opts.timeoutMs,
      'EWS host not resolved',
    );
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers ?? {})) {
      // the library's own auth and request-id headers are replaced below
      const lower = k.toLowerCase();
      if (lower === 'authorization' || lower === 'client-request-id' || lower === 'return-client-request-id') continue;
      headers[k] = String(v);
    }
    headers['Authorization'] = `Bearer ${token}`;
    headers['client-request-id'] = clientRequestId;
    headers['return-client-request-id'] = 'true';
    if (this.opts.anchorMailbox) headers['X-AnchorMailbox'] = this.opts.anchorMailbox;
    const body = Buffer.from(request.data ?? '', 'utf8');
    headers['Content-Length'] = String(body.length);
    const limits = {
      maxWireBytes: this.opts.maxResponseBytes ?? DEFAULT_MAX_WIRE_BYTES,
      maxDecodedBytes: this.opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES,
    };

    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: EwsError | undefined, value?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        if (err) reject(err);
        else resolve(value!);
      };
      let responded = false;
      const req = lib.request(url, { method: request.type ?? 'POST', headers, lookup }, (res) => {
        // From here the body reader settles the exchange (it listens for every way a body ends).
        responded = true;
        readBoundedBody(res, limits, 'EWS').then(
          (buf) => {
            try {
              finish(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: utf8Text(buf, 'EWS') });
            } catch (e) {
              finish(e as EwsError);
            }
          },
          (e: EwsError) => finish(e),
        );
      });
      this.inFlight.add(req);
      const timer = setTimeout(() => {
        const timeout = new EwsError('Transient', `EWS did not answer within ${this.opts.timeoutMs} ms`, { code: 'Timeout' });
        finish(timeout);
        req.destroy(timeout);
      }, this.opts.timeoutMs);
      req.on('error', (e) => {
        if (!responded) finish(networkError(e));
      });
      req.end(body);
    });
  }
}

/** A hung token endpoint must not hang the mailbox job: MSAL's own network calls have no deadline. */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EwsError('Transient', `${what} within ${ms} ms`, { code: 'Timeout' })), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

interface RawResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function networkError(e: unknown): EwsError {
  if (e instanceof EwsError) return e;
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new EwsError('Transient', `EWS connection failed: ${msg}`, { code: typeof code === 'string' ? code : 'ConnectionFailed', cause: e });
}

function headerOf(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A cheap structural check: the whole 440 KB page is parsed again by the library right after. */
export function looksLikeCompleteSoap(body: string): boolean {
  const head = body.trimStart().slice(0, 512);
  if (!head.startsWith('<')) return false;
  if (!/<([\w.-]+:)?Envelope[\s>]/.test(body.slice(0, 4096))) return false;
  return /<\/([\w.-]+:)?Envelope>\s*$/.test(body.slice(-512));
}

/** The typed error for any answer the library must not see, or undefined for a usable SOAP 200. */
export function validateResponse(r: RawResponse): EwsError | undefined {
  const soap = looksLikeCompleteSoap(r.body);
  const diagnostics = headerOf(r.headers, 'x-ms-diagnostics');
  const policyReason = headerOf(r.headers, 'x-ews-policy-reason');
  if (r.status === 403 && policyReason !== undefined) return errorFromAuthStatus(403, diagnostics, policyReason);
  if (r.status === 200) {
    if (soap) {
      // some front ends answer a fault with 200; the library would not recognise it as one
      if (/<([\w.-]+:)?Fault[\s>]/.test(r.body.slice(0, 4096))) {
        const fault = parseSoapFault(r.body);
        if (fault) return errorFromExchangeCode({ ...fault, httpStatus: 200 });
      }
      return undefined;
    }
    return new EwsError(
      'Transient',
      r.body.trim() ? 'EWS answered HTTP 200 with a body that is not a complete SOAP envelope' : 'EWS answered HTTP 200 with an empty body',
      {
        code: 'MalformedResponse',
        httpStatus: 200,
      },
    );
  }
  if ((r.status === 500 || r.status === 403 || r.status === 400) && soap) {
    const fault = parseSoapFault(r.body);
    if (fault) return errorFromExchangeCode({ ...fault, httpStatus: r.status });
  }
  if (r.status === 401 || r.status === 403) return errorFromAuthStatus(r.status, diagnostics);
  if (r.status === 429 || r.status === 503) {
    const backoffMs = retryAfterMs(headerOf(r.headers, 'retry-after')) ?? DEFAULT_THROTTLE_BACKOFF_MS;
    return new ThrottledError(backoffMs, `EWS is throttling or unavailable (HTTP ${r.status})${diagnostics ? `: ${diagnostics}` : ''}`, {
      code: String(r.status),
      httpStatus: r.status,
    });
  }
  if (r.status >= 500) {
    const what = soap
      ? 'a SOAP body without a fault'
      : r.body.trim()
        ? `a non-SOAP body (${headerOf(r.headers, 'content-type') ?? 'no content type'})`
        : 'an empty body';
    return new EwsError('Transient', `EWS answered HTTP ${r.status} with ${what}`, { code: String(r.status), httpStatus: r.status });
  }
  return new EwsError('Permanent', `EWS answered HTTP ${r.status} ${r.statusText}`.trim(), { code: String(r.status), httpStatus: r.status });
}

/** Retry-After as delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const faultParser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: true,
});

interface ParsedFault {
  code: string;
  message: string;
  backoffMs?: number;
}

/** Exchange's SOAP fault: faultcode `a:<Code>`, detail/ResponseCode, Message, MessageXml values. */
export function parseSoapFault(body: string): ParsedFault | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = faultParser.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const envelope = doc['Envelope'] as Record<string, unknown> | undefined;
  const faultNode = (envelope?.['Body'] as Record<string, unknown> | undefined)?.['Fault'] as Record<string, unknown> | undefined;
  if (!faultNode) return undefined;
  const detail = (faultNode['detail'] ?? {}) as Record<string, unknown>;
  const faultcode = textOf(faultNode['faultcode']);
  const code = textOf(detail['ResponseCode']) || faultcode.replace(/^.*:/, '') || 'ErrorInternalServerError';
  const message = textOf(detail['Message']) || textOf(faultNode['faultstring']);
  return { code, message, backoffMs: backoffFromMessageXml(detail['MessageXml']) };
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return String((v as Record<string, unknown>)['#text']).trim();
  return '';
}

function backoffFromMessageXml(node: unknown): number | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const values = (node as Record<string, unknown>)['Value'];
  for (const v of Array.isArray(values) ? values : [values]) {
    if (v && typeof v === 'object' && (v as Record<string, unknown>)['@_Name'] === 'BackOffMilliseconds') {
      const n = Number(textOf(v));
      if (Number.isFinite(n)) return n;
    }
  }
  return undefined;
}

const ERROR_MESSAGE_RE = /<(?:[\w.-]+:)?(\w+ResponseMessage)\b[^>]*\bResponseClass="Error"[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?\1>/g;

/**
 * Records the ResponseClass="Error" messages of a 200 answer. The library loses the real code when
 * a batch of N is answered with a single error message; the session reads it from here instead.
 */
function noteResponseErrors(body: string): void {
  const ctx = currentEwsCall();
  if (!ctx) return;
  ctx.responseErrors = [];
  if (!body.includes('ResponseClass="Error"')) return;
  for (const m of body.matchAll(ERROR_MESSAGE_RE)) {
    const inner = m[2] ?? '';
    const code = /<(?:[\w.-]+:)?ResponseCode>\s*([^<\s]+)\s*</.exec(inner)?.[1] ?? 'ErrorInternalServerError';
    const message = /<(?:[\w.-]+:)?MessageText>([^<]*)</.exec(inner)?.[1]?.trim() ?? '';
    const backoff = /Name="BackOffMilliseconds"[^>]*>\s*(\d+)\s*</.exec(inner)?.[1];
    ctx.responseErrors.push({ code, message, backoffMs: backoff === undefined ? undefined : Number(backoff) });
  }
}

function toXhrResponse(raw: RawResponse): XhrLikeResponse {
  return {
    status: raw.status,
    statusText: raw.statusText,
    responseText: raw.body,
    headers: raw.headers,
    getResponseHeader: (name: string) => headerOf(raw.headers, name) ?? null,
    getAllResponseHeaders: () =>
      Object.entries(raw.headers)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
        .join('\r\n'),
  };
}

/** The SOAP operation of a request envelope: the local name of the soap:Body's first child. */
export function soapOperation(envelope: string | undefined): string {
  const m = envelope ? /<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)/.exec(envelope) : null;
  return m ? m[1] : 'unknown';
}
