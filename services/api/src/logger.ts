import type { DestinationStream, LoggerOptions } from 'pino';

/**
 * Everything that can carry a credential. Fastify's default request log writes the full URL, so the
 * OAuth callback's `code` would land in the log: requests are logged by path only (see requestPath),
 * and these paths are censored wherever they appear in a logged object.
 */
export const LOG_REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'clientSecret',
  'clientCertificate',
  'token',
  'refresh_token',
  'refreshToken',
  'access_token',
  'id_token',
  'code',
  'code_verifier',
  'password',
  '*.authorization',
  '*.clientSecret',
  '*.clientCertificate',
  '*.token',
  '*.refresh_token',
  '*.refreshToken',
  '*.access_token',
  '*.id_token',
  '*.code',
  '*.code_verifier',
  '*.password',
  '*.*.clientSecret',
  '*.*.clientCertificate',
  '*.*.token',
  '*.*.refresh_token',
  '*.*.code',
  // Postgres errors: `where` (PL/pgSQL context) and `detail` ("Key (crm_id)=(...)") quote row data.
  'where',
  'detail',
  '*.where',
  '*.detail',
  '*.*.where',
  '*.*.detail',
];

/** An error code worth keeping in the log: SQLSTATE (23505), errno (ECONNREFUSED) or an identifier (ErrorItemNotFound). */
const ERROR_CODE = /^(?:[0-9A-Z]{5}|[A-Za-z][A-Za-z0-9_]{0,63})$/;

/**
 * The censor for the paths above. A field named `code` is an OAuth authorization code in one place
 * and Postgres' SQLSTATE or an errno in most others: short identifier-shaped codes stay readable,
 * anything else (authorization codes are long and carry dots and dashes) is censored.
 */
export function censor(value: unknown, path: string[]): unknown {
  if (path[path.length - 1] === 'code' && (typeof value === 'number' || (typeof value === 'string' && ERROR_CODE.test(value)))) return value;
  return '[redacted]';
}

/** The URL without its query string: queries carry OAuth codes and states. */
export function requestPath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** pino options for exsync's JSON logs; `stream` lets tests capture the lines. */
export function loggerOptions(level: string, stream?: DestinationStream): LoggerOptions & { stream?: DestinationStream } {
  return {
    level,
    redact: { paths: LOG_REDACT_PATHS, censor },
    serializers: {
      req: (req: { id?: string; method: string; url: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        path: requestPath(req.url),
        remoteAddress: req.ip,
      }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    },
    ...(stream ? { stream } : {}),
  };
}
