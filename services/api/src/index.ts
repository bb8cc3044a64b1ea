export { buildApp, type AppDeps, type ResolvedDeps } from './app';
