/** The Exchange settings form, admin consent and the organisation's connection test. */
import { call, ApiError, type ExchangeSettings, type Session, type TestResult } from './api';
import { byId, el, say } from './dom';
import { CONSENT_LABELS, consentState, problemText } from './labels';
import { followSwitch, showTransportNeeds, showTransportSwitch, stopFollowingSwitch, switchToGraph } from './transport';

/** The endpoint fields: where the app's credentials and tokens go. */
const ENDPOINTS = ['ewsUrl', 'graphUrl', 'authorityHost'] as const;

function form(): HTMLFormElement {
  return byId<HTMLFormElement>('settings-form');
}

function field<T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(name: string): T {
  return form().elements.namedItem(name) as T;
}

function credentialChoice(): 'secret' | 'certificate' {
  return byId<HTMLInputElement>('s-credential-certificate').checked ? 'certificate' : 'secret';
}

/** Shows the secret or the certificate field, as the radio buttons say. */
export function showCredentialField(): void {
  const cert = credentialChoice() === 'certificate';
  byId('secret-field').hidden = cert;
  byId('certificate-field').hidden = !cert;
}

function showNeeds(): void {
  showTransportNeeds(field<HTMLSelectElement>('transport').value, field<HTMLSelectElement>('authMode').value);
}

function showConsent(s: ExchangeSettings): void {
  const consent = consentState(s);
  byId('consent-state').textContent = CONSENT_LABELS[consent.state] ?? consent.state;
  byId('consent-state').dataset.state = consent.state;
  byId('consent-error').textContent = consent.error ? `(${consent.error})` : '';
}

export function showSettings(s: ExchangeSettings): void {
  stored = s;
  for (const name of ['applicationId', 'tenantId', ...ENDPOINTS] as const) field<HTMLInputElement>(name).value = s[name] ?? '';
  field<HTMLSelectElement>('authMode').value = s.authMode ?? 'app-only';
  field<HTMLSelectElement>('transport').value = s.transport ?? 'ews';
  field<HTMLSelectElement>('conflictPolicy').value = s.conflictPolicy ?? 'newest-wins';
  field<HTMLInputElement>('clientSecret').value = '';
  field<HTMLTextAreaElement>('clientCertificate').value = '';
  byId<HTMLInputElement>(s.clientCertificateSet ? 's-credential-certificate' : 's-credential-secret').checked = true;
  showCredentialField();
  showNeeds();
  byId('secret-state').textContent = s.clientCertificateSet
    ? `A client certificate is stored${s.clientCertificateThumbprint ? ` (SHA-256 thumbprint ${s.clientCertificateThumbprint})` : ''}.`
    : s.clientSecretSet
      ? 'A client secret is stored.'
      : 'No client secret or certificate is stored yet.';
  showStatus(s);
}

/**
 * The organisation-wide parts only (status banner, consent, the transport switch), leaving the
 * form as the admin is editing it. Answers whether a transport switch is running.
 */
function showStatus(s: ExchangeSettings): boolean {
  showConsent(s);
  const orgProblem = s.status ?? s.orgError ?? null;
  const banner = byId('org-status');
  banner.hidden = !orgProblem;
  // The catalogue's words as they are (humanize is for API field names; it would quote "transport" or "mailbox" here).
  banner.textContent = orgProblem ? `Syncing is stopped for the whole organisation: ${orgProblem.message ?? orgProblem.code}` : '';
  banner.dataset.code = orgProblem?.code ?? '';
  return showTransportSwitch(s);
}

/** While a switch runs, each poll refreshes the status only; its end refreshes the whole form (the transport changed). */
function showPolled(s: ExchangeSettings): void {
  if (s.transportSwitch?.state === 'running') showStatus(s);
  else showSettings(s);
}

/** Reads the settings into the form; a 404 (nothing saved yet) is not a problem. Other errors throw. */
export async function loadSettings(session: Session, onAuthFailure: (e: unknown) => boolean = () => false): Promise<void> {
  stored = null;
  stopFollowingSwitch();
  try {
    const s = await call<ExchangeSettings>(session, 'GET', '/exchange');
    showSettings(s);
    if (s.transportSwitch?.state === 'running') followSwitch(session, showPolled, onAuthFailure);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    byId('secret-state').textContent = 'Not configured yet: enter the values from your Azure app registration.';
    showNeeds();
    showStatus({ applicationId: '', tenantId: '', clientSecretSet: false, clientCertificateSet: false });
  }
}

/** After consent in another tab, coming back shows the new consent state. */
export async function refreshConsent(session: Session): Promise<void> {
  try {
    showConsent(await call<ExchangeSettings>(session, 'GET', '/exchange'));
  } catch {
    // nothing saved yet: the form already says so
  }
}

/** The settings as last read or saved (null until some are stored): what a save compares against. */
let stored: ExchangeSettings | null = null;

