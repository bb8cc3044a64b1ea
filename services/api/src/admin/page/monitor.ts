/**
 * The "Mailbox monitor" section: the organisation's monitor settings (PUT/GET /mailbox-monitor),
 * the monitored mailboxes with their state, who signed in and the last message read
 * (GET /mailbox-monitor/mailboxes), adding a mailbox, and each mailbox's authorization link
 * (POST .../mailboxes/:id/authorization-link, `returnTo` "exsync" or "paste").
 */
import { ApiError, call, type MonitoredMailbox, type MonitorSettings, type Session } from './api';
import { byId, el, offerLink, say, when } from './dom';
import { MONITOR_STATE_LABELS, problemText } from './labels';

export interface MonitorContext {
  session: () => Session | null;
  onAuthFailure: (e: unknown) => boolean;
}

/** The text fields of the form, by API name; empty ones are left out of the PUT (the API's defaults apply). */
const OPTIONAL_FIELDS = ['authorityHost', 'imapHost', 'smtpHost', 'processedFolder', 'failedFolder', 'forwardFailedTo'] as const;

function form(): HTMLFormElement {
  return byId<HTMLFormElement>('monitor-form');
}

function input(name: string): HTMLInputElement {
  return form().elements.namedItem(name) as HTMLInputElement;
}

function showSettings(s: MonitorSettings): void {
  input('clientId').value = s.clientId;
  input('tenantId').value = s.tenantId;
  for (const name of OPTIONAL_FIELDS) input(name).value = s[name] ?? '';
  input('clientSecret').value = '';
  byId<HTMLInputElement>('m-removeSecret').checked = false;
  byId('monitor-state').textContent =
    `${s.clientSecretSet ? 'A client secret is stored (confidential client).' : 'No client secret is stored (public client).'} Last saved ${when(s.updatedAt)}.`;
  byId('monitor-redirect-uri').textContent = s.redirectUri;
}

/** Reads the monitor settings into the form; a 404 (nothing saved yet) says so. Other errors throw. */
export async function loadMonitorSettings(session: Session): Promise<void> {
  try {
    showSettings(await call<MonitorSettings>(session, 'GET', '/mailbox-monitor'));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    byId('monitor-state').textContent = 'Not configured yet: enter the monitor app registration and save before adding mailboxes.';
  }
}

async function saveMonitorSettings(ctx: MonitorContext): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  const result = byId('monitor-result');
  // PUT replaces every field: what is empty goes back to its default, the secret is kept unless replaced or removed.
  const body: Record<string, string | null> = { clientId: input('clientId').value.trim(), tenantId: input('tenantId').value.trim() };
  for (const name of OPTIONAL_FIELDS) {
    const v = input(name).value.trim();
    if (v) body[name] = v;
  }
  const secret = input('clientSecret').value;
  if (byId<HTMLInputElement>('m-removeSecret').checked) body.clientSecret = null;
  else if (secret) body.clientSecret = secret;
  say(result, 'Saving...');
  try {
    showSettings(await call<MonitorSettings>(s, 'PUT', '/mailbox-monitor', body));
    say(result, 'Monitor settings saved.');
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    say(result, `Monitor settings not saved: ${problemText(e)}`, 'problem');
    const name = e instanceof ApiError ? e.field : undefined;
    (name ? (form().elements.namedItem(name) as HTMLElement | null) : null)?.focus();
  }
}

function stateText(m: MonitoredMailbox): string {
  if (!m.enabled) return 'Paused';
  const label = MONITOR_STATE_LABELS[m.state] ?? m.state;
  return m.stateMessage ? `${label}: ${m.stateMessage}` : label;
}

function rowOf(id: string): HTMLTableRowElement | null {
  return document.querySelector<HTMLTableRowElement>(`#monitored-mailboxes tr[data-mailbox-id="${CSS.escape(id)}"]`);
}

/** Shows `message` in the mailbox's row, where its action was taken. */
function sayInRow(id: string, message: string, kind: 'ok' | 'problem' = 'ok'): void {
  const region = rowOf(id)?.querySelector<HTMLElement>('.row-message');
  say(region ?? byId('problem'), message, region ? kind : 'problem');
}

