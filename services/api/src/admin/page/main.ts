/**
 * The exsync admin page (served at /admin, bundled by esbuild from these modules). Sign-in checks
 * the organisation id and token against the API before showing anything; a token the API refuses
 * at any point signs out and says so on the sign-in form.
 */
import { ApiError, call, type Session, type UserPage } from './api';
import { byId, say } from './dom';
import { TOKEN_REJECTED, problemText } from './labels';
import { closeDetail, openDetail, wireDetail } from './detail';
import { loadMailboxes, loadMonitorSettings, resetMonitor, wireMonitor } from './monitor';
import { loadSettings, refreshConsent, wireSettings } from './settings';
import { stopFollowingSwitch } from './transport';
import { loadUsers, resetUsers, wireUsers, type UsersContext } from './users';

const KEY = 'exsync.admin';
const REFRESH_MS = 3_000;
let session: Session | null = null;
let refreshTimer: ReturnType<typeof setInterval> | undefined;

function signOut(message = ''): void {
  session = null;
  sessionStorage.removeItem(KEY);
  clearInterval(refreshTimer);
  refreshTimer = undefined;
  stopFollowingSwitch();
  closeDetail();
  resetUsers();
  resetMonitor();
  byId('app').hidden = true;
  byId('signin').hidden = false;
  say(byId('signin-problem'), message, 'problem');
  if (message) byId('signin-token').focus();
}

/** A 401 anywhere: sign out and say the token is wrong or expired. Returns true when it handled `e`. */
function onAuthFailure(e: unknown): boolean {
  if (e instanceof ApiError && e.status === 401) {
    signOut(TOKEN_REJECTED);
    return true;
  }
  return false;
}

const ctx: UsersContext = {
  session: () => session,
  onAuthFailure,
  openDetail: (user) => openDetail({ session: () => session, onAuthFailure }, user),
};

/** Checks the token and organisation with one read; resolves to the message to show, or null when they work. */
async function check(candidate: Session): Promise<string | null> {
  try {
    await call<UserPage>(candidate, 'GET', '/users?limit=1');
    return null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return TOKEN_REJECTED;
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
      return `No organisation with id "${candidate.orgId}" for this token: check the organisation id (a token opens its own organisation only).`;
    }
    return `Could not sign in: ${problemText(e)}`;
  }
}

async function start(candidate: Session): Promise<void> {
  const problem = await check(candidate);
  if (problem) {
    signOut(problem);
    return;
  }
  session = candidate;
  sessionStorage.setItem(KEY, JSON.stringify(session));
  say(byId('signin-problem'), '');
  byId('signin').hidden = true;
  byId('app').hidden = false;
  byId('who').textContent = `Organisation ${session.orgId}`;
  await loadSettings(session, onAuthFailure).catch((e) => {
    if (!onAuthFailure(e)) say(byId('settings-result'), problemText(e), 'problem');
  });
  if (!session) return;
  await loadMonitorSettings(session).catch((e) => {
    if (!onAuthFailure(e)) say(byId('monitor-result'), problemText(e), 'problem');
  });
  if (!session) return;
  await loadUsers(ctx).catch((e) => onAuthFailure(e));
  await loadMailboxes(ctx).catch((e) => onAuthFailure(e));
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => {
    loadUsers(ctx).catch((e) => onAuthFailure(e));
    loadMailboxes(ctx).catch((e) => onAuthFailure(e));
  }, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  byId('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target as HTMLFormElement;
    const orgId = (f.elements.namedItem('orgId') as HTMLInputElement).value.trim();
    const tokenBox = f.elements.namedItem('token') as HTMLInputElement;
    const token = tokenBox.value.trim();
    tokenBox.value = '';
    say(byId('signin-problem'), 'Signing in...');
    void start({ orgId, token });
  });
  byId('signout').addEventListener('click', () => signOut());
  wireSettings(() => session, onAuthFailure);
  wireUsers(ctx);
  wireDetail({ session: () => session, onAuthFailure });
  wireMonitor({ session: () => session, onAuthFailure });
  window.addEventListener('focus', () => {
    if (session) void refreshConsent(session);
  });
  const saved = sessionStorage.getItem(KEY);
  if (saved) {
    try {
      void start(JSON.parse(saved) as Session);
    } catch {
      sessionStorage.removeItem(KEY);
    }
  }
});
