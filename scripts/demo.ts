/**
 * `npm run demo [-- --port N]`: the whole engine on one machine, with nothing from Microsoft. It
 * starts the Entra ID, EWS and Graph simulators on free ports, creates a database and Redis prefix
 * of its own (unless DATABASE_URL / EXSYNC_REDIS_PREFIX say otherwise), serves the API on a free
 * port (or --port / PORT) with a worker in this process, seeds two demo organisations (one on EWS,
 * one on Microsoft Graph) whose users sign in through the simulated Microsoft login, and keeps the
 * URLs and tokens in view. Ctrl-C stops
 * everything and removes the database and Redis keys the demo created (never anything else).
 *
 * Every step goes through the same code paths production uses: the admin API over HTTP, the
 * one-time sign-in link, MSAL against the simulated authority, EWS and Graph against the simulated servers.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import PinoPretty from 'pino-pretty';
import { exitOnConfigError, loadConfig, poolSizeFor, type Config } from '@exsync/config';
import { DEMO_USAGE, DemoUsageError, parseDemoOptions, publicUrlFor, type DemoOptions } from './demoOptions';

// Demo defaults, set before the configuration is read. An explicit environment still wins.
process.env.TZ = 'UTC';
process.env.EXSYNC_MODE ??= 'demo';
process.env.EXSYNC_ALLOW_INSECURE_AUTHORITY ??= 'true';
// The simulators listen on loopback: the operator allow-list lets the demo organisation point at them.
process.env.EXSYNC_ALLOWED_HOSTS ??= '127.0.0.1,localhost';
process.env.EXSYNC_MONITOR_POLL_SECONDS ??= '5';
process.env.EXSYNC_SYNC_INTERVAL_SECONDS ??= '30';
// Fixed demo secrets so a demo pointed at a kept database can read what an earlier one stored; never use them elsewhere.
process.env.EXSYNC_ENCRYPTION_KEY ??= createHash('sha256').update('exsync demo key').digest('base64');
process.env.EXSYNC_ADMIN_TOKEN ??= 'demo-platform-token-change-me';

/** Where the demo's own database is created: the default server, reached as libpq would. */
const DEMO_SERVER_URL = 'postgres://localhost:5432/postgres';

/** Deletes every Redis key under `prefix:` (the demo's own prefix only). */
async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function api<T>(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** What the demo started or created, undone in reverse order on Ctrl-C or on a failed start. */
const cleanups: (() => Promise<void>)[] = [];
async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch((e: Error) => console.error(`cleanup: ${e.message}`));
}

/** One seeded organisation, as the banner shows it. */
interface DemoOrg {
  orgId: string;
  orgToken: string;
  transport: 'ews' | 'graph';
  signedIn: string[];
  awaiting: string[];
}

interface Banner {
  baseUrl: string;
  entraUrl: string;
  ewsUrl: string;
  graphUrl: string;
  controlUrl: string;
  monitor: string;
  tenantId: string;
  applicationId: string;
  ews: DemoOrg;
  graph: DemoOrg;
  platformToken: string;
  database: string;
  redisPrefix: string;
}

function signedInText(o: DemoOrg): string {
  return `${o.signedIn.join(', ') || 'nobody'}${o.awaiting.length ? `; ${o.awaiting.join(', ')} awaits the sign-in link from the admin page` : ''}`;
}

/** The short block of URLs and tokens printed at start, every few minutes and on Enter. */
function bannerText(b: Banner): string {
  return `
exsync demo is running. Ctrl-C stops everything; press Enter to show this again.

  Admin page      ${b.baseUrl}/admin        (sign in with an organisation id and its org-admin token below)
  API docs        ${b.baseUrl}/docs
  Metrics         ${b.baseUrl}/metrics
  Entra ID sim    ${b.entraUrl}   tenant ${b.tenantId}, app ${b.applicationId}
  EWS sim         ${b.ewsUrl}   (control API ${b.controlUrl}/_sim/)
  Graph sim       ${b.graphUrl}   (the same mailboxes over Microsoft Graph)

  Organisation    ${b.ews.orgId}   (syncs over EWS, as for Exchange Server on premises)
  Org-admin token ${b.ews.orgToken}
  Signed in       ${signedInText(b.ews)}
  Graph org       ${b.graph.orgId}   (syncs over Microsoft Graph, as for Exchange Online)
  Graph org token ${b.graph.orgToken}
  Signed in       ${signedInText(b.graph)}
  Platform token  ${b.platformToken}   (demo only; opens both organisations)
  Database        ${b.database}
  Redis prefix    ${b.redisPrefix}
  Mailbox monitor ${b.monitor}

Try: curl -H "Authorization: Bearer ${b.ews.orgToken}" ${b.baseUrl}/v1/orgs/${b.ews.orgId}/users
`;
}