/** The form's values by API name (empty endpoint fields left out: the API's defaults apply). */
function formValues(): Record<string, string> {
  const body: Record<string, string> = {
    applicationId: field<HTMLInputElement>('applicationId').value.trim(),
    tenantId: field<HTMLInputElement>('tenantId').value.trim(),
    authMode: field<HTMLSelectElement>('authMode').value,
    transport: field<HTMLSelectElement>('transport').value,
    conflictPolicy: field<HTMLSelectElement>('conflictPolicy').value,
  };
  for (const name of ENDPOINTS) {
    const v = field<HTMLInputElement>(name).value.trim();
    if (v) body[name] = v;
  }
  if (credentialChoice() === 'certificate') {
    const pem = field<HTMLTextAreaElement>('clientCertificate').value.trim();
    if (pem) body.clientCertificate = pem;
  } else {
    const secret = field<HTMLInputElement>('clientSecret').value;
    if (secret) body.clientSecret = secret;
  }
  return body;
}

/**
 * What a save sends: the first save (nothing stored) PUTs the whole form; later saves PATCH only
 * the fields that differ from the stored settings, so a change of one setting leaves the others as
 * stored. Clearing an endpoint field (back to its default) is a full replace: PUT.
 */
function saveRequest(values: Record<string, string>): { method: 'PUT' | 'PATCH'; body: Record<string, string> } | null {
  if (!stored || ENDPOINTS.some((name) => stored?.[name] && !values[name])) return { method: 'PUT', body: values };
  const before = stored as unknown as Record<string, unknown>;
  const changed = Object.fromEntries(Object.entries(values).filter(([name, v]) => before[name] !== v));
  return Object.keys(changed).length ? { method: 'PATCH', body: changed } : null;
}

export async function saveSettings(session: Session, onAuthFailure: (e: unknown) => boolean): Promise<void> {
  const result = byId('settings-result');
  const request = saveRequest(formValues());
  if (!request) {
    say(result, 'Nothing to save: no setting was changed.');
    return;
  }
  say(result, 'Saving...');
  try {
    const saved = await call<ExchangeSettings>(session, request.method, '/exchange', request.body);
    showSettings(saved);
    say(result, 'Settings saved.');
    if (saved.transportSwitch?.state === 'running') followSwitch(session, showPolled, onAuthFailure);
  } catch (e) {
    if (onAuthFailure(e)) return;
    say(result, `Settings not saved: ${problemText(e)}`, 'problem');
    const name = e instanceof ApiError ? e.field : undefined;
    const control = name ? (form().elements.namedItem(name) as HTMLElement | null) : null;
    control?.focus();
  }
}

export async function consentLink(session: Session, onAuthFailure: (e: unknown) => boolean): Promise<void> {
  const result = byId('consent-result');
  try {
    const { url } = await call<{ url: string }>(session, 'GET', '/exchange/admin-consent-url');
    const a = byId<HTMLAnchorElement>('consent-link');
    a.href = url;
    a.hidden = false;
    a.focus();
    say(result, 'The admin consent link is ready. A Global Administrator of the tenant must open it.');
  } catch (e) {
    if (onAuthFailure(e)) return;
    say(result, `No consent link: ${problemText(e)}`, 'problem');
  }
}

/** Renders a connection test's steps into `out`. */
export function renderSteps(out: HTMLElement, result: TestResult): void {
  out.textContent = '';
  out.classList.toggle('problem', !result.ok);
  out.append(el('p', { text: result.ok ? `Connection works${result.mailbox ? ` for ${result.mailbox}` : ''}.` : 'Connection test failed.' }));
  const list = el('ul', { class: 'steps' });
  for (const s of result.steps) {
    list.append(el('li', { class: s.ok ? 'ok' : 'fail', 'data-step': s.name }, [el('strong', { text: `${STEP_LABELS[s.name] ?? s.name}: ` }), s.message]));
  }
  out.append(list);
}

const STEP_LABELS: Record<string, string> = { settings: 'Settings', token: 'Token from Entra ID', ews: 'EWS call', graph: 'Graph call' };

/** Runs a connection test (`path` relative to the organisation) and shows it in `out`. */
export async function runTest(session: Session, path: string, body: object, out: HTMLElement, onAuthFailure: (e: unknown) => boolean): Promise<void> {
  say(out, 'Testing...');
  try {
    renderSteps(out, await call<TestResult>(session, 'POST', path, body));
  } catch (e) {
    if (onAuthFailure(e)) return;
    say(out, `The test could not run: ${problemText(e)}`, 'problem');
  }
}

export function wireSettings(session: () => Session | null, onAuthFailure: (e: unknown) => boolean): void {
  form().addEventListener('submit', (ev) => {
    ev.preventDefault();
    const s = session();
    if (s) void saveSettings(s, onAuthFailure);
  });
  for (const id of ['s-credential-secret', 's-credential-certificate']) byId(id).addEventListener('change', showCredentialField);
  for (const id of ['s-authMode', 's-transport']) byId(id).addEventListener('change', showNeeds);
  byId('switch-btn').addEventListener('click', () => {
    const s = session();
    if (s) void switchToGraph(s, showPolled, onAuthFailure);
  });
  byId('consent-link-btn').addEventListener('click', () => {
    const s = session();
    if (s) void consentLink(s, onAuthFailure);
  });
  byId('test-btn').addEventListener('click', () => {
    const s = session();
    if (!s) return;
    const mailbox = byId<HTMLInputElement>('test-mailbox').value.trim();
    void runTest(s, '/exchange/test', mailbox ? { mailbox } : {}, byId('test-result'), onAuthFailure);
  });
}
