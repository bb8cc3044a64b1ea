import type { ErrorObject } from 'ajv';

/**
 * Picks the Ajv error a 400 reports, knowing the schema and the value (Ajv stops at the first
 * error, allErrors off). Answers Ajv's errors reordered, the one to report first; it may be one
 * built here:
 * - a union (anyOf/oneOf) that failed reports the failure inside the branch the value fits (its
 *   JSON type, and the `const`/one-value `enum` properties a tagged union names its variants by),
 *   not "must match a schema in anyOf"; a union of literals reports an `enum` error listing every
 *   literal; a value fitting no branch's type a `type` error listing the branches' types; a
 *   variant tag fitting no branch an `enum` error on the tag;
 * - a `required` error on an object that also holds a property its schema does not allow reports
 *   that property instead (Ajv checks `required` first, so "x is required" hid "y is not allowed").
 * Never throws: a schema path it cannot follow leaves Ajv's order.
 */
export function rankValidationErrors(errors: ErrorObject[], schema: unknown, data: unknown): ErrorObject[] {
  if (errors.length === 0) return errors;
  let best: ErrorObject;
  try {
    best = unknownPropertyFirst(chooseError(errors, schema, data), schema, data);
  } catch {
    return errors;
  }
  return [best, ...errors.filter((e) => e !== best)];
}

type Schema = Record<string, unknown>;

const isUnion = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

function chooseError(errors: ErrorObject[], root: unknown, data: unknown): ErrorObject {
  const union = errors[errors.length - 1];
  // Ajv adds a failed union's own error after its branches' errors; a oneOf with several passing branches has none.
  if (!isUnion(union) || union.params.passingSchemas || errors.length === 1) return errors[0];
  const branches = at(root, union.schemaPath) as Schema[] | undefined;
  if (!Array.isArray(branches)) return errors[0];
  const value = at(data, union.instancePath);

  if (branches.every(isLiteral)) return enumError(union, union.instancePath, branches.flatMap(literalsOf));

  const byType = branches.map((_, i) => i).filter((i) => fitsType(branches[i], value));
  if (byType.length === 0) {
    const types = [...new Set(branches.flatMap(typesOf))];
    if (types.length) return { ...union, keyword: 'type', params: { type: types.join(',') }, message: `must be ${types.join(',')}` };
    return errors[0];
  }
  const byTag = byType.filter((i) => fitsTags(branches[i], value));
  if (byTag.length === 0) {
    const tag = sharedTag(byType.map((i) => branches[i]));
    if (tag) {
      const allowedValues = byType.flatMap((i) => literalsOf(((branches[i].properties as Schema)[tag] ?? {}) as Schema));
      return enumError(union, `${union.instancePath}/${escape(tag)}`, allowedValues);
    }
  }
  const fitting = byTag.length ? byTag : byType;
  let best: ErrorObject | undefined;
  for (const i of fitting) {
    const prefix = `${union.schemaPath}/${i}/`;
    const own = errors.filter((e) => e.schemaPath.startsWith(prefix));
    if (own.length === 0) continue;
    const candidate = chooseError(own, root, data);
    if (!best || depthOf(candidate) > depthOf(best)) best = candidate;
  }
  return best ?? errors[0];
}

function enumError(union: ErrorObject, instancePath: string, allowedValues: unknown[]): ErrorObject {
  return { ...union, instancePath, keyword: 'enum', params: { allowedValues }, message: 'must be equal to one of the allowed values' };
}

/** A `required` error on an object holding a property its schema refuses becomes that property's error. */
function unknownPropertyFirst(error: ErrorObject, root: unknown, data: unknown): ErrorObject {
  if (error.keyword !== 'required') return error;
  const objectPath = error.schemaPath.replace(/\/required$/, '');
  const objectSchema = at(root, objectPath) as Schema | undefined;
  const value = at(data, error.instancePath);
  if (!objectSchema || objectSchema.additionalProperties !== false || objectSchema.patternProperties) return error;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return error;
  const known = (objectSchema.properties ?? {}) as Schema;
  const unknown = Object.keys(value).find((k) => !Object.hasOwn(known, k));
  if (unknown === undefined) return error;
  return {
    instancePath: error.instancePath,
    schemaPath: `${objectPath}/additionalProperties`,
    keyword: 'additionalProperties',
    params: { additionalProperty: unknown },
    message: 'must NOT have additional properties',
  };
}

/** How deep in the value an error points (a missing or unknown property counts as one level more). */
function depthOf(e: ErrorObject): number {
  const extra = e.keyword === 'required' || e.keyword === 'additionalProperties' ? 1 : 0;
  return e.instancePath.split('/').length - 1 + extra;
}

function isLiteral(s: Schema): boolean {
  return !!s && typeof s === 'object' && ('const' in s || Array.isArray(s.enum) || (s.type === 'null' && Object.keys(s).length === 1));
}

function literalsOf(s: Schema): unknown[] {
  if ('const' in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum;
  return s.type === 'null' ? [null] : [];
}

function typesOf(s: Schema): string[] {
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  return s.nullable === true ? [...types, 'null'] : types;
}

/** Whether `value`'s JSON type is one `s` allows (no `type`: any). */
function fitsType(s: Schema, value: unknown): boolean {
  const types = typesOf(s);
  if (types.length === 0) return true;
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)) || (t === 'number' && actual === 'number'));
}

/** The one-value `const`/`enum` properties of an object schema (a tagged union's `type: "weekly"`). */
function tagsOf(s: Schema): [string, unknown][] {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  return Object.entries(props)
    .filter(([, p]) => p && typeof p === 'object' && isLiteral(p) && literalsOf(p).length === 1)
    .map(([k, p]) => [k, literalsOf(p)[0]]);
}

/** Whether `value` agrees with every tag of `s` it carries (an absent tag is `required`'s business). */
function fitsTags(s: Schema, value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return true;
  const v = value as Record<string, unknown>;
  return tagsOf(s).every(([k, tag]) => !Object.hasOwn(v, k) || v[k] === tag);
}

/** The tag property every branch names its variant by, if they share one. */
function sharedTag(branches: Schema[]): string | undefined {
  const [first, ...rest] = branches.map((b) => new Set(tagsOf(b).map(([k]) => k)));
  return first && [...first].find((k) => rest.every((keys) => keys.has(k)));
}

const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** The part of `doc` a JSON pointer (`/a/0`, or Ajv's schema path `#/properties/a`) names; undefined when there is none. */
function at(doc: unknown, pointer: string): unknown {
  // Ajv's schema paths are URI fragments (percent-encoded); instance paths are plain pointers.
  const fragment = pointer.startsWith('#');
  let node = doc;
  for (const raw of pointer.replace(/^#/, '').split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    const key = (fragment ? decodeURIComponent(raw) : raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
