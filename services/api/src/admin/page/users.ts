/** The users table: one page at a time, searched and filtered, with each user's switches and actions. */
import { call, type Direction, type Session, type User, type UserPage } from './api';
import { byId, el, offerLink, say } from './dom';
import { FIELD_LABELS, STATE_LABELS, problemText, statusText } from './labels';

const SWITCHES = ['mobileAccess', 'useOAuthForExchange', 'syncCalendar', 'calendarDirection', 'syncContacts', 'contactsDirection'] as const;
const DIRECTIONS: [Direction, string][] = [
  ['two-way', 'Both ways'],
  ['crm-to-exchange', 'CRM to Exchange'],
  ['exchange-to-crm', 'Exchange to CRM'],
];

export interface UsersContext {
  session: () => Session | null;
  onAuthFailure: (e: unknown) => boolean;
  openDetail: (user: User) => void;
}

/** The page being shown: its filters, and the cursors of the pages before it. */
const view = {
  search: '',
  state: '',
  limit: 50,
  /** `after` of each page shown so far; the last is the current page's */
  cursors: [undefined] as (string | undefined)[],
  next: null as string | null,
  shown: 0,
};

function label(user: User): string {
  return user.displayName ? `${user.displayName} <${user.email}>` : user.email;
}

function rowMessage(userId: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`tr[data-user-id="${CSS.escape(userId)}"] .row-message`);
}

/** Shows `message` in the user's row (where the action was taken), else in the page's problem area. */
function sayInRow(userId: string, message: string, kind: 'ok' | 'problem' = 'ok'): void {
  const region = rowMessage(userId);
  if (region) say(region, message, kind);
  else say(byId('problem'), message, 'problem');
}

async function patchUser(
  ctx: UsersContext,
  user: User,
  fieldName: string,
  value: boolean | string,
  control: HTMLInputElement | HTMLSelectElement,
): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  control.disabled = true;
  try {
    const updated = await call<User>(s, 'PATCH', `/users/${encodeURIComponent(user.id)}`, { [fieldName]: value });
    replaceRow(ctx, updated);
    sayInRow(user.id, `${FIELD_LABELS[fieldName] ?? fieldName}: saved.`);
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    if (control instanceof HTMLInputElement) control.checked = !value;
    sayInRow(user.id, `${FIELD_LABELS[fieldName] ?? fieldName} not saved: ${problemText(e)}`, 'problem');
  } finally {
    control.disabled = false;
  }
}

async function copySignInLink(ctx: UsersContext, user: User): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  try {
    const { url } = await call<{ url: string }>(s, 'POST', `/users/${encodeURIComponent(user.id)}/microsoft-login`);
    const box = byId<HTMLInputElement>('signin-link');
    box.dataset.userId = user.id;
    const copied = await offerLink(box, url);
    sayInRow(user.id, copied ? 'Sign-in link copied to the clipboard.' : 'Sign-in link is in the box below the table: copy it with Ctrl+C.');
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    sayInRow(user.id, `No sign-in link: ${problemText(e)}`, 'problem');
  }
}

/** POST .../sync for the user; the message goes to `report`. */
export async function requestSync(
  ctx: Pick<UsersContext, 'session' | 'onAuthFailure'>,
  user: User,
  report: (message: string, kind?: 'ok' | 'problem') => void,
): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  try {
    await call(s, 'POST', `/users/${encodeURIComponent(user.id)}/sync`);
    report(`Sync of ${user.email} requested.`);
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    report(`Sync of ${user.email} not started: ${problemText(e)}`, 'problem');
  }
}

function row(ctx: UsersContext, user: User): HTMLTableRowElement {
  const cells: HTMLElement[] = [el('th', { scope: 'row' }, [label(user)])];
  for (const name of SWITCHES) {
    const id = `u-${user.id}-${name}`;
    const hidden = el('label', { for: id, class: 'visually-hidden', text: `${FIELD_LABELS[name]} for ${user.email}` });
    let control: HTMLInputElement | HTMLSelectElement;
    if (name === 'calendarDirection' || name === 'contactsDirection') {
      const select = el(
        'select',
        { id, 'data-field': name },
        DIRECTIONS.map(([v, t]) => el('option', { value: v, text: t })),
      );
      select.value = user.settings[name];
      select.addEventListener('change', () => void patchUser(ctx, user, name, select.value, select));
      control = select;
    } else {
      const box = el('input', { id, type: 'checkbox', 'data-field': name, checked: user.settings[name] });
      box.addEventListener('change', () => void patchUser(ctx, user, name, box.checked, box));
      control = box;
    }
    cells.push(el('td', {}, [hidden, control]));
  }
  const st = user.status;
  cells.push(el('td', { class: `status state-${st?.state ?? 'unknown'}`, 'data-state': st?.state ?? '' }, [statusText(st)]));
  cells.push(
    el('td', {}, [
      el('button', { type: 'button', 'data-action': 'details', 'aria-label': `Details for ${user.email}`, onclick: () => ctx.openDetail(user) }, ['Details']),
      ' ',
      el(
        'button',
        { type: 'button', 'data-action': 'signin-link', 'aria-label': `Copy sign-in link for ${user.email}`, onclick: () => void copySignInLink(ctx, user) },
        ['Copy sign-in link'],
      ),
      ' ',
      el(
        'button',
        {
          type: 'button',
          'data-action': 'sync-now',
          'aria-label': `Sync now for ${user.email}`,
          onclick: () => void requestSync(ctx, user, (m, k) => sayInRow(user.id, m, k)),
        },
        ['Sync now'],
      ),
      el('div', { class: 'row-message message', role: 'status', 'aria-live': 'polite' }),
    ]),
  );
  return el('tr', { 'data-user-id': user.id, 'data-email': user.email }, cells);
}

