import type { GraphRequest, GraphResponse } from './context';
import { errors, GraphError } from './errors';

/**
 * JSON batching (learn.microsoft.com/graph/json-batching): up to 20 requests in one POST to `/$batch`,
 * each answered on its own (`{id, status, headers, body}`); `dependsOn` runs a request after the ones it
 * names, and a request whose dependency failed answers 424 Failed Dependency. Independent requests run
 * concurrently, at most BATCH_PARALLELISM at once (Outlook's limit), each taking a slot of its
 * mailbox's concurrency budget like any other request.
 */
export const MAX_BATCH_REQUESTS = 20;
export const BATCH_PARALLELISM = 4;

interface Step {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

function readSteps(body: unknown): Step[] {
  const list = (body as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(list)) throw errors.badRequest('Invalid batch payload format: the body needs a requests collection.');
  if (list.length === 0) throw errors.badRequest('Invalid batch payload format: the requests collection is empty.');
  if (list.length > MAX_BATCH_REQUESTS) throw errors.badRequest(`Number of batch request steps exceeds the maximum of ${MAX_BATCH_REQUESTS}.`);
  const ids = new Set<string>();
  const steps = list.map((r, i): Step => {
    const s = r as Record<string, unknown>;
    if (!s || typeof s !== 'object') throw errors.badRequest(`Invalid batch payload format: request ${i} is not an object.`);
    if (typeof s.id !== 'string' || !s.id) throw errors.badRequest(`Invalid batch payload format: request ${i} needs an id.`);
    if (ids.has(s.id)) throw errors.badRequest(`Invalid batch payload format: the request id '${s.id}' is used twice.`);
    ids.add(s.id);
    if (typeof s.method !== 'string' || typeof s.url !== 'string')
      throw errors.badRequest(`Invalid batch payload format: request '${s.id}' needs a method and a url.`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((s.headers as Record<string, unknown>) ?? {})) headers[k.toLowerCase()] = String(v);
    const dependsOn = s.dependsOn === undefined ? [] : s.dependsOn;
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))
      throw errors.badRequest(`Invalid batch payload format: dependsOn of '${s.id}' must be a list of ids.`);
    return { id: s.id, method: s.method.toUpperCase(), url: s.url, headers, body: s.body, dependsOn: dependsOn as string[] };
  });
  for (const s of steps) {
    for (const d of s.dependsOn)
      if (!ids.has(d) || d === s.id) throw errors.badRequest(`Invalid batch payload format: '${s.id}' depends on unknown request '${d}'.`);
  }
  // A cycle would never run: refuse it.
  const seen = new Set<string>();
  const byId = new Map(steps.map((s) => [s.id, s]));
  const visit = (id: string, path: Set<string>) => {
    if (path.has(id)) throw errors.badRequest(`Invalid batch payload format: dependsOn forms a cycle at '${id}'.`);
    if (seen.has(id)) return;
    path.add(id);
    for (const d of byId.get(id)!.dependsOn) visit(d, path);
    path.delete(id);
    seen.add(id);
  };
  for (const s of steps) visit(s.id, new Set());
  return steps;
}

function toRequest(outer: GraphRequest, s: Step): GraphRequest {
  const u = new URL(s.url.replace(/^\/?(v1\.0\/)?/, '/'), 'http://batch');
  return {
    method: s.method,
    path: u.pathname,
    query: u.searchParams,
    headers: { ...s.headers },
    body: s.body,
    principal: outer.principal,
    baseUrl: outer.baseUrl,
  };
}

/**
 * Runs a batch. `exec` answers one inner request (taking its concurrency slot); its failures come
 * back as responses, never as exceptions.
 */
export async function runBatch(outer: GraphRequest, exec: (req: GraphRequest) => Promise<GraphResponse>): Promise<GraphResponse> {
  const steps = readSteps(outer.body);
  const done = new Map<string, GraphResponse>();
  const running = new Map<string, Promise<void>>();
  const pending = new Set(steps.map((s) => s.id));
  const byId = new Map(steps.map((s) => [s.id, s]));
  while (pending.size > 0 || running.size > 0) {
    for (const id of [...pending]) {
      const s = byId.get(id)!;
      const failed = s.dependsOn.find((d) => (done.get(d)?.status ?? 0) >= 400);
      if (failed) {
        pending.delete(id);
        done.set(id, { status: 424, headers: {}, body: { error: { code: 'FailedDependency', message: `The request depends on '${failed}', which failed.` } } });
        continue;
      }
      if (running.size >= BATCH_PARALLELISM || !s.dependsOn.every((d) => done.has(d))) continue;
      pending.delete(id);
      running.set(
        id,
        exec(toRequest(outer, s)).then(
          (r) => {
            done.set(id, r);
            running.delete(id);
          },
          (e: unknown) => {
            const g = e instanceof GraphError ? e : new GraphError(500, 'InternalServerError', String(e));
            done.set(id, { status: g.status, headers: g.headers, body: { error: { code: g.code, message: g.message } } });
            running.delete(id);
          },
        ),
      );
    }
    if (running.size > 0) await Promise.race(running.values());
    else if (pending.size > 0 && [...pending].every((id) => !byId.get(id)!.dependsOn.every((d) => done.has(d)))) break;
  }
  const responses = steps.map((s) => {
    const r = done.get(s.id)!;
    const out: Record<string, unknown> = { id: s.id, status: r.status, headers: { 'Content-Type': 'application/json', ...r.headers } };
    if (r.body !== undefined) out.body = r.body;
    return out;
  });
  return { status: 200, headers: {}, body: { responses } };
}
