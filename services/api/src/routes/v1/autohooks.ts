/** Every /v1 route needs a bearer token (auth.ts `authenticate`): 401 otherwise. */
import fp from 'fastify-plugin';
import { authenticate } from '../../auth';

// fastify-plugin: the hook must reach the routes of the folders below, not stay in a context of its own
// (autoload marks a hook file's function so itself, but not when the file arrives wrapped as an ES module namespace).
export default fp(async function v1Hooks(app) {
  app.addHook('onRequest', authenticate);
});
