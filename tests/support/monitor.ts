/**
 * The mailbox monitor's end-to-end harness: a private Dovecot and the smtp-server SMTP server
 * (both validating the Entra simulator's tokens), the Entra simulator, a fresh Postgres database,
 * the real API (inject) and the monitor supervisor. Fails loudly when Dovecot is not installed.
 */
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@exsync/config';
import { secretBoxFromConfig } from '@exsync/db';
import { DEFAULT_SEED, MAIL_RESOURCE, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { DOVECOT_INSTALL_HINT, dovecotAvailable, startMailSim, type MailSim } from '@exsync/mail-sim';
import { startMonitorSupervisor, type MonitorSupervisor } from '@exsync/worker';
import { createOrg, startTestApi } from './api';
import { configFrom, createIsolatedDatabase, isolatedRedisPrefix, stackEnv, testLogger, waitFor, type IsolatedDatabase } from './stack';

export const FORWARD_TO = 'crm-failures@contoso.example';

export interface MonitorStack {
  db: IsolatedDatabase;
  env: Record<string, string>;
  config: Config;
  entra: EntraSim;
  mail: MailSim;
  app: FastifyInstance;
  orgId: string;
  auth: { authorization: string };
  supervisor?: MonitorSupervisor;
  startMonitor(): void;
  stopMonitor(): Promise<void>;
  /** adds a monitored mailbox and completes its person's sign-in; answers its id */
  addMailbox(email: string): Promise<string>;
  /** every message of the feed, paging through it */
  feed(): Promise<FeedMessage[]>;
  mailbox(id: string): Promise<{ state: string; stateMessage: string | null; lastMessageAt: string | null; signedInAs: string | null }>;
  close(): Promise<void>;
}

export interface FeedMessage {
  cursor: string;
  id: string;
  mailboxId: string;
  messageId: string | null;
  subject: string | null;
  from: { name: string; address: string }[];
  text: string | null;
  html: string | null;
  attachments: { index: number; filename: string | null; contentType: string; size: number }[];
  state: string;
}

export function requireDovecot(): void {
  if (!dovecotAvailable()) throw new Error(`The mailbox monitor tests need Dovecot: ${DOVECOT_INSTALL_HINT}`);
}

export async function startMonitorStack(opts: { withoutIdle?: boolean; tokenLifetimeSeconds?: number } = {}): Promise<MonitorStack> {
  requireDovecot();
  const db = await createIsolatedDatabase();
  const env = stackEnv(db.url, isolatedRedisPrefix(), { EXSYNC_MONITOR_POLL_SECONDS: '1' });
  const config = configFrom(env);
  const entra = await startEntraSim({ tokenLifetimeSeconds: opts.tokenLifetimeSeconds });
  const mail = await startMailSim({
    signingKey: entra.signingKey,
    mintToken: (email) => entra.mintDelegatedToken({ email, resource: MAIL_RESOURCE, scp: 'IMAP.AccessAsUser.All SMTP.Send' }),
    withoutIdle: opts.withoutIdle,
  });
  const api = await startTestApi({ config, pool: db.pool });
  const app = api.app;
  const platform = { authorization: `Bearer ${config.adminToken}` };
  const orgId = await createOrg(
    async (method, url, body) => {
      const res = await api.call(method, url, config.adminToken, body);
      return { status: res.statusCode, body: res.json() };
    },
    `monitor-${randomBytes(3).toString('hex')}`,
  );
  const put = await app.inject({
    method: 'PUT',
    url: `/v1/orgs/${orgId}/mailbox-monitor`,
    headers: platform,
    payload: {
      clientId: DEFAULT_SEED.monitorApplicationId,
      tenantId: DEFAULT_SEED.tenantId,
      authorityHost: entra.url,
      imapHost: `${mail.imap.host}:${mail.imap.port}`,
      smtpHost: `${mail.smtp.host}:${mail.smtp.port}`,
      forwardFailedTo: FORWARD_TO,
    },
  });
  if (put.statusCode !== 200) throw new Error(`PUT mailbox-monitor: ${put.statusCode} ${put.body}`);

  const stack: MonitorStack = {
    db,
    env,
    config,
    entra,
    mail,
    app,
    orgId,
    auth: platform,
    startMonitor() {
      stack.supervisor = startMonitorSupervisor({ config, pool: db.pool, secretBox: secretBoxFromConfig(config), log: testLogger, scanMs: 300 });
    },
    async stopMonitor() {
      await stack.supervisor?.stop();
      stack.supervisor = undefined;
    },
    async addMailbox(email) {
      const created = await app.inject({ method: 'POST', url: `/v1/orgs/${orgId}/mailbox-monitor/mailboxes`, headers: platform, payload: { email } });
      if (created.statusCode !== 201) throw new Error(`add mailbox: ${created.body}`);
      const id = created.json().id as string;
      const outcome = await signIn(stack, id);
      if (outcome !== 'monitor-connected') throw new Error(`sign-in of ${email} ended with ${outcome}`);
      return id;
    },
    async feed() {
      const all: FeedMessage[] = [];
      let after: string | undefined;
      for (;;) {
        const r = await app.inject({ method: 'GET', url: `/v1/orgs/${orgId}/inbound-messages?limit=500${after ? `&after=${after}` : ''}`, headers: platform });
        const body = r.json() as { messages: FeedMessage[]; next: string | null };
        all.push(...body.messages);
        if (body.messages.length < 500) return all;
        after = body.next ?? undefined;
      }
    },
    async mailbox(id) {
      const r = await app.inject({ method: 'GET', url: `/v1/orgs/${orgId}/mailbox-monitor/mailboxes/${id}`, headers: platform });
      return r.json();
    },
    async close() {
      await stack.stopMonitor();
      await api.close();
      await mail.close();
      await entra.close();
      await db.drop();
    },
  };
  return stack;
}

/** Follows an authorization link through the Entra simulator (login_hint signs in at once); answers the page's outcome. */
export async function signIn(stack: MonitorStack, mailboxId: string, body: Record<string, unknown> = {}): Promise<string> {
  const link = await stack.app.inject({
    method: 'POST',
    url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes/${mailboxId}/authorization-link`,
    headers: stack.auth,
    payload: body,
  });
  const url = new URL(link.json().url as string);
  const start = await stack.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
  if (start.statusCode !== 302) return `start answered ${start.statusCode}`;
  const authorize = await fetch(start.headers.location as string, { redirect: 'manual' });
  const back = new URL(authorize.headers.get('location') ?? '');
  const page = await stack.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` });
  return outcomeOf(page.body);
}

export function outcomeOf(html: string): string {
  return /data-outcome="([^"]+)"/.exec(html)?.[1] ?? 'no-page';
}

/** Builds a raw RFC 822 message with nodemailer's MailComposer. */
export function composeMessage(mail: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(mail).compile().build();
}

export { waitFor };
