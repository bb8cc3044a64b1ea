/**
 * A last line of defence for worker processes: ews-javascript-api has code paths that reject a
 * promise nobody listens to (EWS-NOTES, "Talking to a server"). Node's default for an unhandled
 * rejection is to kill the process, which would stop every mailbox the worker serves. The
 * transport already keeps malformed answers away from the library; this guard logs whatever still
 * slips through and keeps the process alive.
 */

export interface GuardLogger {
  error(obj: object, msg?: string): void;
}

let installed: { handler: (reason: unknown) => void; count: number } | undefined;

/** Installs the unhandledRejection guard once per process; returns a function that removes it. */
export function installProcessGuards(logger: GuardLogger): () => void {
  if (installed) {
    installed.count += 1;
  } else {
    const handler = (reason: unknown) => {
      logger.error({ err: describe(reason) }, 'unhandled promise rejection (process kept alive)');
    };
    process.on('unhandledRejection', handler);
    installed = { handler, count: 1 };
  }
  let removed = false;
  return () => {
    if (removed || !installed) return;
    removed = true;
    installed.count -= 1;
    if (installed.count === 0) {
      process.off('unhandledRejection', installed.handler);
      installed = undefined;
    }
  };
}

/** Only name, code, message and stack: a library error object can hold request headers (tokens). */
function describe(reason: unknown): { name?: string; code?: unknown; message: string; stack?: string } {
  if (reason && typeof reason === 'object') {
    const r = reason as { name?: unknown; code?: unknown; message?: unknown; Message?: unknown; stack?: unknown };
    const message = typeof r.message === 'string' ? r.message : typeof r.Message === 'string' ? r.Message : Object.prototype.toString.call(reason);
    return {
      name: typeof r.name === 'string' ? r.name : undefined,
      code: typeof r.code === 'string' || typeof r.code === 'number' ? r.code : undefined,
      message: redactBearer(message),
      stack: typeof r.stack === 'string' ? redactBearer(r.stack) : undefined,
    };
  }
  return { message: redactBearer(String(reason)) };
}

function redactBearer(s: string): string {
  return s.replace(/Bearer\s+[\w.~+/=-]+/gi, 'Bearer [redacted]');
}
