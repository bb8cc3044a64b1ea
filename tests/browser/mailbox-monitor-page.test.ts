import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { buildApp } from '@exsync/api/src/app';
import { secretBoxFromConfig } from '@exsync/db';
import { DEFAULT_SEED, MAIL_RESOURCE, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startMailSim, type MailSim } from '@exsync/mail-sim';
import { NATIVE_CLIENT_REDIRECT_URI } from '@exsync/mailbox-monitor';
import { startMonitorSupervisor, type MonitorSupervisor } from '@exsync/worker';
import type { FastifyInstance } from 'fastify';
import { composeMessage, requireDovecot } from '../support/monitor';
import { freePort } from '../support/freePort';
import { newOrg, signIn, useBrowser } from '../support/browser';
import { configFrom, createIsolatedDatabase, isolatedRedisPrefix, stackEnv, testLogger, type IsolatedDatabase } from '../support/stack';

/**
 * The admin page's "Mailbox monitor" section in Chromium against a real exsync API on a loopback
 * port, the Entra simulator, the private Dovecot and smtp-server mail servers and the monitor
 * supervisor: settings saved from the form, a mailbox added, its authorization link followed by
 * the browser through the simulated Microsoft sign-in (and the paste-the-address flow for a
 * public client), a message delivered over IMAP, and its state and last message on the page.
 */
let db: IsolatedDatabase;
let entra: EntraSim;
let mail: MailSim;
let app: FastifyInstance;
let supervisor: MonitorSupervisor;
let baseUrl: string;
let adminToken: string;

async function start(): Promise<void> {
  requireDovecot();
  db = await createIsolatedDatabase();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const config = configFrom(stackEnv(db.url, isolatedRedisPrefix(), { EXSYNC_PUBLIC_URL: baseUrl, PORT: String(port), EXSYNC_MONITOR_POLL_SECONDS: '1' }));
  adminToken = config.adminToken;
  entra = await startEntraSim();
  mail = await startMailSim({
    signingKey: entra.signingKey,
    mintToken: (email) => entra.mintDelegatedToken({ email, resource: MAIL_RESOURCE, scp: 'IMAP.AccessAsUser.All SMTP.Send' }),
  });
  app = await buildApp({ config, pool: db.pool, logStream: { write: () => true } });
  await app.listen({ port, host: '127.0.0.1' });
  supervisor = startMonitorSupervisor({ config, pool: db.pool, secretBox: secretBoxFromConfig(config), log: testLogger, scanMs: 300 });
}

async function stop(): Promise<void> {
  await supervisor?.stop().catch(() => {});
  await app?.close().catch(() => {});
  await mail?.close().catch(() => {});
  await entra?.close().catch(() => {});
  await db?.drop().catch(() => {});
}

const b = useBrowser({ start, stop, origin: () => baseUrl });

