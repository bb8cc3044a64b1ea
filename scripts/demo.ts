/**
 * `npm run demo`: the whole engine on one machine, with nothing from Microsoft. It migrates the
 * database (creating it if needed), starts the Entra ID and EWS simulators, the API and a worker
 * in this process, seeds a demo organisation whose users sign in through the simulated Microsoft
 * login, and prints where to look. Ctrl-C stops everything.
 *
 * Every step goes through the same code paths production uses: the admin API over HTTP, the
 * one-time sign-in link, MSAL against the simulated authority, EWS against the simulated server.
 */
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { exitOnConfigError, loadConfig, type Config } from '@exsync/config';

// Demo defaults, set before the configuration is read. An explicit environment still wins.
process.env.TZ = 'UTC';
process.env.EXSYNC_MODE ??= 'demo';
// libpq's rule: with no user in DATABASE_URL, connect as the operating-system user.
process.env.PGUSER ??= userInfo().username;
process.env.EXSYNC_ALLOW_INSECURE_AUTHORITY ??= 'true';
process.env.EXSYNC_SYNC_INTERVAL_SECONDS ??= '30';
// Fixed demo secrets so a restarted demo can read what the previous one stored; never use them elsewhere.
process.env.EXSYNC_ENCRYPTION_KEY ??= createHash('sha256').update('exsync demo key').digest('base64');
process.env.EXSYNC_ADMIN_TOKEN ??= 'demo-platform-token-change-me';

const DEMO_ORG_NAME = 'Demo organisation (npm run demo)';

async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const dbName = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (found.rowCount === 0) {
      // Identifiers cannot be bound as parameters; quote it the way Postgres does.
      await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
      console.log(`created database ${dbName}`);
    }
  } finally {
    await client.end();
  }
}

async function forgetCachedTokens(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:msal-cache:*`, 'COUNT', 500);
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

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    exitOnConfigError(err);
  }
  const { createPool, migrateUp } = await import('@exsync/db');
  const { buildApp } = await import('@exsync/api');
  const { startWorker } = await import('@exsync/worker');
  const { startSimulators } = await import('./simulators');
  const { followSignIn } = await import('./followSignIn');

  await ensureDatabase(config.databaseUrl);
  const applied = await migrateUp(config.databaseUrl);
  console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is current');

  const pool = createPool(config.databaseUrl);
  // The simulators keep mailboxes in memory, so a previous demo's organisation points at mailboxes
  // that no longer exist: start the demo organisation afresh.
  await pool.query('DELETE FROM organisations WHERE name = $1', [DEMO_ORG_NAME]);
  // Likewise the token cache: the simulated Entra ID signs with new keys every start, so tokens a
  // previous demo cached in Redis would be rejected by this run's EWS simulator.
  await forgetCachedTokens(config.redisUrl, config.redisPrefix);

  const sims = await startSimulators({ entraPort: 4100, ewsPort: 4200 });
  const [alice, bob] = sims.users;
  for (let i = 0; i < 5; i++) {
    const start = new Date(Date.UTC(2026, 11, 1 + i, 9 + i));
    sims.ews.store.createAppointment(alice.email, {
      subject: `Customer visit ${i + 1}`,
      start: start.toISOString(),
      end: new Date(start.getTime() + 3_600_000).toISOString(),
      location: 'Site office',
    });
  }
  sims.ews.store.createContact(alice.email, {
    givenName: 'Dana', surname: 'Field', companyName: 'Fabrikam', emails: ['dana.field@fabrikam.example'],
  });

  // The app is built first so the worker logs through the same pino logger; sync requests reach
  // the worker once it has started.
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  const app = await buildApp({
    config,
    pool,
    enqueueSync: (id, reason) => (worker ? worker.enqueueSync(id, reason) : Promise.reject(new Error('the worker is starting'))),
  });
  worker = await startWorker({ config, pool, logger: app.log });
  const baseUrl = await app.listen({ port: config.port, host: config.host });

  const platform = config.adminToken;
  const org = await api<{ id: string }>(baseUrl, platform, 'POST', '/v1/orgs', { name: DEMO_ORG_NAME });
  const { token: orgToken } = await api<{ token: string }>(baseUrl, platform, 'POST', `/v1/orgs/${org.id}/admin-tokens`);
  await api(baseUrl, orgToken, 'PUT', `/v1/orgs/${org.id}/exchange`, {
    applicationId: sims.applicationId,
    tenantId: sims.tenantId,
    clientSecret: sims.clientSecret,
    authorityHost: sims.entraUrl,
    ewsUrl: sims.ewsUrl,
  });
  const signedIn: string[] = [];
  for (const [i, u] of [alice, bob].entries()) {
    const user = await api<{ id: string }>(baseUrl, orgToken, 'POST', `/v1/orgs/${org.id}/users`, {
      crmUserId: `crm-user-${i + 1}`, email: u.email,
    });
    await api(baseUrl, orgToken, 'PATCH', `/v1/orgs/${org.id}/users/${user.id}`, {
      mobileAccess: true, useOAuthForExchange: true, syncCalendar: true, syncContacts: true,
    });
    const { url } = await api<{ url: string }>(baseUrl, orgToken, 'POST', `/v1/orgs/${org.id}/users/${user.id}/microsoft-login`);
    // Alice signs in now; Bob is left awaiting his sign-in so the admin page shows both states.
    if (i === 0) {
      const result = await followSignIn(url);
      if (result.status !== 200) throw new Error(`demo sign-in failed (${result.status}): ${result.page.slice(0, 300)}`);
      signedIn.push(u.email);
    }
  }

  console.log(`
exsync demo is running. Ctrl-C stops everything.

  Admin page      ${baseUrl}/admin        (sign in with the org-admin token below)
  API docs        ${baseUrl}/docs
  Entra ID sim    ${sims.entraUrl}   tenant ${sims.tenantId}, app ${sims.applicationId}
  EWS sim         ${sims.ewsUrl}

  Organisation    ${org.id}
  Org-admin token ${orgToken}
  Platform token  ${platform}   (demo only)
  Signed in       ${signedIn.join(', ')}; ${bob.email} awaits the sign-in link from the admin page

Try: curl -H "Authorization: Bearer ${orgToken}" ${baseUrl}/v1/orgs/${org.id}/users
`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    await app.close();
    await worker?.close();
    await sims.close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
