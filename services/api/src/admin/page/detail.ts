/** One user's detail: status, progress, totals, failing items, recent conflicts, and the Test and Sync now actions. */
import { call, type FolderProgress, type Session, type SyncStatus, type User } from './api';
import { byId, el, say, when } from './dom';
import { STATE_LABELS, countsText, problemText, statusText } from './labels';
import { runTest } from './settings';
import { requestSync } from './users';

const FOLDER_LABELS: Record<string, string> = { calendar: 'Calendar', contacts: 'Contacts' };

export interface DetailContext {
  session: () => Session | null;
  onAuthFailure: (e: unknown) => boolean;
}

let shown: User | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;

function fact(term: string, value: string): Node[] {
  return [el('dt', { text: term }), el('dd', { text: value })];
}

function progressBar(f: FolderProgress): HTMLElement {
  const name = FOLDER_LABELS[f.folder] ?? f.folder;
  const id = `detail-progress-${f.folder}`;
  const bar = el('progress', { id, 'data-folder': f.folder });
  if (f.estimatedTotal) {
    bar.max = Math.max(f.estimatedTotal, f.applied);
    bar.value = f.applied;
  }
  const text = f.estimatedTotal
    ? `${name}: ${f.applied.toLocaleString()} of about ${f.estimatedTotal.toLocaleString()} items (${f.listed.toLocaleString()} listed, ${f.pages} pages)`
    : `${name}: ${f.applied.toLocaleString()} items applied (${f.listed.toLocaleString()} listed, ${f.pages} pages)`;
  return el('p', { class: 'progress-line' }, [el('label', { for: id, text }), ' ', bar]);
}

function render(user: User, st: SyncStatus): void {
  byId('detail-h').textContent = `User: ${user.displayName ? `${user.displayName} <${user.email}>` : user.email}`;
  const state = byId('detail-state');
  state.textContent = statusText(st);
  state.dataset.state = st.state;
  state.className = `status state-${st.state}`;

  const failing = byId('detail-item-errors');
  const errors = st.itemErrors;
  failing.hidden = !errors || errors.count === 0;
  failing.textContent = '';
  if (errors && errors.count > 0) {
    failing.append(
      el('p', { text: `${errors.count} item${errors.count === 1 ? '' : 's'} cannot be synced; the rest syncs normally. Fix them in the CRM or in Outlook:` }),
    );
    failing.append(
      el(
        'ul',
        {},
        errors.first.map((e) => el('li', { text: `${e.kind} ${e.crmId ?? `in Exchange ${e.ewsItemId ?? ''}`}: ${e.message} (${e.code})` })),
      ),
    );
  }

  const facts = byId('detail-facts');
  facts.textContent = '';
  facts.append(
    ...fact('State', STATE_LABELS[st.state] ?? st.state),
    ...fact('Exchange mailbox', user.smtpAddress ?? 'not signed in yet'),
    ...fact('Transport', (st.transport ?? 'ews').toUpperCase()),
    ...fact('Last successful sync', when(st.lastSuccessAt)),
    ...fact('Last run', st.counts ? countsText(st.counts).replace(/^; /, '') : 'none yet'),
    ...fact('Next sync', st.nextRunAt ? when(st.nextRunAt) : st.state === 'error' ? 'after a person fixes the error' : 'not scheduled'),
    ...(st.lastError ? fact('Last error', `${st.lastError.message ?? st.lastError.code} (${when(st.lastError.at)})`) : []),
  );

  const progress = byId('detail-progress');
  const folders = st.state === 'syncing' ? (st.progress?.folders ?? []) : [];
  progress.hidden = folders.length === 0;
  progress.textContent = '';
  progress.append(...folders.map(progressBar));

  byId('detail-totals').textContent = st.totals
    ? `Linked items: ${st.totals.appointment.toLocaleString()} appointments, ${st.totals.contact.toLocaleString()} contacts.`
    : '';

  const conflicts = byId('detail-conflicts');
  conflicts.textContent = '';
  const recent = st.conflicts?.recent ?? [];
  if (recent.length === 0) conflicts.append(el('p', { text: 'No conflicts.' }));
  else {
    conflicts.append(
      el('table', { class: 'conflicts' }, [
        el('thead', {}, [
          el(
            'tr',
            {},
            ['When', 'Item', 'Fields changed on both sides', 'Resolution'].map((t) => el('th', { scope: 'col', text: t })),
          ),
        ]),
        el(
          'tbody',
          {},
          recent.map((c) =>
            el(
              'tr',
              {},
              [when(c.at), `${c.kind} ${c.crmId}`, c.fields.join(', '), c.resolution].map((t) => el('td', { text: t })),
            ),
          ),
        ),
      ]),
    );
  }
}

async function refresh(ctx: DetailContext): Promise<void> {
  const s = ctx.session();
  const user = shown;
  if (!s || !user) return;
  let delay = 2_000;
  try {
    const path = `/users/${encodeURIComponent(user.id)}`;
    const [fresh, st] = await Promise.all([call<User>(s, 'GET', path), call<SyncStatus>(s, 'GET', `${path}/sync-status`)]);
    if (shown?.id !== user.id) return;
    shown = fresh;
    render(fresh, st);
    if (st.state === 'syncing' || st.state === 'scheduled') delay = 700;
  } catch (e) {
    if (ctx.onAuthFailure(e)) return;
    say(byId('detail-result'), problemText(e), 'problem');
  }
  clearTimeout(timer);
  if (shown?.id === user.id) timer = setTimeout(() => void refresh(ctx), delay);
}

export function openDetail(ctx: DetailContext, user: User): void {
  shown = user;
  const section = byId('user-detail');
  section.hidden = false;
  say(byId('detail-result'), '');
  say(byId('detail-test-result'), '');
  render(user, user.status);
  section.scrollIntoView({ block: 'start' });
  byId('detail-h').setAttribute('tabindex', '-1');
  byId('detail-h').focus();
  void refresh(ctx);
}

export function closeDetail(): void {
  shown = null;
  clearTimeout(timer);
  byId('user-detail').hidden = true;
}

export function wireDetail(ctx: DetailContext): void {
  byId('detail-close').addEventListener('click', closeDetail);
  byId('detail-sync').addEventListener('click', () => {
    if (!shown) return;
    void requestSync(ctx, shown, (m, k) => say(byId('detail-result'), m, k)).then(() => refresh(ctx));
  });
  byId('detail-test').addEventListener('click', () => {
    const s = ctx.session();
    if (!s || !shown) return;
    void runTest(s, `/users/${encodeURIComponent(shown.id)}/exchange/test`, {}, byId('detail-test-result'), ctx.onAuthFailure);
  });
}
