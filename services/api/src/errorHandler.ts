import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { isHttpError } from './httpError';
import { describeValidationError, fieldOf } from './validation';

/** Every error answers `{error, message, field?}`; 5xx details stay in the log. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const send = (status: number, message: string, field?: string) =>
      reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message, ...(field ? { field } : {}) });

    if ('validation' in err && err.validation) {
      const first = err.validation[0] as ErrorObject;
      return send(400, describeValidationError(first, err.validationContext ?? 'request'), fieldOf(first));
    }
    if (isHttpError(err)) return send(err.statusCode, err.message, err.field);
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return send(status, err.message);
    request.log.error({ err }, 'unhandled error');
    return send(500, 'internal error; see the server log for this request id');
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}

/**
 * Errors Fastify raises before routing (a path parameter over the router's maxParamLength, a URL
 * that does not decode): the contract's body, never echoing the URL.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
  const message = status === 414 ? 'a path segment is too long (at most 2048 characters once percent-encoded)' : 'the URL could not be decoded';
  reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message });
}
