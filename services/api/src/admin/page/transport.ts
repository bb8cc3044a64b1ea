/**
 * The transport part of the settings: what each transport needs from the admin (permissions, and
 * how to keep the app to some mailboxes), and the offer to switch an organisation from EWS to
 * Microsoft Graph when Exchange Online blocks EWS, with the switch's progress while it runs.
 */
import { call, type ExchangeSettings, type Session, type TransportSwitch } from './api';
import { byId, el, say } from './dom';
import { problemText } from './labels';

interface Needs {
  /** one sentence: when this transport is the right one */
  when: string;
  /** what to set up, one item each */
  items: string[];
}

const EWS_RETIREMENT =
  'Exchange Online blocks EWS unless the tenant allow-lists the app (Set-OrganizationConfig -EwsAllowedAppIDs) and turns it off for everyone on 2027-04-01: use Microsoft Graph there.';

/** What each transport needs, by sign-in mode. Sources: GRAPH-NOTES "Permissions"; learn.microsoft.com/exchange/permissions-exo/application-rbac. */
export const TRANSPORT_NEEDS: Record<'ews' | 'graph', Record<'app-only' | 'delegated', Needs>> = {
  ews: {
    'app-only': {
      when: 'EWS: for Exchange Server on premises, and for Exchange Online tenants that allow-list this app until 2027-04-01.',
      items: [
        'An app registration with the Office 365 Exchange Online application permission full_access_as_app, and admin consent.',
        "A client secret or certificate, and the EWS URL (Exchange Online: https://outlook.office365.com/EWS/Exchange.asmx; on premises: your server's /EWS/Exchange.asmx).",
        'full_access_as_app reaches every mailbox; to limit the app to some, give it the ApplicationImpersonation role with a management scope (New-ManagementScope, New-ManagementRoleAssignment -Role ApplicationImpersonation -CustomRecipientWriteScope) or an Application Access Policy.',
        EWS_RETIREMENT,
      ],
    },
    delegated: {
      when: 'EWS: for Exchange Server on premises, and for Exchange Online tenants that allow-list this app until 2027-04-01.',
      items: [
        'An app registration with the delegated permission EWS.AccessAsUser.All, a client secret or certificate, and the EWS URL.',
        'Each user signs in once with the link from the users table.',
        EWS_RETIREMENT,
      ],
    },
  },
  graph: {
    'app-only': {
      when: 'Microsoft Graph: for Exchange Online (Microsoft 365).',
      items: [
        'An app registration with the Microsoft Graph application permissions Calendars.ReadWrite and Contacts.ReadWrite, and admin consent (the consent link below asks for https://graph.microsoft.com/.default).',
        'A client secret or certificate. The Graph URL stays https://graph.microsoft.com unless you use a national cloud.',
        'These permissions reach every mailbox of the tenant. To limit the app to the mailboxes exsync syncs, use RBAC for Applications in Exchange Online: New-ServicePrincipal, New-ManagementScope, then New-ManagementRoleAssignment -App <service principal> -Role "Application Calendars.ReadWrite" and -Role "Application Contacts.ReadWrite" with -CustomResourceScope <scope>; check with Test-ServicePrincipalAuthorization, and remove the tenant-wide grant in Entra ID (grants add up).',
      ],
    },
    delegated: {
      when: 'Microsoft Graph: for Exchange Online (Microsoft 365).',
      items: [
        'An app registration with the delegated Microsoft Graph permissions Calendars.ReadWrite, Contacts.ReadWrite and offline_access, and a client secret or certificate.',
        'Each user signs in once with the link from the users table.',
      ],
    },
  },
};

/** Shows what the chosen transport and mode need, and only the endpoint field that transport uses. */
export function showTransportNeeds(transport: string, mode: string): void {
  const t = transport === 'graph' ? 'graph' : 'ews';
  const needs = TRANSPORT_NEEDS[t][mode === 'delegated' ? 'delegated' : 'app-only'];
  const box = byId('transport-needs');
  box.textContent = '';
  box.dataset.transport = t;
  box.append(
    el('p', { text: needs.when }),
    el(
      'ul',
      {},
      needs.items.map((text) => el('li', { text })),
    ),
  );
  byId('ewsUrl-field').hidden = t !== 'ews';
  byId('graphUrl-field').hidden = t !== 'graph';
}

