export { buildApp, type AppDeps, type ResolvedDeps } from './app';
export { assertOrgAccess, assertPlatform, authenticate, type AuthContext } from './auth';
export { HttpError, badRequest, notFound } from './httpError';
export { LOG_REDACT_PATHS, loggerOptions, requestPath } from './logger';
