import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { SyncError } from '@exsync/canonical';
import type { EndpointKind, EndpointPolicy, EndpointRefusedError } from '@exsync/config';
import * as guard from '@exsync/http-guard';
import { EwsError } from './errors';

/**
 * EWS's use of the shared outbound-HTTP guard (@exsync/http-guard: endpoint policy on connect,
 * bounded bodies). The guard raises transport-neutral SyncErrors; inside ews-client they become
 * EwsErrors (same kind, code and status) so this package's callers see one family.
 */
export { DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_WIRE_BYTES, defaultEndpointPolicy, type BodyLimits } from '@exsync/http-guard';

/** A SyncError from the guard as an EwsError with the same fields; anything else unchanged. */
function asEws(e: unknown): unknown {
  if (e instanceof EwsError || !(e instanceof SyncError)) return e;
  return new EwsError(e.kind, e.message, { code: e.code, httpStatus: e.httpStatus, backoffMs: e.backoffMs, reason: e.reason, cause: e.cause });
}

export function endpointRefused(err: EndpointRefusedError): EwsError {
  return asEws(guard.endpointRefused(err)) as EwsError;
}

export function checkedLookup(policy: EndpointPolicy, kind: EndpointKind, field: string, url: URL): Promise<LookupFunction> {
  return guard.checkedLookup(policy, kind, field, url).catch((e: unknown) => Promise.reject(asEws(e)));
}

export function readBoundedBody(res: IncomingMessage, limits: guard.BodyLimits, what: string): Promise<Buffer> {
  return guard.readBoundedBody(res, limits, what).catch((e: unknown) => Promise.reject(asEws(e)));
}

export function utf8Text(buf: Buffer, what: string): string {
  try {
    return guard.utf8Text(buf, what);
  } catch (e) {
    throw asEws(e);
  }
}
