import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from './httpError';

/**
 * The request bodies the API parses, for every route: JSON only (routes taking a form register
 * @fastify/formbody in their own scope). Fastify's plain-text parser is removed, so a text/plain
 * body answers 415 (errorHandler.ts) instead of reaching the schema as a string ("body must be
 * object"). JSON keeps Fastify's parser (secure-json-parse, refusing `__proto__` and
 * `constructor.prototype`), but such a body answers 400 naming the key, not "Body is not valid JSON".
 */
export function installBodyParsers(app: FastifyInstance): void {
  const fastifyJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // Fastify's parser answers through `done` (callback style), never through a promise.
    void fastifyJson(request, body as string, (err: Error | null, value?: unknown) => done(err ? (refusedKeyError(body as string) ?? err) : null, value));
  });
}

/** The media types the route answering `reply` parses (for the 415 message). */
export function acceptedMediaTypes(reply: FastifyReply): string[] {
  return ['application/json', 'application/x-www-form-urlencoded'].filter((t) => reply.server.hasContentTypeParser(t));
}

/** The request's media type when it reads as one (`text/plain`), else undefined; never the raw header. */
export function mediaTypeOf(request: FastifyRequest): string | undefined {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/.test(type) ? type : undefined;
}

/**
 * When `text` is valid JSON that Fastify refused for prototype poisoning: the 400 naming the first
 * such key (`__proto__`, or `constructor` holding `prototype`) by its dotted path. Else undefined.
 */
function refusedKeyError(text: string): Error | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return undefined;
  }
  const field = poisonedKeyPath(value);
  if (!field) return undefined;
  return badRequest(`body key "${field}" is not allowed`, field);
}

interface Visit {
  node: unknown;
  parent?: Visit;
  key?: string;
}

/**
 * Breadth-first, as secure-json-parse scans: the dotted path to the first key it refuses (just the
 * key when the path is over 200 characters), or undefined. Paths are built only for the answer, so
 * deep nesting costs linear time.
 */
function poisonedKeyPath(root: unknown): string | undefined {
  let level: Visit[] = [{ node: root }];
  while (level.length) {
    const next: Visit[] = [];
    for (const visit of level) {
      const node = visit.node;
      if (!node || typeof node !== 'object') continue;
      const ctor = (node as Record<string, unknown>).constructor;
      if (Object.hasOwn(node, '__proto__')) return pathOf(visit, '__proto__');
      if (Object.hasOwn(node, 'constructor') && ctor && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) return pathOf(visit, 'constructor');
      for (const [key, child] of Object.entries(node)) if (child && typeof child === 'object') next.push({ node: child, parent: visit, key });
    }
    level = next;
  }
  return undefined;
}

function pathOf(visit: Visit, key: string): string {
  const keys = [key];
  for (let v: Visit | undefined = visit; v?.key !== undefined; v = v.parent) keys.push(v.key);
  const path = keys.reverse().join('.');
  return path.length > 200 ? key : path;
}
