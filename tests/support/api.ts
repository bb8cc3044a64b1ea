/**
 * The real API (buildApp) for tests, built one way: a pool on the given database, every log line
 * captured (tests prove what never reaches the log), every enqueued sync recorded unless the caller
 * takes them, and either app.inject or a real loopback port. The presets below are the
 * configurations test files ask for: `startHarness` (test mode, inject), `startSecurityApi`
 * (production mode over real HTTP, as an attacker's requests would come).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '@exsync/api/src/app';
import { loadConfig, type Config, type HostResolver } from '@exsync/config';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { isolatedRedisPrefix } from './stack';

/** A writable stream that keeps each log line the API writes (JSON lines, one per entry). */
export function captureLogs(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

/** An answer read over HTTP with fetch. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

export interface TestApi {
  app: FastifyInstance;
  pool: pg.Pool;
  config: Config;
  platformToken: string;
  /** every log line the API wrote, in order */
  logLines: string[];
  /** syncs the API enqueued (when the caller gave no enqueueSync of its own) */
  enqueued: { mailboxId: string; reason: string }[];
  /** `http://127.0.0.1:<port>` when the API listens (opts.listen), else undefined */
  baseUrl?: string;
  /** app.inject with a bearer token (none when null) and a JSON body */
  call(method: string, url: string, token: string | null, body?: unknown): Promise<LightMyRequestResponse>;
  /** a real HTTP request to the listening API (opts.listen); redirects are not followed */
  http(method: string, path: string, token?: string | null, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** a new organisation (platform token) and an org-admin token minted for it */
  createOrg(name?: string): Promise<{ id: string; token: string; tokenId: string }>;
  /** a user of `orgId` (email `<crmUserId>@example.com`) and the id of its mailbox row */
  createUser(orgId: string, crmUserId: string, token?: string): Promise<{ id: string; mailboxId: string }>;
  close(): Promise<void>;
}

export interface TestApiOptions {
  config: Config;
  /** the pool the API uses; by default one of 5 connections on config.databaseUrl, ended at close */
  pool?: pg.Pool;
  /** takes the API's enqueued syncs instead of recording them in `enqueued` */
  enqueueSync?: (mailboxId: string, reason: string) => Promise<void>;
  resolveHost?: HostResolver;
  /** listen on 127.0.0.1 at this port (0: any free one) instead of serving inject only */
  listen?: number;
}

/** Builds and starts the API as `opts` says. */
export async function startTestApi(opts: TestApiOptions): Promise<TestApi> {
  const { config } = opts;
  const ownPool = !opts.pool;
  const pool = opts.pool ?? new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
  const logs = captureLogs();
  const enqueued: TestApi['enqueued'] = [];
  const app = await buildApp({
    config,
    pool,
    logStream: logs.stream,
    resolveHost: opts.resolveHost,
    enqueueSync:
      opts.enqueueSync ??
      (async (mailboxId, reason) => {
        enqueued.push({ mailboxId, reason });
      }),
  });
  let baseUrl: string | undefined;
  if (opts.listen === undefined) await app.ready();
  else {
    await app.listen({ port: opts.listen, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }
  const platformToken = config.adminToken;

  const call: TestApi['call'] = (method, url, token, body) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body !== undefined ? { payload: body as object } : {}),
    });

  const http: TestApi['http'] = async (method, path, token, body, headers = {}) => {
    if (!baseUrl) throw new Error('http() needs an API started with listen');
    const res = await fetch(baseUrl + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };

  const asAnswer = async (method: string, url: string, body?: unknown) => {
    const res = await call(method, url, platformToken, body);
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  };

  return {
    app,
    pool,
    config,
    platformToken,
    logLines: logs.lines,
    enqueued,
    baseUrl,
    call,
    http,
    createOrg: (name) => createOrgWithToken(asAnswer, name),
    async createUser(orgId, crmUserId, token = platformToken) {
      const res = await call('POST', `/v1/orgs/${orgId}/users`, token, { crmUserId, email: `${crmUserId}@example.com` });
      if (res.statusCode !== 201) throw new Error(`create user: ${res.statusCode} ${res.body}`);
      return { id: res.json().id as string, mailboxId: await mailboxIdOf(pool, res.json().id as string) };
    },
    async close() {
      await app.close();
      if (ownPool) await pool.end();
    },
  };
}

/** A call to the API as the platform admin, answering the status and the parsed body. */
export type PlatformCall = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>;

function expectStatus(res: { status: number; body: unknown }, want: number, what: string): void {
  if (res.status !== want) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

/** POST /v1/orgs; answers the new organisation's id. */
export async function createOrg(call: PlatformCall, name = `org-${randomBytes(3).toString('hex')}`): Promise<string> {
  const org = await call('POST', '/v1/orgs', { name });
  expectStatus(org, 201, 'create org');
  return org.body.id as string;
}

/** POST /v1/orgs, then mints an org-admin token for it (shown once). */
export async function createOrgWithToken(call: PlatformCall, name?: string): Promise<{ id: string; token: string; tokenId: string }> {
  const id = await createOrg(call, name);
  const tok = await call('POST', `/v1/orgs/${id}/admin-tokens`);
  expectStatus(tok, 201, 'mint token');
  return { id, token: tok.body.token as string, tokenId: tok.body.id as string };
}

/**
 * POST .../users, then (unless `enable` is false) PATCH it to sync (mobileAccess, OAuth, and the
 * folders asked for, both by default); answers the user's and its mailbox row's ids.
 */
export async function createEnabledUser(
  call: PlatformCall,
  pool: pg.Pool,
  orgId: string,
  user: { crmUserId: string; email: string; enable?: boolean; syncCalendar?: boolean; syncContacts?: boolean },
): Promise<{ userId: string; mailboxId: string }> {
  const created = await call('POST', `/v1/orgs/${orgId}/users`, { crmUserId: user.crmUserId, email: user.email });
  expectStatus(created, 201, 'create user');
  const userId = created.body.id as string;
  if (user.enable ?? true) {
    const patched = await call('PATCH', `/v1/orgs/${orgId}/users/${userId}`, {
      mobileAccess: true,
      useOAuthForExchange: true,
      syncCalendar: user.syncCalendar ?? true,
      syncContacts: user.syncContacts ?? true,
    });
    expectStatus(patched, 200, 'enable user');
  }
  return { userId, mailboxId: await mailboxIdOf(pool, userId) };
}

/**
 * The body of PUT /v1/orgs/:orgId/exchange for an organisation on the simulators: the Entra
 * simulator's seeded tenant and app (client secret unless `clientSecret` says another), app-only
 * unless `authMode` says delegated; the URLs and the transport only when given.
 */
export function simExchangeSettings(o: {
  authorityHost: string;
  ewsUrl?: string;
  graphUrl?: string;
  transport?: 'ews' | 'graph';
  authMode?: 'app-only' | 'delegated';
  clientSecret?: string;
}): Record<string, string> {
  return {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: o.clientSecret ?? DEFAULT_SEED.clientSecret,
    authMode: o.authMode ?? 'app-only',
    authorityHost: o.authorityHost,
    ...(o.ewsUrl ? { ewsUrl: o.ewsUrl } : {}),
    ...(o.graphUrl ? { graphUrl: o.graphUrl } : {}),
    ...(o.transport ? { transport: o.transport } : {}),
  };
}

async function mailboxIdOf(pool: pg.Pool, userId: string): Promise<string> {
  return (await pool.query('SELECT id FROM mailboxes WHERE user_id = $1', [userId])).rows[0].id as string;
}

/** Test mode (generated secrets aside from these), the run's database, debug logs, a public URL nothing listens on; `env` on top. */
export async function startHarness(env: Record<string, string> = {}): Promise<TestApi> {
  const config = loadConfig({
    ...process.env,
    EXSYNC_MODE: 'test',
    EXSYNC_ADMIN_TOKEN: `platform-${randomBytes(16).toString('hex')}`,
    EXSYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    EXSYNC_ENCRYPTION_KEY_ID: 'test-k1',
    EXSYNC_PUBLIC_URL: 'https://exsync.example.test',
    LOG_LEVEL: 'debug',
    ...env,
  });
  return startTestApi({ config });
}

/** The harness the API tests share (test mode, inject). */
export type Harness = TestApi;
/** The API the security tests attack over HTTP. */
export type SecurityApi = TestApi & { baseUrl: string };

/**
 * Production mode (secrets given, http endpoints refused, no operator hosts) plus `env`, listening
 * on a free loopback port; its own Redis prefix so rate-limit counters start at zero. `resolveHost`
 * replaces DNS.
 */
export async function startSecurityApi(env: Record<string, string> = {}, resolveHost?: HostResolver): Promise<SecurityApi> {
  const config = loadConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    EXSYNC_MODE: 'production',
    EXSYNC_REDIS_PREFIX: isolatedRedisPrefix(),
    EXSYNC_ADMIN_TOKEN: `platform-${randomBytes(16).toString('hex')}`,
    EXSYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    EXSYNC_PUBLIC_URL: 'https://exsync.example.test',
    EXSYNC_ALLOW_INSECURE_AUTHORITY: 'false',
    EXSYNC_ALLOWED_HOSTS: '',
    EXSYNC_RATE_LIMIT_PER_IP: '1000000',
    EXSYNC_RATE_LIMIT_PER_TOKEN: '1000000',
    EXSYNC_RATE_LIMIT_SIGNIN_PER_IP: '1000000',
    LOG_LEVEL: 'info',
    ...env,
  });
  return (await startTestApi({ config, resolveHost, listen: 0 })) as SecurityApi;
}