/** Replaces a row with a fresh one, keeping the message the user is reading. */
function replaceRow(ctx: UsersContext, user: User): void {
  const old = document.querySelector(`tr[data-user-id="${CSS.escape(user.id)}"]`);
  if (!old) return;
  const fresh = row(ctx, user);
  const message = old.querySelector('.row-message');
  const freshMessage = fresh.querySelector('.row-message');
  if (message && freshMessage) freshMessage.replaceWith(message);
  old.replaceWith(fresh);
}

/**
 * Puts `users` in the table in order. A row holding the keyboard focus stays the same element and
 * only gets its status refreshed; other rows are rebuilt, keeping the message shown in them.
 */
function render(ctx: UsersContext, users: User[]): void {
  const body = byId('users').querySelector('tbody')!;
  const existing = new Map([...body.querySelectorAll<HTMLTableRowElement>('tr[data-user-id]')].map((tr) => [tr.dataset.userId!, tr]));
  const wanted = users.map((u) => {
    const old = existing.get(u.id);
    const fresh = row(ctx, u);
    if (old && old.contains(document.activeElement)) {
      old.querySelector('td.status')!.replaceWith(fresh.querySelector('td.status')!);
      return old;
    }
    const message = old?.querySelector('.row-message');
    if (message) fresh.querySelector('.row-message')!.replaceWith(message);
    return fresh;
  });
  wanted.forEach((tr, i) => {
    const at = body.children[i] ?? null;
    if (at !== tr) body.insertBefore(tr, at);
  });
  while (body.children.length > wanted.length) body.lastElementChild!.remove();
}

function pageInfo(): void {
  const page = view.cursors.length;
  const filters = [view.search ? `matching "${view.search}"` : '', view.state ? `in state ${STATE_LABELS[view.state] ?? view.state}` : '']
    .filter(Boolean)
    .join(' ');
  byId('page-info').textContent =
    view.shown === 0
      ? `No users${filters ? ` ${filters}` : ''}.`
      : `Page ${page}: users ${(page - 1) * view.limit + 1}-${(page - 1) * view.limit + view.shown}${filters ? ` ${filters}` : ''}${view.next ? '' : ' (last page)'}`;
  byId<HTMLButtonElement>('prev-page').disabled = page <= 1;
  byId<HTMLButtonElement>('next-page').disabled = !view.next;
}

/** Loads the current page with the current filters and shows it. */
export async function loadUsers(ctx: UsersContext): Promise<User[]> {
  const s = ctx.session();
  if (!s) return [];
  const q = new URLSearchParams({ limit: String(view.limit) });
  const after = view.cursors[view.cursors.length - 1];
  if (after) q.set('after', after);
  if (view.search) q.set('search', view.search);
  if (view.state) q.set('state', view.state);
  const data = await call<UserPage>(s, 'GET', `/users?${q}`);
  view.next = data.next;
  view.shown = data.users.length;
  render(ctx, data.users);
  pageInfo();
  return data.users;
}

function firstPage(ctx: UsersContext): void {
  view.cursors = [undefined];
  loadUsers(ctx).catch((e) => {
    if (!ctx.onAuthFailure(e)) say(byId('page-info'), problemText(e), 'problem');
  });
}

export function wireUsers(ctx: UsersContext): void {
  const stateSelect = byId<HTMLSelectElement>('user-state');
  for (const [value, text] of Object.entries(STATE_LABELS)) stateSelect.append(el('option', { value, text }));
  view.limit = Number(byId<HTMLSelectElement>('user-page-size').value);
  let typing: ReturnType<typeof setTimeout> | undefined;
  byId('user-search').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      view.search = byId<HTMLInputElement>('user-search').value.trim();
      firstPage(ctx);
    }, 250);
  });
  byId('user-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(typing);
    view.search = byId<HTMLInputElement>('user-search').value.trim();
    firstPage(ctx);
  });
  stateSelect.addEventListener('change', () => {
    view.state = stateSelect.value;
    firstPage(ctx);
  });
  byId('user-page-size').addEventListener('change', () => {
    view.limit = Number(byId<HTMLSelectElement>('user-page-size').value);
    firstPage(ctx);
  });
  byId('next-page').addEventListener('click', () => {
    if (!view.next) return;
    view.cursors.push(view.next);
    loadUsers(ctx).catch((e) => ctx.onAuthFailure(e));
  });
  byId('prev-page').addEventListener('click', () => {
    if (view.cursors.length <= 1) return;
    view.cursors.pop();
    loadUsers(ctx).catch((e) => ctx.onAuthFailure(e));
  });
  byId('add-user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void addUser(ctx, ev.target as HTMLFormElement);
  });
}

async function addUser(ctx: UsersContext, f: HTMLFormElement): Promise<void> {
  const s = ctx.session();
  if (!s) return;
  const value = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value.trim();
  const body: Record<string, string> = { crmUserId: value('crmUserId'), email: value('email') };
  if (value('displayName')) body.displayName = value('displayName');
  const result = byId('add-user-result');
  try {
    await call(s, 'POST', '/users', body);
    f.reset();
    say(result, `User ${body.email} added.`);
    await loadUsers(ctx);
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    say(result, `User not added: ${problemText(e)}`, 'problem');
  }
}

/** Forgets the filters and paging (sign-out). */
export function resetUsers(): void {
  view.cursors = [undefined];
  view.next = null;
  byId('users').querySelector('tbody')!.textContent = '';
}