/** Causes for which moving to Graph is the lasting fix: Exchange Online refusing EWS. */
const SWITCH_CAUSES = new Set(['EwsBlockedByPolicy', 'EwsDisabledForTenant']);

function switchText(sw: TransportSwitch): string {
  const to = sw.to === 'graph' ? 'Microsoft Graph' : 'EWS';
  const count = `${sw.mailboxesDone} of ${sw.mailboxesTotal} mailbox${sw.mailboxesTotal === 1 ? '' : 'es'}`;
  switch (sw.state) {
    case 'running':
      return `Switching to ${to}: ${count} done. Links are kept; each mailbox syncs over one transport at a time.`;
    case 'done':
      return `Switched to ${to}: ${count} moved, links kept.${sw.notice ? ` ${sw.notice.message}` : ''}`;
    default:
      return `The switch to ${to} failed (${count} moved); the mailboxes not moved stay on EWS${sw.error ? `: ${sw.error}` : '.'}`;
  }
}

/**
 * The switch offer and progress. The offer shows while the organisation is on EWS and stopped by
 * Exchange Online's EWS block; progress shows whenever GET /exchange carries `transportSwitch`.
 * Answers whether a switch is running (the caller keeps polling while it is).
 */
export function showTransportSwitch(s: ExchangeSettings): boolean {
  const offer = byId('transport-switch');
  const progress = byId('switch-progress');
  const sw = s.transportSwitch ?? null;
  offer.hidden = !((s.transport ?? 'ews') === 'ews' && SWITCH_CAUSES.has(s.status?.code ?? '') && sw?.state !== 'running');
  progress.hidden = !sw;
  progress.textContent = sw ? switchText(sw) : '';
  progress.dataset.state = sw?.state ?? '';
  progress.classList.toggle('problem', sw?.state === 'failed');
  return sw?.state === 'running';
}

const POLL_MS = 2_000;
let poll: ReturnType<typeof setTimeout> | undefined;

/** Re-reads GET /exchange every few seconds while a switch runs; `show` renders each answer. */
export function followSwitch(session: Session, show: (s: ExchangeSettings) => void, onAuthFailure: (e: unknown) => boolean): void {
  clearTimeout(poll);
  poll = setTimeout(async () => {
    try {
      const s = await call<ExchangeSettings>(session, 'GET', '/exchange');
      show(s);
      if (s.transportSwitch?.state === 'running') followSwitch(session, show, onAuthFailure);
    } catch (e) {
      if (!onAuthFailure(e)) followSwitch(session, show, onAuthFailure);
    }
  }, POLL_MS);
}

export function stopFollowingSwitch(): void {
  clearTimeout(poll);
}

/**
 * The switch button: PATCH transport "graph". Where the API runs the switch, its progress follows
 * from GET /exchange; where it refuses (409: this organisation has synced, and this exsync does not
 * move links), the refusal is shown next to the button in the page's words.
 */
export async function switchToGraph(session: Session, show: (s: ExchangeSettings) => void, onAuthFailure: (e: unknown) => boolean): Promise<void> {
  const result = byId('switch-result');
  const button = byId<HTMLButtonElement>('switch-btn');
  button.disabled = true;
  say(result, 'Switching...');
  try {
    const s = await call<ExchangeSettings>(session, 'PATCH', '/exchange', { transport: 'graph' });
    show(s);
    if (s.transportSwitch?.state === 'running') {
      say(result, 'The switch has started.');
      followSwitch(session, show, onAuthFailure);
    } else {
      say(
        result,
        s.transport === 'graph' ? 'This organisation now syncs over Microsoft Graph. Grant the Graph permissions, then run the connection test.' : '',
      );
    }
  } catch (e) {
    if (onAuthFailure(e)) return;
    say(result, `Not switched: ${problemText(e)}`, 'problem');
  } finally {
    button.disabled = false;
  }
}