type Sims = Awaited<ReturnType<typeof import('./simulators').startSimulators>>;

/**
 * Seeds one organisation through the admin API as an operator would: the organisation, an
 * org-admin token, Exchange settings for `transport` pointed at the simulators, admin consent
 * through the simulated consent page, and its users (switched on; those in `signIn` sign in now
 * through the one-time link, the others are left awaiting it).
 */
async function seedOrganisation(
  baseUrl: string,
  platform: string,
  sims: Sims,
  spec: { name: string; transport: 'ews' | 'graph'; users: { email: string; crmUserId: string; signIn: boolean }[] },
): Promise<DemoOrg> {
  const { followSignIn } = await import('./followSignIn');
  const org = await api<{ id: string }>(baseUrl, platform, 'POST', '/v1/orgs', {
    name: `${spec.name} (npm run demo, ${new Date().toISOString().slice(0, 16)}Z)`,
  });
  const { token: orgToken } = await api<{ token: string }>(baseUrl, platform, 'POST', `/v1/orgs/${org.id}/admin-tokens`);
  await api(baseUrl, orgToken, 'PUT', `/v1/orgs/${org.id}/exchange`, {
    applicationId: sims.applicationId,
    tenantId: sims.tenantId,
    clientSecret: sims.clientSecret,
    authorityHost: sims.entraUrl,
    ewsUrl: sims.ewsUrl,
    graphUrl: sims.graphUrl,
    transport: spec.transport,
  });
  // The tenant admin grants consent through the simulated Microsoft consent page, as a real one would.
  const consent = await api<{ url: string }>(baseUrl, orgToken, 'GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`);
  const consented = await followSignIn(consent.url);
  if (consented.status !== 200) throw new Error(`demo admin consent failed (${consented.status}): ${consented.page.slice(0, 300)}`);
  const result: DemoOrg = { orgId: org.id, orgToken, transport: spec.transport, signedIn: [], awaiting: [] };
  for (const u of spec.users) {
    const user = await api<{ id: string }>(baseUrl, orgToken, 'POST', `/v1/orgs/${org.id}/users`, { crmUserId: u.crmUserId, email: u.email });
    await api(baseUrl, orgToken, 'PATCH', `/v1/orgs/${org.id}/users/${user.id}`, {
      mobileAccess: true,
      useOAuthForExchange: true,
      syncCalendar: true,
      syncContacts: true,
    });
    const { url } = await api<{ url: string }>(baseUrl, orgToken, 'POST', `/v1/orgs/${org.id}/users/${user.id}/microsoft-login`);
    if (!u.signIn) {
      result.awaiting.push(u.email);
      continue;
    }
    const signed = await followSignIn(url);
    if (signed.status !== 200) throw new Error(`demo sign-in of ${u.email} failed (${signed.status}): ${signed.page.slice(0, 300)}`);
    result.signedIn.push(u.email);
  }
  return result;
}

/** A few appointments from `from` on (one a day) and one contact in `email`'s mailbox, made as a person in Outlook would. */
function seedMailbox(
  sims: Sims,
  email: string,
  from: Date,
  subjects: string[],
  contact: { givenName: string; surname: string; companyName: string; email: string },
): void {
  subjects.forEach((subject, i) => {
    const start = new Date(from.getTime() + i * 86_400_000 + i * 3_600_000);
    sims.ews.store.createAppointment(email, {
      subject,
      start: start.toISOString(),
      end: new Date(start.getTime() + 3_600_000).toISOString(),
      location: 'Site office',
    });
  });
  sims.ews.store.createContact(email, { givenName: contact.givenName, surname: contact.surname, companyName: contact.companyName, emails: [contact.email] });
}

/** The Graph organisation's user: a fourth person of the simulated tenant, added by the demo. */
const DEMO_GRAPH_USER = { email: 'dave@contoso.example', name: 'Dave Example', password: 'dave-Passw0rd!' };

async function main(opts: DemoOptions): Promise<void> {
  const { createPool, createScratchDatabase, ensureDatabase, migrateUp } = await import('@exsync/db');

  // The demo's own database and Redis prefix unless the environment names them.
  let databaseUrl: string;
  if (opts.databaseUrl) {
    databaseUrl = opts.databaseUrl;
    if (await ensureDatabase(databaseUrl)) console.log(`created database ${new URL(databaseUrl).pathname.slice(1)}`);
    cleanups.push(async () => console.log(`kept the database ${new URL(databaseUrl).pathname.slice(1)} (DATABASE_URL was given)`));
    const applied = await migrateUp(databaseUrl);
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is current');
  } else {
    const db = await createScratchDatabase(DEMO_SERVER_URL, 'exsync_demo');
    databaseUrl = db.url;
    cleanups.push(async () => {
      await db.drop();
      console.log(`removed the demo's database ${new URL(db.url).pathname.slice(1)}`);
    });
  }
  const ownSuffix = new URL(databaseUrl).pathname
    .slice(1)
    .replace(/^exsync_demo_/, '')
    .replace(/_/g, '-');
  const redisPrefix = opts.redisPrefix ?? `exsync-demo-${ownSuffix}`;

  let config: Config;
  try {
    config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, EXSYNC_REDIS_PREFIX: redisPrefix, PORT: String(opts.port) });
  } catch (err) {
    await runCleanups();
    exitOnConfigError(err);
  }
  if (!opts.redisPrefix)
    cleanups.push(async () => {
      await deleteRedisPrefix(config.redisUrl, redisPrefix);
      console.log(`removed the demo's Redis keys ${redisPrefix}:*`);
    });
  else cleanups.push(async () => console.log(`kept the Redis keys ${redisPrefix}:* (EXSYNC_REDIS_PREFIX was given)`));

  const { buildApp } = await import('@exsync/api');
  const { startWorker } = await import('@exsync/worker');
  const { startSimulators } = await import('./simulators');

  const pool = createPool(config.databaseUrl, { max: poolSizeFor(config, 'api+worker') });
  cleanups.push(() => pool.end());
  const sims = await startSimulators({ entraPort: 0, ewsPort: 0, graphPort: 0, host: '127.0.0.1' });
  cleanups.push(() => sims.close());
  const [alice, bob] = sims.users;
  seedMailbox(
    sims,
    alice.email,
    new Date(Date.UTC(2026, 11, 1, 9)),
    [1, 2, 3, 4, 5].map((i) => `Customer visit ${i}`),
    {
      givenName: 'Dana',
      surname: 'Field',
      companyName: 'Fabrikam',
      email: 'dana.field@fabrikam.example',
    },
  );
  // Dave's mailbox lives in the same simulated tenant and is reached over Graph: his items fall in
  // the Graph calendar window (90 days back, 540 ahead of today) whenever the demo runs.
  sims.entra.addUser({ tenantId: sims.tenantId, email: DEMO_GRAPH_USER.email, name: DEMO_GRAPH_USER.name, password: DEMO_GRAPH_USER.password });
  sims.ews.store.createMailbox({ email: DEMO_GRAPH_USER.email, tenantId: sims.tenantId, displayName: DEMO_GRAPH_USER.name });
  const tomorrow = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 10 * 3_600_000);
  seedMailbox(sims, DEMO_GRAPH_USER.email, tomorrow, ['Online demo for Northwind', 'Contract review', 'Quarterly planning'], {
    givenName: 'Erin',
    surname: 'Brook',
    companyName: 'Northwind',
    email: 'erin.brook@northwind.example',
  });

  // Human-readable logs in the demo only: one line per event, no pid/hostname.
  const logStream =
    config.mode === 'demo'
      ? PinoPretty({
          singleLine: true,
          colorize: Boolean(process.stdout.isTTY),
          translateTime: 'SYS:HH:MM:ss',
          ignore: 'pid,hostname,reqId,method,path,statusCode,responseTimeMs',
          // "GET /v1/... -> 200 (4 ms)" instead of the request line's fields.
          messageFormat: (log, messageKey) =>
            log.method && log.path
              ? `${String(log.method)} ${String(log.path)} -> ${String(log.statusCode)} (${String(log.responseTimeMs)} ms)`
              : String(log[messageKey] ?? ''),
        })
      : undefined;
  // The app is built first so the worker logs through the same pino logger; sync requests reach
  // the worker once it has started.
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  const app = await buildApp({
    config,
    pool,
    logStream,
    enqueueSync: (id, reason) => (worker ? worker.enqueueSync(id, reason) : Promise.reject(new Error('the worker is starting'))),
  });
  cleanups.push(() => app.close());
  worker = await startWorker({ config, pool, logger: app.log, metrics: app.metrics });
  cleanups.push(() => worker!.close());
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw e.code === 'EADDRINUSE' ? new Error(`port ${config.port} is in use: pick another with --port, or leave it out to get a free one`) : e;
  }
  const address = app.server.address() as AddressInfo;
  const baseUrl = publicUrlFor(address.address, address.port);
  // Redirect URIs follow the port the API got, unless EXSYNC_PUBLIC_URL names another base.
  config.publicUrl = opts.publicUrl?.replace(/\/+$/, '') ?? baseUrl;

  const platform = config.adminToken;
  // Alice signs in now; Bob is left awaiting his sign-in so the admin page shows both states.
  const ewsOrg = await seedOrganisation(baseUrl, platform, sims, {
    name: 'Demo organisation on EWS',
    transport: 'ews',
    users: [
      { email: alice.email, crmUserId: 'crm-user-1', signIn: true },
      { email: bob.email, crmUserId: 'crm-user-2', signIn: false },
    ],
  });
  const graphOrg = await seedOrganisation(baseUrl, platform, sims, {
    name: 'Demo organisation on Microsoft Graph',
    transport: 'graph',
    users: [{ email: DEMO_GRAPH_USER.email, crmUserId: 'crm-user-1', signIn: true }],
  });

  const monitor = await demoMailboxMonitor(baseUrl, ewsOrg.orgToken, ewsOrg.orgId, sims);
  const banner = bannerText({
    baseUrl,
    entraUrl: sims.entraUrl,
    ewsUrl: sims.ewsUrl,
    graphUrl: sims.graphUrl,
    monitor,
    controlUrl: sims.ews.url,
    tenantId: sims.tenantId,
    applicationId: sims.applicationId,
    ews: ewsOrg,
    graph: graphOrg,
    platformToken: platform,
    database: `${new URL(databaseUrl).pathname.slice(1)}${opts.databaseUrl ? ' (from DATABASE_URL, kept)' : " (the demo's own, removed on Ctrl-C)"}`,
    redisPrefix: `${redisPrefix}${opts.redisPrefix ? ' (from EXSYNC_REDIS_PREFIX, kept)' : " (the demo's own, removed on Ctrl-C)"}`,
  });
  const showBanner = (): void => void process.stdout.write(banner);
  showBanner();
  if (opts.bannerEveryMs > 0) setInterval(showBanner, opts.bannerEveryMs).unref();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', showBanner);
  lines.on('error', () => {});

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    lines.close();
    await runCleanups();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/**
 * The mailbox monitor on the simulated IMAP/SMTP servers: settings, a monitored mailbox whose
 * person signs in through the authorization link, and one message delivered to it that shows up
 * in the CRM feed. Answers the line the demo prints (or how to get the servers when they are missing).
 */
