/**
 * Sign-in tests' harnesses. `startLoginHarness`: the API built against the Entra simulator;
 * requests to exsync go through app.inject (EXSYNC_PUBLIC_URL is a name nothing listens on, so
 * every redirect back to exsync is visible and replayable) and requests to Microsoft over real HTTP
 * to the simulator. `startE2eStack`: the whole stack with the API on a real loopback port, for
 * browsers and sign-ins followed for real; `signInThroughLink` walks such a link.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import { expect } from 'vitest';
import { loadConfig, type Config } from '@exsync/config';
import { createPool } from '@exsync/db';
import { startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { createEnabledUser, createOrg, simExchangeSettings, startTestApi, type PlatformCall } from './api';
import { startStack, waitFor, type Stack } from './stack';

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
  const api = await startTestApi({
    config,
    pool,
    enqueueSync: async (mailboxId) => {
      enqueued.push(mailboxId);
    },
  });
  return {
    app: api.app,
    sim,
    pool,
    config,
    enqueued,
    logs: api.logLines,
    admin: { authorization: `Bearer ${config.adminToken}` },
    async close() {
      await api.close();
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
  const call: PlatformCall = async (method, url, body) => {
    const res = await api(h, method as 'GET', url, body);
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  };
  const orgId = await createOrg(call, `login test ${opts.email}`);
  const put = await call('PUT', `/v1/orgs/${orgId}/exchange`, simExchangeSettings({ ...opts, authorityHost: h.sim.url }));
  if (put.status !== 200) throw new Error(`put settings: ${put.status} ${JSON.stringify(put.body)}`);
  const { userId, mailboxId } = await createEnabledUser(call, h.pool, orgId, { crmUserId: `crm-${opts.email}`, email: opts.email, enable: opts.enable });
  return { orgId, userId, mailboxId };
}

/** The whole stack for browser and end-to-end sign-in tests: the API on a real port, the seeded users' mailboxes, no organisation yet. */
export function startE2eStack(): Promise<Stack> {
  return startStack({ listen: true, org: false, seedUsers: true, schedulerTickMs: 500 });
}

/** What startE2eStack answers. */
export type E2eStack = Stack;

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

/**
 * The user opens the one-time sign-in link: exsync -> Microsoft -> exsync, the cookie carried as a
 * browser would. Answers the Microsoft authorize URL exsync redirected to.
 */
export async function signInThroughLink(s: Stack, orgId: string, userId: string): Promise<URL> {
  const link = await s.platform('POST', `/v1/orgs/${orgId}/users/${userId}/microsoft-login`);
  const start = await fetch(link.json.url, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0];
  const authorizeUrl = new URL(start.headers.get('location')!);
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const callback = await fetch(authorize.headers.get('location')!, { headers: { cookie } });
  expect(callback.status).toBe(200);
  expect(await callback.text()).toContain('data-outcome="signed-in"');
  return authorizeUrl;
}

/** Waits for a mailbox's sync-status `state` (failing at once on `error` while waiting for `healthy`); answers the status. */
export async function waitForMailboxState(s: Stack, orgId: string, userId: string, state: 'healthy' | 'error'): Promise<any> {
  return waitFor(
    `the mailbox to become ${state}`,
    async () => {
      const st = await s.platform('GET', `/v1/orgs/${orgId}/users/${userId}/sync-status`);
      if (state === 'healthy' && st.json?.state === 'error') throw new Error(`sync failed: ${JSON.stringify(st.json)}`);
      return st.json?.state === state ? st.json : undefined;
    },
    45_000,
    200,
  );
}
