import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { EndpointRefusedError, endpointPolicyFromEnv, resolveForConnect, type EndpointKind, type EndpointPolicy } from '@exsync/config';
import { SyncError } from '@exsync/canonical';

/**
 * What every outbound HTTP exchange of exsync's Microsoft legs (EWS, Graph, the token endpoint) goes
 * through: the endpoint policy checked when connecting, and a body read with a cap on the bytes
 * on the wire AND on every decoded size, so no answer of any size, encoding or shape can exhaust
 * memory or throw outside a promise (issue 13: a 611 KB gzip body that inflated to 600 MiB ended
 * the process from an 'end' listener).
 */

/** Default caps: 64 MiB on the wire and after decoding (an EWS page of 512 items is a few MB). */
export const DEFAULT_MAX_WIRE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024;

export interface BodyLimits {
  /** bytes as received (compressed) */
  maxWireBytes: number;
  /** bytes after each decoding step */
  maxDecodedBytes: number;
}

let envPolicy: EndpointPolicy | undefined;

/** The policy of this process's environment, read once; callers with a loaded Config pass their own. */
export function defaultEndpointPolicy(): EndpointPolicy {
  envPolicy ??= endpointPolicyFromEnv();
  return envPolicy;
}

/** The SyncError a refused endpoint becomes: InvalidSettings (organisation-wide; a person must change the setting), code EndpointNotAllowed. */
export function endpointRefused(err: EndpointRefusedError): SyncError {
  return new SyncError('InvalidSettings', err.message, { code: 'EndpointNotAllowed' });
}

/**
 * Checks `url` against the policy for `kind` and resolves it, before any byte is sent. Returns the
 * `lookup` to pass to http(s).request so the socket connects to exactly the checked address.
 * Rejects with SyncError code EndpointNotAllowed, or the resolver's error as a transient one.
 */
export async function checkedLookup(policy: EndpointPolicy, kind: EndpointKind, field: string, url: URL): Promise<LookupFunction> {
  if (url.protocol === 'http:' && !policy.allowInsecure) {
    throw new SyncError('InvalidSettings', `${field} must use https (http is accepted only when EXSYNC_ALLOW_INSECURE_AUTHORITY=true)`, {
      code: 'EndpointNotAllowed',
    });
  }
  const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  let pinned: { address: string; family: number };
  try {
    pinned = await resolveForConnect(policy, kind, field, url.hostname, port);
  } catch (e) {
    if (e instanceof EndpointRefusedError) throw endpointRefused(e);
    const code = (e as { code?: unknown }).code;
    throw new SyncError('Transient', `${field} host could not be resolved`, { code: typeof code === 'string' ? code : 'ResolveFailed', cause: e });
  }
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
}

function decoderFor(encoding: string): Transform | null | undefined {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * Reads a response body within `limits`, decoding every `Content-Encoding` step (gzip, deflate,
 * br, in the order the server applied them) as a stream with each step's output counted. Never
 * throws; rejects with a SyncError: `ResponseTooLarge` (Permanent) past a cap, `MalformedResponse`
 * for a body that does not decode or an unknown encoding, `TruncatedResponse` for a cut connection.
 * `what` names the peer in messages ("EWS", "Entra ID").
 */
export function readBoundedBody(res: IncomingMessage, limits: BodyLimits, what: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const stages: Transform[] = [];
    const fail = (err: SyncError) => {
      if (settled) return;
      settled = true;
      for (const s of stages) s.destroy();
      res.destroy();
      reject(err);
    };
    const tooLarge = (limit: number, decoded: boolean) =>
      fail(
        new SyncError('Permanent', `${what} answer larger than ${limit} bytes${decoded ? ' once decompressed' : ''}`, {
          code: 'ResponseTooLarge',
          httpStatus: res.statusCode,
        }),
      );
    const truncated = () =>
      fail(new SyncError('Transient', `Connection closed before the ${what} answer was complete`, { code: 'TruncatedResponse', httpStatus: res.statusCode }));

    const rawEncoding = res.headers['content-encoding'];
    const encodings = (Array.isArray(rawEncoding) ? rawEncoding.join(',') : (rawEncoding ?? ''))
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== '' && e !== 'identity')
      .reverse();
    for (const enc of encodings) {
      const stage = decoderFor(enc);
      if (stage === undefined) {
        fail(new SyncError('Transient', `${what} answered with an unsupported content encoding`, { code: 'MalformedResponse', httpStatus: res.statusCode }));
        return;
      }
      if (stage) stages.push(stage);
    }

    // Without an encoding the wire bytes are the decoded bytes: the smaller cap holds.
    const wireCap = stages.length ? limits.maxWireBytes : Math.min(limits.maxWireBytes, limits.maxDecodedBytes);
    let wire = 0;
    res.on('data', (c: Buffer) => {
      wire += c.length;
      if (wire > wireCap) tooLarge(wireCap, false);
    });
    res.on('error', (e) => (e instanceof SyncError ? fail(e) : truncated()));
    res.on('aborted', () => truncated());
    res.on('close', () => {
      if (!res.complete) truncated();
    });

    // Each decoding stage's output is counted: a bomb is stopped within one chunk of the cap.
    let source: NodeJS.ReadableStream = res;
    for (const stage of stages) {
      let out = 0;
      stage.on('data', (c: Buffer) => {
        out += c.length;
        if (out > limits.maxDecodedBytes) tooLarge(limits.maxDecodedBytes, true);
      });
      stage.on('error', () =>
        fail(new SyncError('Transient', `${what} answer could not be decompressed (truncated?)`, { code: 'MalformedResponse', httpStatus: res.statusCode })),
      );
      source.pipe(stage);
      source = stage;
    }

    const chunks: Buffer[] = [];
    const last = stages.length ? stages[stages.length - 1] : res;
    if (stages.length) last.on('data', (c: Buffer) => chunks.push(c));
    else res.on('data', (c: Buffer) => chunks.push(c));
    last.on('end', () => {
      if (settled) return;
      if (!res.complete) {
        truncated();
        return;
      }
      settled = true;
      resolve(Buffer.concat(chunks));
    });
  });
}

/** `buf` as UTF-8 text, or a typed error (a decoded cap above V8's string limit must not throw). */
export function utf8Text(buf: Buffer, what: string): string {
  try {
    return buf.toString('utf8');
  } catch (e) {
    throw new SyncError('Permanent', `${what} answer is too large to read`, { code: 'ResponseTooLarge', cause: e });
  }
}
