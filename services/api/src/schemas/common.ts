/**
 * TypeBox building blocks shared by every route's schema: one schema gives the request's
 * validation, the handler's types (through the TypeBox type provider) and OpenAPI. Shapes stay
 * plain JSON Schema (OpenAPI 3.0 `nullable`, string `enum`), so Ajv's messages name the field as
 * before (validation.ts).
 */
import { Type, type Static, type TSchema, type StringOptions, type TUnsafe } from '@sinclair/typebox';

/** A UUID (path ids, organisation and user ids). */
export const Guid = (options: StringOptions = {}) => Type.String({ format: 'uuid', ...options });

/** An ISO 8601 instant sent by a client (checked by the one instant parser, validation.ts). */
export const Instant = (options: StringOptions = {}) => Type.String({ format: 'date-time', ...options });

/** An instant in an answer: repositories hand out Date objects, serialised as ISO 8601. */
export const Timestamp = (options: StringOptions = {}): TUnsafe<string | Date> =>
  Type.Unsafe<string | Date>({ type: 'string', format: 'date-time', ...options });

/** `schema` or null (OpenAPI 3.0 `nullable`). */
export function Nullable<T extends TSchema>(schema: T, options: Record<string, unknown> = {}): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, ...options, nullable: true });
}

/**
 * One of `values` as a JSON Schema string enum: the unions' lists live in @exsync/canonical, their
 * one home, and are only referenced here.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const ErrorResponse = Type.Object(
  {
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String({ description: '500 only: the id the server log holds the details under (also the x-request-id header)' })),
  },
  { description: 'Error' },
);

/** The error answers a route can give: 401 (every /v1 route) and `codes`. */
export function errorResponses(...codes: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries([401, ...codes].map((c) => [c, ErrorResponse]));
}

export const OrgParams = Type.Object({ orgId: Guid() }, { additionalProperties: false });
export const UserParams = Type.Object({ orgId: Guid(), userId: Guid() }, { additionalProperties: false });

/** For routes that take no query parameters: anything sent is refused, naming it. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** `limit` when a page query omits it (Ajv fills the schema's default in; handlers read it as given). */
export const DEFAULT_PAGE_LIMIT = 100;

/** A page's `limit` query parameter: 1..`maximum`, DEFAULT_PAGE_LIMIT when omitted. */
export const PageLimit = (maximum = 1000) => Type.Optional(Type.Integer({ minimum: 1, maximum, default: DEFAULT_PAGE_LIMIT }));

export const PageQuery = Type.Object(
  { limit: PageLimit(), after: Type.Optional(Guid({ description: 'The last id of the previous page' })) },
  { additionalProperties: false },
);

/** An empty answer (204, 302). */
export const NoContent = (description: string) => Type.Null({ description });

/** An HTML page (the sign-in redirects). */
export const HtmlPage = { 200: Type.String({ description: 'HTML page' }) };

/** A one-time link for a person to open (a user's sign-in, a monitored mailbox's authorization). */
export const SignInLink = Type.Object({ url: Type.String({ description: 'The one-time sign-in link to send to the user' }), expiresAt: Timestamp() });
