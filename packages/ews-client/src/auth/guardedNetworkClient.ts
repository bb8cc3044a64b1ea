import * as http from 'node:http';
import * as https from 'node:https';
import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import type { EndpointPolicy } from '@exsync/config';
import { EwsError } from '../errors';
import { checkedLookup, readBoundedBody, utf8Text, type BodyLimits } from '../guardedHttp';

/**
 * MSAL's network client for every authority (replacing MSAL's fetch-based one, whose
 * `response.json()` inflates any gzip/deflate/br answer without a cap). Each request:
 * - goes only to a host the endpoint policy allows for `authority`, at an address checked when
 *   connecting (the token request carries the client secret);
 * - reads at most `limits` bytes on the wire and once decoded;
 * - optionally rewrites one https origin to an http one (`rewrite`: the simulator seam, see
 *   loopbackAuthority.ts), and nothing else.
 * Failures reach MSAL as AuthError: `endpoint_not_allowed` and `response_too_large` (which
 * classifyMsalError maps to permanent EwsErrors with the codes EndpointNotAllowed and
 * ResponseTooLarge), `network_error` and `token_parsing_error` otherwise.
 */
export interface GuardedNetworkClientOptions {
  policy: EndpointPolicy;
  limits?: Partial<BodyLimits>;
  /** `from` (https origin MSAL was given) is sent to `to` (the http origin of a local simulator) */
  rewrite?: { from: string; to: string };
  timeoutMs?: number;
}

/** Token, discovery and key answers are a few KB: 1 MiB is far beyond any real one. */
export const DEFAULT_TOKEN_LEG_MAX_BYTES = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 30_000;

/** MSAL error codes this client raises for the typed failures, and the EwsError codes they become. */
export const GUARDED_AUTH_ERROR_CODES: Readonly<Record<string, string>> = {
  endpoint_not_allowed: 'EndpointNotAllowed',
  response_too_large: 'ResponseTooLarge',
};

export class GuardedNetworkClient implements INetworkModule {
  private readonly limits: BodyLimits;

  constructor(private readonly opts: GuardedNetworkClientOptions) {
    this.limits = {
      maxWireBytes: opts.limits?.maxWireBytes ?? DEFAULT_TOKEN_LEG_MAX_BYTES,
      maxDecodedBytes: opts.limits?.maxDecodedBytes ?? DEFAULT_TOKEN_LEG_MAX_BYTES,
    };
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private target(url: string): URL {
    const rw = this.opts.rewrite;
    if (!rw) return new URL(url);
    if (url !== rw.from && !url.startsWith(`${rw.from}/`)) {
      // Only the configured authority is reachable through the seam.
      throw new AuthError('endpoint_not_allowed', `Refusing a request outside the configured authority: ${new URL(url).origin}`);
    }
    return new URL(rw.to + url.slice(rw.from.length));
  }

  private async send<T>(method: 'GET' | 'POST', rawUrl: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const url = this.target(rawUrl);
    const ms = timeout ?? this.opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    let lookup;
    try {
      lookup = await checkedLookup(this.opts.policy, 'authority', 'authorityHost', url);
    } catch (e) {
      throw asAuthError(e);
    }
    const lib = url.protocol === 'http:' ? http : https;
    const body = method === 'POST' ? Buffer.from(options?.body ?? '', 'utf8') : undefined;
    const headers: Record<string, string> = { ...(options?.headers ?? {}) };
    if (body) headers['content-length'] = String(body.length);

    const raw = await new Promise<{ status: number; headers: Record<string, string>; text: string }>((resolve, reject) => {
      let settled = false;
      let responded = false;
      const finish = (err: unknown, value?: { status: number; headers: Record<string, string>; text: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(asAuthError(err));
        else resolve(value!);
      };
      const req = lib.request(url, { method, headers, lookup }, (res) => {
        responded = true;
        readBoundedBody(res, this.limits, 'Entra ID').then(
          (buf) => {
            try {
              const flat: Record<string, string> = {};
              for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
              finish(undefined, { status: res.statusCode ?? 0, headers: flat, text: utf8Text(buf, 'Entra ID') });
            } catch (e) {
              finish(e);
            }
          },
          (e: unknown) => finish(e),
        );
      });
      const timer = setTimeout(() => {
        finish(new AuthError('network_error', 'Request timeout'));
        req.destroy();
      }, ms);
      req.on('error', (e) => {
        if (!responded) finish(new AuthError('network_error', `Network request failed: ${e.message}`));
      });
      req.end(body);
    });
    let parsed: T;
    try {
      parsed = JSON.parse(raw.text) as T;
    } catch {
      // Never echo the body: it is whatever the remote host chose to send.
      throw new AuthError('token_parsing_error', `Failed to parse response (HTTP ${raw.status})`);
    }
    return { headers: raw.headers, body: parsed, status: raw.status };
  }
}

function asAuthError(e: unknown): AuthError {
  if (e instanceof AuthError) return e;
  if (e instanceof EwsError) {
    if (e.code === 'EndpointNotAllowed') return new AuthError('endpoint_not_allowed', e.message);
    if (e.code === 'ResponseTooLarge') return new AuthError('response_too_large', e.message);
    return new AuthError('network_error', e.message);
  }
  return new AuthError('network_error', `Network request failed: ${e instanceof Error ? e.message : String(e)}`);
}
