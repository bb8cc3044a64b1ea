import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultConfigError, validateItemRefusals, type Faults } from './faults';
import type { RequestLog } from './requestLog';
import { InputError, type SimStore } from './simStore';
import { StoreError } from './store';

export interface ControlDeps {
  store: SimStore;
  faults: Faults;
  requestLog: RequestLog;
  /** Routes other simulators sharing this store add (the Graph simulator's scope list, token expiry, ...). */
  extraRoutes?: ControlRoute[];
  /** Called by `POST /_sim/reset`, so those simulators forget their own state too. */
  resetHooks?: (() => void)[];
}

/** A control-API failure answered as `{error}` with this status. */
export class HttpJsonError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 10 * 1024 * 1024) throw new HttpJsonError(413, 'body too large');
    chunks.push(c as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8').trim();
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpJsonError(400, 'body must be JSON');
  }
}

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpJsonError(400, 'body must be a JSON object');
  return v as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/**
 * One control route. `run` answers a JSON value (200), `{status, body}`, or throws HttpJsonError /
 * InputError / StoreError; `m` holds the pattern's decoded groups.
 */
export type ControlRoute = { method: string; pattern: RegExp; run: (deps: ControlDeps, m: string[], body: () => Promise<unknown>, url: URL) => unknown };
type Route = ControlRoute;

const FOLDER_NAMES: Record<string, string> = { calendar: 'calendar', contacts: 'contacts', deleteditems: 'deleteditems', inbox: 'inbox' };

function folderName(s: string): string {
  const f = FOLDER_NAMES[s.toLowerCase()];
  if (!f) throw new HttpJsonError(404, `unknown folder ${s}; use calendar or contacts`);
  return f;
}

