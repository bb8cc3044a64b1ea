import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findUnstorableText, isInstant } from '@exsync/canonical';
import { badRequest } from './httpError';
import { rankValidationErrors } from './validationErrors';

function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  // removeAdditional stays off so unknown fields are refused, not silently dropped (Fastify's default drops them).
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, coerceTypes, strict: false });
  addFormats(ajv);
  // One instant parser for the API and the engine: no leap seconds, full offsets only.
  ajv.addFormat('date-time', { type: 'string', validate: isInstant });
  return ajv;
}

/**
 * Bodies are validated without type coercion, so `"true"` is not a boolean; params and query
 * strings arrive as text and are coerced to the declared types.
 */
export function installValidators(app: FastifyInstance): void {
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(httpPart === 'body' ? strict : coercing, schema));
  app.addHook('preValidation', refuseUnstorableText);
}

/**
 * Ajv's validator for `schema`, its `errors` ranked so the first is the one to report
 * (validationErrors.ts: the failing union branch the value fits, an unknown property before a
 * missing one).
 */
function compileValidator(ajv: Ajv, schema: unknown): ValidateFunction {
  const validate = ajv.compile(schema as object);
  const ranked = ((data: unknown, ctx?: Parameters<ValidateFunction>[1]) => {
    const ok = validate(data, ctx);
    ranked.errors = ok || !validate.errors ? null : rankValidationErrors(validate.errors, schema, data);
    return ok;
  }) as ValidateFunction;
  // Fastify passes the parent (so defaults can fill a root value) only to validators carrying schemaEnv.
  ranked.schemaEnv = validate.schemaEnv;
  ranked.schema = validate.schema;
  return ranked;
}

/**
 * Every route, with or without a schema: path parameters, query strings and JSON bodies holding
 * U+0000 or a lone surrogate answer 400 naming the field (Postgres cannot store either, and the
 * engine could never sync it). Runs before schema validation, so it also guards public routes.
 */
export async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  const parts: [string, unknown][] = [
    ['path parameter', request.params],
    ['query parameter', request.query],
    ['body field', request.body],
  ];
  for (const [where, value] of parts) {
    const found = findUnstorableText(value);
    if (found) {
      const field = found.field || where.split(' ')[0];
      throw badRequest(`${where} "${field}" ${found.problem}`, field);
    }
  }
}

/** The dotted name of the field an Ajv error is about (`settings.mobileAccess`, `orgId`). */
export function fieldOf(error: ErrorObject): string | undefined {
  const segments = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  return segments.length ? segments.join('.') : undefined;
}

/** `"a"`, `one of "a", "b"` (the schema's values, as JSON). */
function oneOf(values: unknown[]): string {
  const shown = values.map((v) => JSON.stringify(v));
  return shown.length === 1 ? shown[0] : `one of ${shown.join(', ')}`;
}

/** `string`, `string or object`, `string, object or null`. */
function listOf(items: string[], conjunction: string): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** A one-sentence message naming where the field is and what is wrong with it. */
export function describeValidationError(error: ErrorObject, context: string): string {
  const field = fieldOf(error);
  const where = field ? `${context} field "${field}"` : context;
  if (error.keyword === 'additionalProperties') return `${where} is not allowed`;
  if (error.keyword === 'required') return `${where} is required`;
  if (error.keyword === 'format' && error.params.format === 'uuid') return `${where} must be a GUID`;
  if (error.keyword === 'enum') return `${where} must be ${oneOf(error.params.allowedValues as unknown[])}`;
  if (error.keyword === 'const') return `${where} must be ${JSON.stringify(error.params.allowedValue)}`;
  if (error.keyword === 'type') return `${where} must be ${listOf(String(error.params.type).split(','), 'or')}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}