async function demoMailboxMonitor(baseUrl: string, token: string, orgId: string, sims: Sims): Promise<string> {
  const { DEFAULT_SEED } = await import('@exsync/entra-sim');
  const { DOVECOT_INSTALL_HINT } = await import('@exsync/mail-sim');
  const { followSignIn } = await import('./followSignIn');
  if (!sims.mail) return `not running: the IMAP server is missing (${DOVECOT_INSTALL_HINT}), then start the demo again`;
  const carol = sims.users[2].email;
  await api(baseUrl, token, 'PUT', `/v1/orgs/${orgId}/mailbox-monitor`, {
    clientId: DEFAULT_SEED.monitorApplicationId,
    tenantId: sims.tenantId,
    authorityHost: sims.entraUrl,
    imapHost: `${sims.mail.imap.host}:${sims.mail.imap.port}`,
    smtpHost: `${sims.mail.smtp.host}:${sims.mail.smtp.port}`,
    forwardFailedTo: sims.users[0].email,
  });
  const mailbox = await api<{ id: string }>(baseUrl, token, 'POST', `/v1/orgs/${orgId}/mailbox-monitor/mailboxes`, { email: carol });
  const { url } = await api<{ url: string }>(baseUrl, token, 'POST', `/v1/orgs/${orgId}/mailbox-monitor/mailboxes/${mailbox.id}/authorization-link`, {});
  const signed = await followSignIn(url);
  if (signed.status !== 200) return `${carol}: the demo sign-in failed (${signed.status})`;
  const subject = 'Application for the open position';
  await sims.mail.deliver(
    carol,
    [
      `From: Applicant <applicant@example.org>`,
      `To: ${carol}`,
      `Subject: ${subject}`,
      `Message-ID: <demo-${Date.now()}@example.org>`,
      '',
      'Please find my CV attached.',
      '',
    ].join('\r\n'),
  );
  for (let i = 0; i < 60; i++) {
    const feed = await api<{ messages: { subject: string | null }[] }>(baseUrl, token, 'GET', `/v1/orgs/${orgId}/inbound-messages`);
    if (feed.messages.some((m) => m.subject === subject)) {
      return `${carol} received "${subject}" over IMAP (Dovecot ${sims.mail.imap.host}:${sims.mail.imap.port}); feed: ${baseUrl}/v1/orgs/${orgId}/inbound-messages`;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return `${carol} is monitored, but the demo message has not reached the feed yet; see GET /v1/orgs/${orgId}/mailbox-monitor/mailboxes`;
}

let options: DemoOptions;
try {
  options = parseDemoOptions(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof DemoUsageError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(`${DEMO_USAGE}\n`);
  process.exit(0);
}
main(options).catch(async (err) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  await runCleanups();
  process.exit(1);
});
