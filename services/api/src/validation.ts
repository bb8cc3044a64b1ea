import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  // removeAdditional stays off so unknown fields are refused, not silently dropped (Fastify's default drops them).
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, coerceTypes, strict: false });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated without type coercion, so `"true"` is not a boolean; params and query
 * strings arrive as text and are coerced to the declared types.
 */
export function installValidators(app: FastifyInstance): void {
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

/** The dotted name of the field an Ajv error is about (`settings.mobileAccess`, `orgId`). */
export function fieldOf(error: ErrorObject): string | undefined {
  const segments = error.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  return segments.length ? segments.join('.') : undefined;
}

/** A one-sentence message naming where the field is and what is wrong with it. */
export function describeValidationError(error: ErrorObject, context: string): string {
  const field = fieldOf(error);
  const where = field ? `${context} field "${field}"` : context;
  if (error.keyword === 'additionalProperties') return `${where} is not allowed`;
  if (error.keyword === 'required') return `${where} is required`;
  if (error.keyword === 'format' && error.params.format === 'uuid') return `${where} must be a GUID`;
  return `${where} ${error.message ?? 'is invalid'}`;
}
