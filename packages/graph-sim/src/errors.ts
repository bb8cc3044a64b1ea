/**
 * Microsoft Graph's error answer: `{"error": {"code", "message", "innerError": {"date", "request-id",
 * "client-request-id"}}}` (learn.microsoft.com/graph/errors). Every refusal of the simulator is one
 * of these, thrown as a GraphError and rendered by the HTTP layer or the $batch runner.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The JSON body of a Graph error, with the request's ids and the time in Graph's format (no fraction). */
export function graphErrorBody(code: string, message: string, requestId: string, clientRequestId: string | undefined): unknown {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().slice(0, 19),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

/** Errors Graph answers for Outlook resources, by what went wrong (texts as Graph sends them). */
export const errors = {
  badRequest: (message: string) => new GraphError(400, 'BadRequest', message),
  invalidRequest: (message: string) => new GraphError(400, 'ErrorInvalidRequest', message),
  malformedId: () => new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.'),
  itemNotFound: () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  invalidUser: (user: string) => new GraphError(404, 'ErrorInvalidUser', `The requested user '${user}' is invalid.`),
  accessDenied: () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
  noResource: (path: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${path}'.`),
  methodNotAllowed: () => new GraphError(405, 'Request_BadRequest', 'The HTTP method is not allowed on this resource.'),
  unknownProperty: (name: string, type: string) =>
    new GraphError(
      400,
      'RequestBodyRead',
      `The property '${name}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    ),
  invalidProperty: (message: string) => new GraphError(400, 'ErrorInvalidProperty', message),
  conflict: () =>
    new GraphError(
      412,
      'ErrorIrresolvableConflict',
      'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.',
    ),
  syncStateNotFound: (detail = 'The sync state generation is not found.') => new GraphError(410, 'SyncStateNotFound', detail),
  unsupportedQuery: (message: string) => new GraphError(400, 'ErrorInvalidUrlQuery', message),
  invalidParameter: (name: string) =>
    new GraphError(
      400,
      'ErrorInvalidParameter',
      `This request requires a time window specified by the query string parameters StartDateTime and EndDateTime (${name} is missing).`,
    ),
  badTimeZone: (tz: string) =>
    new GraphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${tz}'.`),
};
