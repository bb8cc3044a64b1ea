import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { acceptedMediaTypes, mediaTypeOf } from './bodyParsers';
import { isHttpError } from './httpError';
import { describeValidationError, fieldOf } from './validation';

/**
 * Every error answers `{error, message, field?}`; a 500 adds `requestId` (also the x-request-id
 * header) and nothing else: its details stay in the log under that id.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const send = (status: number, message: string, field?: string) =>
      reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message, ...(field ? { field } : {}) });

    if ('validation' in err && err.validation) {
      const first = err.validation[0] as ErrorObject;
      return send(400, describeValidationError(first, err.validationContext ?? 'request'), fieldOf(first));
    }
    if (isHttpError(err)) return send(err.statusCode, err.message, err.field);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(415, unsupportedMediaType(request, reply));
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return send(status, err.message);
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: STATUS_CODES[500], message: 'internal error; see the server log for this request id', requestId: request.id });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}

/** `this route takes application/json bodies, not text/plain` (the types the route's scope parses). */
function unsupportedMediaType(request: FastifyRequest, reply: FastifyReply): string {
  const sent = mediaTypeOf(request);
  const takes = acceptedMediaTypes(reply).join(' or ') || 'application/json';
  if (sent) return `this route takes ${takes} bodies, not ${sent}`;
  if (request.headers['content-type'] !== undefined) return `this route takes ${takes} bodies; the Content-Type sent is not a media type`;
  return `this route takes ${takes} bodies, sent with a Content-Type header`;
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
