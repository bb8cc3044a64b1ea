import { SyncError } from '@exsync/canonical';

/**
 * Graph answers as the one error contract (@exsync/canonical SyncError). Sources: Graph's error
 * body `{"error":{"code","message","innerError"}}` (learn.microsoft.com/graph/errors) and
 * GRAPH-NOTES ("Expired state", "Writes", "Limits").
 */

/** Used when Graph throttles without Retry-After. */
export const DEFAULT_RETRY_AFTER_MS = 5_000;

export interface GraphErrorBody {
  code: string;
  message: string;
}

/** The `error` object of a Graph answer, when the body has one. */
export function graphErrorOf(body: unknown): GraphErrorBody | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const e = (body as { error?: unknown }).error;
  if (!e || typeof e !== 'object') return undefined;
  const code = (e as { code?: unknown }).code;
  const message = (e as { message?: unknown }).message;
  return { code: typeof code === 'string' ? code : 'unknown', message: typeof message === 'string' ? message : '' };
}

/** Retry-After as delta-seconds or an HTTP date, in ms. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const SYNC_STATE_CODES = new Set(['syncstatenotfound', 'resyncrequired', 'syncstateinvalid']);

/**
 * The SyncError for a Graph answer with `status` >= 400 (or a 2xx whose body is not what was
 * asked for: pass it as `MalformedResponse` yourself). `retryAfter` is the header's value.
 */
export function errorFromGraph(status: number, body: unknown, retryAfter?: string | null): SyncError {
  const err = graphErrorOf(body);
  const code = err?.code ?? String(status);
  const message = err?.message || `Graph answered HTTP ${status}`;
  const details = { code, httpStatus: status, protocol: 'graph' as const };
  if (status === 410 || SYNC_STATE_CODES.has(code.toLowerCase())) return new SyncError('SyncStateInvalid', message, details);
  if (status === 429 || status === 503) {
    return new SyncError('Throttled', message, { ...details, backoffMs: retryAfterMs(retryAfter) ?? DEFAULT_RETRY_AFTER_MS });
  }
  if (status === 401) return new SyncError('AuthFailed', message, { ...details, reason: 'token-rejected' });
  if (status === 403) {
    // [RAOP]: an application access policy / RBAC for Applications scope excludes the mailbox
    if (/RAOP|access polic|scope/i.test(message)) return new SyncError('ImpersonationDenied', message, details);
    return new SyncError('AuthFailed', message, { ...details, reason: 'role-missing' });
  }
  if (status === 404) {
    if (/^(ErrorInvalidUser|MailboxNotEnabledForRESTAPI|ResourceNotFound|ErrorNonExistentMailbox)$/i.test(code) && code !== 'ErrorItemNotFound') {
      return new SyncError('MailboxNotFound', message, details);
    }
    return new SyncError('ItemNotFound', message, details);
  }
  if (status === 412 || code === 'ErrorIrresolvableConflict') return new SyncError('ChangeKeyConflict', message, details);
  if (status >= 500) return new SyncError('Transient', message, details);
  // 400s and other refusals: a retry sends the same request; an item-level answer fails only that item
  return new SyncError('Permanent', message, { ...details, scope: 'item' });
}

/** Anything thrown under the client as a SyncError (a TypeError from a mapper is Permanent for its item). */
export function asSyncError(e: unknown): SyncError {
  if (e instanceof SyncError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SyncError('Permanent', `Graph item could not be mapped: ${message}`, { code: 'MappingFailed', scope: 'item', cause: e });
}