/**
 * The JSON control API under /_sim/ (documented in the package README). Every route has an
 * in-process twin on `sim.store`, `sim.faults` and `sim.requestLog`.
 */
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/_sim\/health$/, run: () => ({ ok: true }) },
  {
    method: 'POST',
    pattern: /^\/_sim\/reset$/,
    run: (d) => {
      d.store.reset();
      d.faults.clear();
      d.requestLog.clear();
      for (const hook of d.resetHooks ?? []) hook();
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: /^\/_sim\/mailboxes$/,
    run: (d) => [...d.store.mailboxes.values()].map((m) => ({ email: m.email, tenantId: m.tenantId, displayName: m.displayName, items: m.items.size })),
  },
  {
    method: 'POST',
    pattern: /^\/_sim\/mailboxes$/,
    run: async (d, _m, body) => {
      const b = obj(await body());
      if (typeof b.email !== 'string' || typeof b.tenantId !== 'string') throw new HttpJsonError(400, 'email and tenantId are required strings');
      const mb = d.store.createMailbox({ email: b.email, tenantId: b.tenantId, displayName: typeof b.displayName === 'string' ? b.displayName : undefined });
      return { status: 201, body: { email: mb.email, tenantId: mb.tenantId, displayName: mb.displayName } };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/_sim\/mailboxes\/([^/]+)$/,
    run: (d, m) => {
      if (!d.store.deleteMailbox(m[1])) throw new HttpJsonError(404, 'no such mailbox');
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/seed$/,
    run: async (d, m, body) => d.store.seed(m[1], obj(await body()) as Parameters<SimStore['seed']>[1]),
  },
  {
    method: 'GET',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/folders\/([^/]+)$/,
    run: (d, m) => d.store.readFolder(m[1], folderName(m[2])),
  },
  {
    method: 'POST',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/(calendar|contacts)$/,
    run: async (d, m, body) => {
      const b = obj(await body());
      const item = m[2] === 'calendar' ? d.store.createAppointment(m[1], b) : d.store.createContact(m[1], b);
      return { status: 201, body: item };
    },
  },
  { method: 'GET', pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)$/, run: (d, m) => d.store.readItem(m[1], m[2]) },
  { method: 'GET', pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)\/stored$/, run: (d, m) => d.store.readStored(m[1], m[2]) },
  {
    method: 'PATCH',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)$/,
    run: async (d, m, body) => d.store.editItem(m[1], m[2], obj(await body())),
  },
  {
    method: 'DELETE',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)$/,
    run: (d, m) => {
      d.store.removeItem(m[1], m[2]);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)\/move$/,
    run: async (d, m, body) => {
      const b = obj(await body());
      if (typeof b.folder !== 'string') throw new HttpJsonError(400, 'folder is required: calendar, contacts, deleteditems or inbox');
      if (b.newId !== undefined && typeof b.newId !== 'boolean') throw new HttpJsonError(400, 'newId must be a boolean');
      return d.store.moveToFolder(m[1], m[2], folderName(b.folder), b.newId as boolean | undefined);
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)\/occurrences\/(\d+)$/,
    run: async (d, m, body) => d.store.editOccurrence(m[1], m[2], Number(m[3]), obj(await body())),
  },
  {
    method: 'DELETE',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/items\/([^/]+)\/occurrences\/(\d+)$/,
    run: (d, m) => d.store.deleteOccurrence(m[1], m[2], Number(m[3])),
  },
  {
    method: 'PUT',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/impersonation$/,
    run: async (d, m, body) => {
      const b = obj(await body());
      if (typeof b.allowed !== 'boolean') throw new HttpJsonError(400, 'allowed must be a boolean');
      d.store.setImpersonation(m[1], b.allowed, typeof b.appId === 'string' ? b.appId : undefined);
      return { ok: true };
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/time-zone$/,
    run: async (d, m, body) => {
      const b = obj(await body());
      if (b.timeZone !== null && typeof b.timeZone !== 'string') throw new HttpJsonError(400, 'timeZone must be a Windows time zone id or null');
      d.store.setMailboxTimeZone(m[1], b.timeZone as string | null);
      return { ok: true };
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_sim\/tenants\/([^/]+)\/ews$/,
    run: async (d, m, body) => {
      const b = obj(await body());
      if (typeof b.enabled !== 'boolean') throw new HttpJsonError(400, 'enabled must be a boolean');
      if (b.reason !== undefined && (b.enabled || b.reason !== 'policy')) throw new HttpJsonError(400, 'reason must be "policy", and only with enabled false');
      d.store.setTenantEws(m[1], b.enabled, b.reason === 'policy' ? 'policy' : undefined);
      return { ok: true };
    },
  },
  { method: 'GET', pattern: /^\/_sim\/faults$/, run: (d) => d.faults.snapshot() },
  {
    method: 'PUT',
    pattern: /^\/_sim\/faults$/,
    run: async (d, _m, body) => {
      const b = obj(await body());
      const { seed, ...config } = b;
      if (seed !== undefined) {
        if (typeof seed !== 'number') throw new HttpJsonError(400, 'seed must be a number');
        d.faults.seed(seed);
      }
      d.faults.set(config);
      return d.faults.snapshot();
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/faults$/,
    run: async (d, m, body) => {
      d.faults.set(obj(await body()), decodeURIComponent(m[1]));
      return d.faults.snapshot();
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_sim\/mailboxes\/([^/]+)\/item-faults$/,
    run: async (d, m, body) => {
      d.faults.setItemRefusals(m[1], validateItemRefusals(await body()));
      return d.faults.snapshot();
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/_sim\/faults$/,
    run: (d) => {
      d.faults.clear();
      return d.faults.snapshot();
    },
  },
  { method: 'GET', pattern: /^\/_sim\/clock$/, run: (d) => d.store.clock.snapshot() },
  {
    // moves the simulators' "now" forward (simClock.ts): {"advanceDays": n} or {"advanceMs": n}
    method: 'POST',
    pattern: /^\/_sim\/clock$/,
    run: async (d, _m, body) => {
      const b = (await body()) as Record<string, unknown> | null;
      if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new HttpJsonError(400, 'body must be a JSON object');
      const days = b.advanceDays;
      const ms = b.advanceMs;
      if ((days === undefined) === (ms === undefined)) throw new HttpJsonError(400, 'send one of advanceDays or advanceMs');
      const amount = days ?? ms;
      if (typeof amount !== 'number' || !Number.isFinite(amount))
        throw new HttpJsonError(400, `${days !== undefined ? 'advanceDays' : 'advanceMs'} must be a number`);
      try {
        if (days !== undefined) d.store.clock.advanceDays(amount);
        else d.store.clock.advance(amount);
      } catch (e) {
        throw new HttpJsonError(400, (e as Error).message);
      }
      return d.store.clock.snapshot();
    },
  },
  {
    method: 'GET',
    pattern: /^\/_sim\/requests$/,
    run: (d, _m, _b, url) => {
      const protocol = url.searchParams.get('protocol') ?? undefined;
      if (protocol !== undefined && protocol !== 'ews' && protocol !== 'graph') throw new HttpJsonError(400, 'protocol must be ews or graph');
      return d.requestLog.list(url.searchParams.get('mailbox') ?? undefined, protocol);
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/_sim\/requests$/,
    run: (d) => {
      d.requestLog.clear();
      return { status: 204 };
    },
  },
];

export async function handleControl(deps: ControlDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  try {
    const path = url.pathname.replace(/\/+$/, '');
    const candidates = [...ROUTES, ...(deps.extraRoutes ?? [])].filter((r) => r.pattern.test(path));
    if (candidates.length === 0) throw new HttpJsonError(404, `no route ${path}`);
    const route = candidates.find((r) => r.method === req.method);
    if (!route) throw new HttpJsonError(405, `use ${candidates.map((r) => r.method).join(' or ')}`);
    const m = (route.pattern.exec(path) ?? []).map((s, i) => (i === 0 ? s : decodeURIComponent(s)));
    const result = await route.run(deps, m, () => readJson(req), url);
    if (result && typeof result === 'object' && 'status' in result && typeof (result as { status: unknown }).status === 'number' && !Array.isArray(result)) {
      const r = result as { status: number; body?: unknown };
      if (r.status === 204) {
        res.writeHead(204);
        res.end();
      } else sendJson(res, r.status, r.body);
      return;
    }
    sendJson(res, 200, result);
  } catch (e) {
    if (e instanceof HttpJsonError) sendJson(res, e.status, { error: e.message });
    else if (e instanceof InputError || e instanceof FaultConfigError) sendJson(res, 400, { error: e.message });
    else if (e instanceof StoreError) sendJson(res, e.code === 'NotFound' || e.code === 'ErrorFolderNotFound' ? 404 : 400, { error: e.message });
    else sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
  }
}