/** A new row with its action; `updateRow` fills the cells (rows are updated in place so focus and messages stay). */
function newRow(ctx: MonitorContext, m: MonitoredMailbox): HTMLTableRowElement {
  const button = el('button', { type: 'button', 'aria-label': `Authorization link for ${m.email}`, text: 'Authorization link' });
  button.addEventListener('click', () => void authorizationLink(ctx, m));
  return el('tr', { 'data-mailbox-id': m.id, 'data-email': m.email }, [
    el('th', { scope: 'row', text: m.email }),
    el('td', { 'data-cell': 'folder' }),
    el('td', { 'data-cell': 'state' }),
    el('td', { 'data-cell': 'signedInAs' }),
    el('td', { 'data-cell': 'lastMessage' }),
    el('td', {}, [button, el('div', { class: 'message row-message', role: 'status', 'aria-live': 'polite' })]),
  ]);
}

function updateRow(row: HTMLTableRowElement, m: MonitoredMailbox): void {
  const cell = (name: string) => row.querySelector<HTMLElement>(`td[data-cell="${name}"]`)!;
  cell('folder').textContent = m.folder;
  const state = cell('state');
  state.textContent = stateText(m);
  state.dataset.state = m.state;
  state.className = `monitor-state-${m.state}`;
  cell('signedInAs').textContent = m.signedInAs ?? 'nobody yet';
  cell('lastMessage').textContent = m.lastMessageAt ? when(m.lastMessageAt) : 'none yet';
}

/** Reads the monitored mailboxes into the table (rows kept, updated, added or removed by id). */
export async function loadMailboxes(ctx: MonitorContext): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  const { mailboxes } = await call<{ mailboxes: MonitoredMailbox[] }>(s, 'GET', '/mailbox-monitor/mailboxes');
  const body = byId('monitored-mailboxes').querySelector('tbody')!;
  const keep = new Set(mailboxes.map((m) => m.id));
  for (const row of Array.from(body.querySelectorAll<HTMLTableRowElement>('tr[data-mailbox-id]'))) {
    if (!keep.has(row.dataset.mailboxId!)) row.remove();
  }
  for (const m of mailboxes) {
    let row = rowOf(m.id);
    if (!row) {
      row = newRow(ctx, m);
      body.append(row);
    }
    updateRow(row, m);
  }
  byId('no-mailboxes').hidden = mailboxes.length > 0;
}

async function addMailbox(ctx: MonitorContext, f: HTMLFormElement): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  const value = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value.trim();
  const body: Record<string, string> = { email: value('email') };
  if (value('folder')) body.folder = value('folder');
  const result = byId('add-mailbox-result');
  try {
    await call<MonitoredMailbox>(s, 'POST', '/mailbox-monitor/mailboxes', body);
    f.reset();
    say(result, `Mailbox ${body.email} added: get its authorization link and send it to the mailbox's person.`);
    await loadMailboxes(ctx);
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    say(result, `Mailbox not added: ${problemText(e)}`, 'problem');
  }
}

async function authorizationLink(ctx: MonitorContext, m: MonitoredMailbox): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  const paste = byId<HTMLInputElement>('mb-return-paste').checked;
  try {
    const { url, expiresAt } = await call<{ url: string; expiresAt: string }>(
      s,
      'POST',
      `/mailbox-monitor/mailboxes/${encodeURIComponent(m.id)}/authorization-link`,
      { returnTo: paste ? 'paste' : 'exsync' },
    );
    const box = byId<HTMLInputElement>('monitor-link');
    box.dataset.mailboxId = m.id;
    const copied = await offerLink(box, url);
    const how = paste ? ' The person signs in, then pastes the address their browser landed on into the page the link opens.' : '';
    sayInRow(
      m.id,
      `${copied ? 'Authorization link copied to the clipboard' : 'Authorization link is in the box below the table: copy it with Ctrl+C'} (valid until ${when(expiresAt)}).${how}`,
    );
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    sayInRow(m.id, `No authorization link: ${problemText(e)}`, 'problem');
  }
}

/** Forgets what the last session showed (sign-out). */
export function resetMonitor(): void {
  byId('monitored-mailboxes').querySelector('tbody')!.textContent = '';
  byId<HTMLInputElement>('monitor-link').value = '';
  form().reset();
}

export function wireMonitor(ctx: MonitorContext): void {
  form().addEventListener('submit', (ev) => {
    ev.preventDefault();
    void saveMonitorSettings(ctx);
  });
  byId('add-mailbox-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void addMailbox(ctx, ev.target as HTMLFormElement);
  });
}
