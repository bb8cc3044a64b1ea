/** An error a route throws to answer with `{error, message, field?}` and the given status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Whether `err` is an HttpError. Matched by name, not class: in the built API each route folder is
 * its own bundle (scripts/build.ts) with its own copy of this class.
 */
export function isHttpError(err: unknown): err is HttpError {
  return err instanceof Error && err.name === 'HttpError' && typeof (err as HttpError).statusCode === 'number';
}

export const notFound = (message: string): HttpError => new HttpError(404, message);
export const badRequest = (message: string, field?: string): HttpError => new HttpError(400, message, field);
