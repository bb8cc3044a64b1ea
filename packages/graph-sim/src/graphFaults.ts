import type { FaultConfig, Faults } from '@exsync/ews-sim';
import { GraphError } from './errors';

/**
 * The shared fault settings (the EWS simulator's `/_sim/faults`, global or per mailbox, same seeded
 * dice) as Graph answers: latency; 503 with Retry-After; 504; the "busy" fault as 429
 * ApplicationThrottled with Retry-After; resets; hangs; malformed answers (an HTML error page, or
 * JSON cut in half, alternately).
 */
export type GraphFault = { kind: 'reset' } | { kind: 'hang' } | { kind: 'malformed' } | { kind: 'error'; error: GraphError } | undefined;

export function pickGraphFault(faults: Faults, config: FaultConfig): GraphFault {
  switch (faults.pick(config)) {
    case 'reset':
      return { kind: 'reset' };
    case 'hang':
      return { kind: 'hang' };
    case 'malformed':
      return { kind: 'malformed' };
    case 'http503':
      return {
        kind: 'error',
        error: new GraphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please try again later.', {
          'Retry-After': String(config.retryAfterSeconds),
        }),
      };
    case 'http504':
      return { kind: 'error', error: new GraphError(504, 'UnknownError', 'The gateway did not receive a timely response from the back end.') };
    case 'serverBusy':
      return { kind: 'error', error: throttled(config) };
    default:
      return undefined;
  }
}

/** The 429 of a throttled request, waiting `backOffMs` rounded up to whole seconds. */
export function throttled(config: FaultConfig): GraphError {
  return new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxRequests limit.', {
    'Retry-After': String(Math.max(1, Math.ceil(config.backOffMs / 1000))),
  });
}

export const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>HTTP Error 500. The request failed.</p></body></html>';

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