async function platform(method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(baseUrl + urlPath, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const mailboxRow = (page: Page, email: string) => page.locator(`#monitored-mailboxes tr[data-email="${email}"]`);

/** Clicks the row's "Authorization link" and answers the link the page put in the box. */
async function authorizationLink(page: Page, email: string): Promise<string> {
  await page.getByRole('button', { name: `Authorization link for ${email}` }).click();
  await expect.poll(() => mailboxRow(page, email).locator('.row-message').textContent()).toContain('Authorization link copied to the clipboard');
  return page.getByLabel('Authorization link to send').inputValue();
}

it('saves the monitor settings, adds mailboxes, follows their authorization links and shows the state and last message', async () => {
  const { orgId, token } = await newOrg(platform, 'Monitor page');
  const page = await b.newPage();
  await page.goto(`${baseUrl}/admin`);
  await signIn(page, orgId, token);
  await expect.poll(() => page.locator('#monitor-state').textContent()).toContain('Not configured yet');

  // Settings: a bad host is refused next to the form in the page's words, then the real ones save.
  await page.getByLabel('Monitor app id (client id)').fill(DEFAULT_SEED.monitorApplicationId);
  await page.getByLabel('Monitor tenant id').fill(DEFAULT_SEED.tenantId);
  await page.getByLabel('Monitor sign-in authority (optional)').fill(entra.url);
  await page.getByLabel('IMAP server (host:port)').fill('imap.evil.example:993');
  await page.getByLabel('SMTP server (host:port)').fill(`${mail.smtp.host}:${mail.smtp.port}`);
  await page.getByLabel('Forward failed messages to').fill('crm-failures@contoso.example');
  await page.getByRole('button', { name: 'Save monitor settings' }).click();
  await expect.poll(() => page.locator('#monitor-result').textContent()).toContain('Monitor settings not saved: "IMAP server"');
  expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('m-imapHost');
  await page.getByLabel('IMAP server (host:port)').fill(`${mail.imap.host}:${mail.imap.port}`);
  await page.getByLabel('Monitor app secret (confidential clients only)').fill('monitor-secret-never-shown');
  await page.getByRole('button', { name: 'Save monitor settings' }).click();
  await expect.poll(() => page.locator('#monitor-result').textContent()).toBe('Monitor settings saved.');
  expect(await page.locator('#monitor-state').textContent()).toContain('A client secret is stored');
  expect(await page.getByLabel('Monitor app secret (confidential clients only)').inputValue()).toBe('');
  expect(await page.getByLabel('Folder for processed messages').inputValue()).toBe('processed');
  expect(await page.locator('#monitor-redirect-uri').textContent()).toBe(`${baseUrl}/oauth/monitor/callback`);
  // The simulator's monitor app is a public client: remove the secret again from the form.
  await page.getByLabel('Remove the stored secret').check();
  await page.getByRole('button', { name: 'Save monitor settings' }).click();
  await expect.poll(() => page.locator('#monitor-state').textContent()).toContain('No client secret is stored');
  const saved = (await platform('GET', `/v1/orgs/${orgId}/mailbox-monitor`)).json;
  expect(saved).toMatchObject({
    clientId: DEFAULT_SEED.monitorApplicationId,
    tenantId: DEFAULT_SEED.tenantId,
    authorityHost: entra.url,
    imapHost: `${mail.imap.host}:${mail.imap.port}`,
    smtpHost: `${mail.smtp.host}:${mail.smtp.port}`,
    forwardFailedTo: 'crm-failures@contoso.example',
    clientSecretSet: false,
  });
  expect(await page.content()).not.toContain('monitor-secret-never-shown');

  // Add a mailbox: the row says it awaits sign-in; the same address twice is refused in the page's words.
  const alice = 'alice@contoso.example';
  await page.getByLabel('Mailbox address').fill(alice);
  await page.getByRole('button', { name: 'Add mailbox' }).click();
  await expect.poll(() => page.locator('#add-mailbox-result').textContent()).toContain(`Mailbox ${alice} added`);
  await expect.poll(() => mailboxRow(page, alice).locator('td[data-cell="state"]').getAttribute('data-state')).toBe('awaiting-sign-in');
  expect(await mailboxRow(page, alice).locator('td[data-cell="lastMessage"]').textContent()).toBe('none yet');
  expect(await page.locator('#no-mailboxes').isVisible()).toBe(false);
  await page.getByLabel('Mailbox address').fill(alice);
  await page.getByRole('button', { name: 'Add mailbox' }).click();
  await expect.poll(() => page.locator('#add-mailbox-result').textContent()).toBe(`Mailbox not added: ${alice} is already monitored`);

  // Its authorization link, followed by the browser through the simulated Microsoft sign-in.
  const link = await authorizationLink(page, alice);
  expect(link.startsWith(`${baseUrl}/oauth/monitor/start?`)).toBe(true);
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(link);
  const person = await b.newPage();
  await person.goto(link);
  await expect.poll(() => person.locator('[data-outcome]').getAttribute('data-outcome')).toBe('monitor-connected');
  await person.close();
  const row = mailboxRow(page, alice);
  await expect.poll(() => row.locator('td[data-cell="signedInAs"]').textContent(), { timeout: 15_000 }).toBe(alice);
  await expect.poll(() => row.locator('td[data-cell="state"]').getAttribute('data-state'), { timeout: 20_000 }).toMatch(/^(idle|polling)$/);

  // A message delivered to the mailbox: the page shows when it was read.
  const before = Date.now();
  await mail.deliver(
    alice,
    await composeMessage({ from: 'candidate@fabrikam.example', to: alice, subject: 'Application: Senior engineer', text: 'CV attached.' }),
  );
  await expect.poll(() => row.locator('td[data-cell="lastMessage"]').textContent(), { timeout: 20_000 }).not.toBe('none yet');
  const api = (await platform('GET', `/v1/orgs/${orgId}/mailbox-monitor/mailboxes`)).json.mailboxes.find((m: { email: string }) => m.email === alice);
  expect(Date.parse(api.lastMessageAt)).toBeGreaterThanOrEqual(before - 1_000);
  expect(await row.locator('td[data-cell="lastMessage"]').textContent()).toContain(String(new Date(api.lastMessageAt).getUTCFullYear()));
  expect(await row.locator('td[data-cell="state"]').textContent()).toContain('Watching');
  const feed = (await platform('GET', `/v1/orgs/${orgId}/inbound-messages`)).json.messages;
  expect(feed.map((m: { subject: string }) => m.subject)).toEqual(['Application: Senior engineer']);
  await page.locator('#monitor').scrollIntoViewIfNeeded();
  await b.screenshot(page, 'mailbox-monitor-page');

  // The paste-the-address flow (a public client with the native-client redirect URI only).
  const bob = 'bob@contoso.example';
  await page.getByLabel('Mailbox address').fill(bob);
  await page.getByLabel('Folder to read (optional)').fill('Applications');
  await page.getByRole('button', { name: 'Add mailbox' }).click();
  await expect.poll(() => mailboxRow(page, bob).locator('td[data-cell="folder"]').textContent()).toBe('Applications');
  await page.getByLabel('Paste the address', { exact: false }).check();
  const pasteLink = await authorizationLink(page, bob);
  expect(new URL(pasteLink).searchParams.get('r')).toBe('paste');
  expect(await mailboxRow(page, bob).locator('.row-message').textContent()).toContain('pastes the address their browser landed on');
  const bobPage = await b.newPage();
  await bobPage.goto(pasteLink);
  // Microsoft's native-client page is out of reach here (and Playwright does not route redirects):
  // the person copies the address the browser tried to open, as they would from the address bar.
  const [landed] = await Promise.all([
    b.context.waitForEvent('request', (r) => r.url().startsWith(`${NATIVE_CLIENT_REDIRECT_URI}?`)),
    bobPage.getByRole('link', { name: `Sign in with Microsoft as ${bob}` }).click(),
  ]);
  await bobPage.getByLabel('Address of the empty page').fill(landed.url());
  await bobPage.getByRole('button', { name: 'Connect' }).click();
  await expect.poll(() => bobPage.locator('[data-outcome]').getAttribute('data-outcome')).toBe('monitor-connected');
  await expect.poll(() => mailboxRow(page, bob).locator('td[data-cell="signedInAs"]').textContent(), { timeout: 15_000 }).toBe(bob);

  // A revoked refresh token: the row says the mailbox needs sign-in again, with the monitor's reason.
  entra.revokeRefreshTokens(alice);
  await mail.dovecot.kick(alice); // the session ends as at a token expiry; the refresh is refused
  await expect.poll(() => row.locator('td[data-cell="state"]').getAttribute('data-state'), { timeout: 20_000 }).toBe('needs-sign-in');
  const revoked = (await platform('GET', `/v1/orgs/${orgId}/mailbox-monitor/mailboxes`)).json.mailboxes.find((m: { email: string }) => m.email === alice);
  expect(await row.locator('td[data-cell="state"]').textContent()).toBe(
    `Needs sign-in: send a new authorization link${revoked.stateMessage ? `: ${revoked.stateMessage}` : ''}`,
  );
  await b.screenshot(page, 'mailbox-monitor-needs-sign-in');
  await page.close();
}, 60_000);
