/**
 * The API built against the Entra simulator for the sign-in tests. Requests to exsync go through
 * app.inject (EXSYNC_PUBLIC_URL is a name nothing listens on, so every redirect back to exsync is
 * visible and replayable); requests to Microsoft go over real HTTP to the simulator.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import { loadConfig, type Config } from '@exsync/config';
import { createPool } from '@exsync/db';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { buildApp } from '../../services/api/src/app';

export const PUBLIC_URL = 'http://exsync.test';

export interface LoginHarness {
  app: FastifyInstance;
  sim: EntraSim;
  pool: pg.Pool;
  config: Config;
  /** mailbox ids passed to enqueueSync, in order */
  enqueued: string[];
  /** every log line the API wrote */
  logs: string[];
  admin: { authorization: string };
  close(): Promise<void>;
}

export async function startLoginHarness(): Promise<LoginHarness> {
  const sim = await startEntraSim();
  const config = loadConfig({ ...process.env, EXSYNC_PUBLIC_URL: PUBLIC_URL, LOG_LEVEL: 'info' });
  const pool = createPool(config.databaseUrl);
  const enqueued: string[] = [];
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await buildApp({
    config,
    pool,
    logStream,
    enqueueSync: async (mailboxId) => {
      enqueued.push(mailboxId);
    },
  });
  await app.ready();
  return {
    app,
    sim,
    pool,
    config,
    enqueued,
    logs,
    admin: { authorization: `Bearer ${config.adminToken}` },
    async close() {
      await app.close();
      await pool.end();
      await sim.close();
    },
  };
}

export async function api(h: LoginHarness, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  return h.app.inject({ method, url, headers: h.admin, payload: payload as never });
}

/** An organisation pointed at the simulator's default tenant and app, with one enabled user. */
export async function orgWithUser(
  h: LoginHarness,
  opts: {
    email: string;
    authMode?: 'app-only' | 'delegated';
    enable?: boolean;
    ewsUrl?: string;
    clientSecret?: string;
    transport?: 'ews' | 'graph';
    graphUrl?: string;
  },
): Promise<{ orgId: string; userId: string; mailboxId: string }> {
  const org = await api(h, 'POST', '/v1/orgs', { name: `login test ${opts.email}` });
  if (org.statusCode !== 201) throw new Error(`create org: ${org.statusCode} ${org.body}`);
  const orgId = org.json().id as string;
  const put = await api(h, 'PUT', `/v1/orgs/${orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: opts.clientSecret ?? DEFAULT_SEED.clientSecret,
    authorityHost: h.sim.url,
    authMode: opts.authMode ?? 'app-only',
    ...(opts.ewsUrl ? { ewsUrl: opts.ewsUrl } : {}),
    ...(opts.transport ? { transport: opts.transport } : {}),
    ...(opts.graphUrl ? { graphUrl: opts.graphUrl } : {}),
  });
  if (put.statusCode !== 200) throw new Error(`put settings: ${put.statusCode} ${put.body}`);
  const user = await api(h, 'POST', `/v1/orgs/${orgId}/users`, { crmUserId: `crm-${opts.email}`, email: opts.email });
  if (user.statusCode !== 201) throw new Error(`create user: ${user.statusCode} ${user.body}`);
  const userId = user.json().id as string;
  if (opts.enable ?? true) {
    const patch = await api(h, 'PATCH', `/v1/orgs/${orgId}/users/${userId}`, {
      mobileAccess: true,
      useOAuthForExchange: true,
      syncCalendar: true,
      syncContacts: true,
    });
    if (patch.statusCode !== 200) throw new Error(`enable user: ${patch.statusCode} ${patch.body}`);
  }
  const mb = await h.pool.query('SELECT id FROM mailboxes WHERE user_id = $1', [userId]);
  return { orgId, userId, mailboxId: mb.rows[0].id as string };
}

export interface StartedSignIn {
  /** the Microsoft authorize URL exsync redirected to */
  authorizeUrl: URL;
  /** the browser-binding cookie, as a Cookie header value */
  cookie: string;
}

/** POST .../microsoft-login, then opens the link as a browser would (GET /oauth/start). */
export async function startSignIn(h: LoginHarness, orgId: string, userId: string): Promise<StartedSignIn> {
  const link = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/microsoft-login`);
  if (link.statusCode !== 200) throw new Error(`sign-in link: ${link.statusCode} ${link.body}`);
  const url = new URL(link.json().url as string);
  if (url.origin !== PUBLIC_URL) throw new Error(`link not on the public URL: ${url.origin}`);
  const start = await h.app.inject({ method: 'GET', url: url.pathname + url.search });
  if (start.statusCode !== 302) throw new Error(`/oauth/start: ${start.statusCode} ${start.body}`);
  const setCookie = ([] as string[]).concat(start.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('exsync_signin=')) ?? '';
  return { authorizeUrl: new URL(String(start.headers.location)), cookie };
}

/** Follows the authorize URL at the simulator; returns the URL it redirects back to (exsync's callback). */
export async function authorizeAtMicrosoft(authorizeUrl: URL): Promise<URL> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return new URL(location);
}

/** Delivers Microsoft's redirect to exsync, with or without the browser's cookie. */
export async function deliverCallback(h: LoginHarness, callback: URL, cookie?: string): Promise<LightMyRequestResponse> {
  if (callback.origin !== PUBLIC_URL) throw new Error(`redirected to ${callback.origin}, not exsync`);
  return h.app.inject({ method: 'GET', url: callback.pathname + callback.search, headers: cookie ? { cookie } : {} });
}

/** The outcome a result page names (data-outcome on <main>). */
export function outcomeOf(res: LightMyRequestResponse): string | undefined {
  return /data-outcome="([a-z-]+)"/.exec(res.body)?.[1];
}

export async function mailboxRow(h: LoginHarness, userId: string): Promise<Record<string, any>> {
  const res = await h.pool.query(
    'SELECT id, state, smtp_address, signed_in_at, refresh_token_enc, refresh_key_id, next_run_at FROM mailboxes WHERE user_id = $1',
    [userId],
  );
  return res.rows[0];
}

/** One step of a connection test's answer. */
export interface ConnectionStep {
  name: string;
  ok: boolean;
  message: string;
}

/** POST .../exchange/test (as `mailbox` when given); answers the parsed 200 body. */
export async function orgConnectionTest(
  h: LoginHarness,
  orgId: string,
  mailbox?: string,
): Promise<{ ok: boolean; mailbox: string | null; steps: ConnectionStep[] }> {
  const res = await api(h, 'POST', `/v1/orgs/${orgId}/exchange/test`, mailbox ? { mailbox } : {});
  if (res.statusCode !== 200) throw new Error(`connection test: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** The step named `name`, if the test got that far. */
export const stepNamed = (steps: ConnectionStep[], name: string): ConnectionStep | undefined => steps.find((s) => s.name === name);
