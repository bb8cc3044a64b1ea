import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './httpIo';
import type { AddAppInput, AddUserInput, SimState } from './simState';

class BadInput extends Error {}

/**
 * JSON control API under /_sim/ for scripts (tests in-process use the EntraSim methods instead).
 * Every route answers `{ ok: true, ... }` or `{ error }` with 400/404.
 */
export async function handleControlRequest(state: SimState, req: IncomingMessage, res: ServerResponse, segments: string[], method: string): Promise<void> {
  try {
    const body = method === 'POST' ? parseJson(await readBody(req)) : {};
    const [head, id, action] = segments.map(decodeURIComponent);
    const key = `${method} ${head ?? ''}${id !== undefined ? '/:id' : ''}${action !== undefined ? `/${action}` : ''}`;
    switch (key) {
      case 'GET state':
        return sendJson(res, 200, snapshot(state));
      case 'GET stats':
        return sendJson(res, 200, state.stats);
      case 'POST stats/:id':
        if (id !== 'reset') break;
        state.resetStats();
        return ok(res);
      case 'POST tenants':
        state.addTenant(str(body, 'tenantId'), optStrArray(body, 'domains'));
        return ok(res);
      case 'POST apps':
        state.addApp(appInput(body));
        return ok(res);
      case 'POST users':
        state.addUser(userInput(body));
        return ok(res);
      case 'POST apps/:id/revoke-secret':
        requireApp(state, id);
        state.revokeSecret(id, str(body, 'secret'));
        return ok(res);
      case 'POST apps/:id/expire-secret':
        requireApp(state, id);
        state.expireSecret(id, str(body, 'secret'));
        return ok(res);
      case 'POST apps/:id/consent':
        requireApp(state, id);
        state.setConsent(id, bool(body, 'consented'));
        return ok(res);
      case 'POST apps/:id/roles':
        requireApp(state, id);
        state.setRoles(id, strArray(body, 'roles'));
        return ok(res);
      case 'POST apps/:id/admin-consent-answer': {
        requireApp(state, id);
        const answer = str(body, 'answer');
        if (answer !== 'grant' && answer !== 'deny') throw new BadInput('answer must be grant or deny');
        state.setAdminConsentAnswer(id, answer);
        return ok(res);
      }
      case 'POST users/:id/revoke-refresh-tokens':
        if (!state.findUser(id)) return sendJson(res, 404, { error: `no user ${id}` });
        state.revokeRefreshTokens(id);
        return ok(res);
      case 'POST users/:id/mfa-required':
        if (!state.findUser(id)) return sendJson(res, 404, { error: `no user ${id}` });
        state.setMfaRequired(id, bool(body, 'required'));
        return ok(res);
      case 'POST apps/:id/delegated-consent':
        requireApp(state, id);
        state.setDelegatedConsent(id, bool(body, 'consented'));
        return ok(res);
      case 'POST token-lifetime': {
        const seconds = body.seconds;
        if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) throw new BadInput('seconds must be a positive integer');
        state.setTokenLifetime(seconds);
        return ok(res);
      }
      case 'POST faults': {
        const fail = body.failTokenRequests as Record<string, unknown> | undefined;
        if (fail !== undefined) {
          const count = fail.count;
          const status = fail.status ?? 503;
          if (typeof count !== 'number' || typeof status !== 'number') throw new BadInput('failTokenRequests needs numeric count and status');
          const retry = fail.retryAfterSeconds;
          state.failNextTokenRequests(count, status, typeof retry === 'number' ? retry : undefined);
        }
        if ('tidOverride' in body) {
          const t = body.tidOverride;
          if (t !== null && typeof t !== 'string') throw new BadInput('tidOverride must be a string or null');
          state.setTidOverride(t ?? undefined);
        }
        return ok(res);
      }
    }
    sendJson(res, 404, { error: `no control route ${method} /_sim/${segments.join('/')}` });
  } catch (e) {
    if (e instanceof BadInput) return sendJson(res, 400, { error: e.message });
    throw e;
  }
}

function ok(res: ServerResponse): void {
  sendJson(res, 200, { ok: true });
}

function requireApp(state: SimState, id: string) {
  const app = state.apps.get(id);
  if (!app) throw new BadInput(`no app ${id}`);
  return app;
}

function snapshot(state: SimState) {
  return {
    tokenLifetimeSeconds: state.tokenLifetimeSeconds,
    tenants: [...state.tenants.values()],
    apps: [...state.apps.values()],
    users: [...state.users.values()].map((u) => ({ tenantId: u.tenantId, email: u.email, oid: u.oid, name: u.name, cancels: u.cancels })),
    faults: state.faults,
  };
}

function parseJson(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BadInput('body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadInput('body must be a JSON object');
  return v as Record<string, unknown>;
}

function str(b: Record<string, unknown>, k: string): string {
  const v = b[k];
  if (typeof v !== 'string' || v === '') throw new BadInput(`${k} must be a non-empty string`);
  return v;
}
function optStr(b: Record<string, unknown>, k: string): string | undefined {
  return b[k] === undefined ? undefined : str(b, k);
}
function bool(b: Record<string, unknown>, k: string): boolean {
  const v = b[k];
  if (typeof v !== 'boolean') throw new BadInput(`${k} must be a boolean`);
  return v;
}
function strArray(b: Record<string, unknown>, k: string): string[] {
  const v = b[k];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new BadInput(`${k} must be an array of strings`);
  return v as string[];
}
function optStrArray(b: Record<string, unknown>, k: string): string[] | undefined {
  return b[k] === undefined ? undefined : strArray(b, k);
}

function appInput(b: Record<string, unknown>): AddAppInput {
  const certs = b.certificates;
  if (certs !== undefined && (!Array.isArray(certs) || !certs.every((c) => typeof c?.thumbprint === 'string' && typeof c?.publicKeyPem === 'string'))) {
    throw new BadInput('certificates must be [{thumbprint, publicKeyPem}]');
  }
  const answer = optStr(b, 'adminConsentAnswer');
  if (answer !== undefined && answer !== 'grant' && answer !== 'deny') throw new BadInput('adminConsentAnswer must be grant or deny');
  return {
    tenantId: str(b, 'tenantId'),
    appId: str(b, 'appId'),
    displayName: optStr(b, 'displayName'),
    secrets: optStrArray(b, 'secrets') ?? [],
    certificates: certs as AddAppInput['certificates'],
    roles: optStrArray(b, 'roles') ?? [],
    consented: b.consented === undefined ? true : bool(b, 'consented'),
    delegatedScopes: optStrArray(b, 'delegatedScopes'),
    redirectUris: optStrArray(b, 'redirectUris'),
    servicePrincipalId: optStr(b, 'servicePrincipalId'),
    adminConsentAnswer: answer,
    publicClient: b.publicClient === undefined ? undefined : bool(b, 'publicClient'),
    delegatedConsent: b.delegatedConsent === undefined ? undefined : bool(b, 'delegatedConsent'),
  };
}

function userInput(b: Record<string, unknown>): AddUserInput {
  return {
    tenantId: str(b, 'tenantId'),
    email: str(b, 'email'),
    oid: optStr(b, 'oid'),
    name: optStr(b, 'name'),
    password: optStr(b, 'password'),
    cancels: b.cancels === undefined ? undefined : bool(b, 'cancels'),
  };
}
