import { AsyncLocalStorage } from 'node:async_hooks';
import type { EwsError } from './errors';

/**
 * What the transport learned during one library call. ews-javascript-api replaces a rejected
 * transport promise with its own SoapFaultDetails (keeping only the message), so the typed error
 * is handed back to the session through this async context instead of through the library.
 */
export interface EwsCallContext {
  /** the typed error the transport threw, if it threw one */
  transportError?: EwsError;
  /** ResponseClass="Error" messages of the last HTTP 200 answer, in document order */
  responseErrors: { code: string; message: string; backoffMs?: number }[];
  /** Exchange's `request-id` answers, for logs and support tickets */
  requestIds: string[];
}

const storage = new AsyncLocalStorage<EwsCallContext>();

export function runInEwsCall<T>(fn: () => Promise<T>): { context: EwsCallContext; result: Promise<T> } {
  const context: EwsCallContext = { responseErrors: [], requestIds: [] };
  // a synchronous throw from the library becomes a rejection here, never escapes the caller
  const result = storage.run(context, () => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  });
  return { context, result };
}

export function currentEwsCall(): EwsCallContext | undefined {
  return storage.getStore();
}
