// exsync admin page: plain JavaScript against the JSON API, no build step.
'use strict';

(function () {
  const KEY = 'exsync.admin';
  const REFRESH_MS = 3000;
  let session = null;
  let refreshTimer = null;

  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k === 'checked' || k === 'disabled' || k === 'hidden') node[k] = Boolean(v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children || []) node.append(c);
    return node;
  }

  function announce(msg) {
    $('#problem').textContent = '';
    $('#announce').textContent = msg;
  }

  function problem(msg) {
    $('#problem').textContent = msg;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { authorization: 'Bearer ' + session.token };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch('/v1/orgs/' + encodeURIComponent(session.orgId) + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const msg = (data && (data.message || data.error)) || 'HTTP ' + res.status;
      if (res.status === 401) {
        signOut();
        throw new ApiError(401, 'The admin token was not accepted. Sign in again.');
      }
      throw new ApiError(res.status, msg);
    }
    return data;
  }

  // ---- session ----
  function signIn(orgId, token) {
    session = { orgId: orgId.trim(), token: token.trim() };
    sessionStorage.setItem(KEY, JSON.stringify(session));
    start();
  }

  function signOut() {
    session = null;
    sessionStorage.removeItem(KEY);
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
    $('#app').hidden = true;
    $('#signin').hidden = false;
  }

  async function start() {
    try {
      await loadSettings();
    } catch (e) {
      if (session) problem(e.message);
      if (!session) return;
    }
    $('#signin').hidden = true;
    $('#app').hidden = false;
    $('#who').textContent = 'Organisation ' + session.orgId;
    await loadUsers().catch((e) => problem(e.message));
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = setInterval(() => {
      loadUsers().catch(() => {});
    }, REFRESH_MS);
  }

  // ---- settings ----
  function showSettings(s) {
    const f = $('#settings-form');
    for (const name of ['applicationId', 'tenantId', 'ewsUrl', 'authorityHost']) f.elements[name].value = s[name] || '';
    f.elements.authMode.value = s.authMode || 'app-only';
    f.elements.conflictPolicy.value = s.conflictPolicy || 'newest-wins';
    f.elements.clientSecret.value = '';
    $('#secret-state').textContent = s.clientSecretSet
      ? 'A client secret is stored.'
      : s.clientCertificateSet
        ? 'A client certificate is stored.'
        : 'No client secret is stored yet.';
    const consent = s.consent || { state: 'unknown' };
    $('#consent-state').textContent = consent.state;
    $('#consent-error').textContent = consent.error ? '(' + consent.error + ')' : '';
    // An organisation-wide cause (secret, consent, EWS off) stops every mailbox until it is fixed.
    $('#org-status').textContent = s.status
      ? 'Syncing is stopped for the whole organisation since ' + new Date(s.status.since).toLocaleString() + ': ' + s.status.message
      : '';
  }

  // After the admin consents in another tab, coming back shows the new consent state.
  async function refreshConsent() {
    if (!session) return;
    try {
      const s = await api('GET', '/exchange');
      const consent = s.consent || { state: 'unknown' };
      $('#consent-state').textContent = consent.state;
      $('#consent-error').textContent = consent.error ? '(' + consent.error + ')' : '';
    } catch {
      // nothing saved yet: the form already says so
    }
  }

  async function loadSettings() {
    try {
      showSettings(await api('GET', '/exchange'));
    } catch (e) {
      if (e.status !== 404) throw e;
      $('#secret-state').textContent = 'Not configured yet: enter the values from your Azure app registration.';
    }
  }

  async function saveSettings(ev) {
    ev.preventDefault();
    const f = ev.target;
    const body = {
      applicationId: f.elements.applicationId.value.trim(),
      tenantId: f.elements.tenantId.value.trim(),
      authMode: f.elements.authMode.value,
      conflictPolicy: f.elements.conflictPolicy.value,
    };
    for (const name of ['ewsUrl', 'authorityHost']) {
      const v = f.elements[name].value.trim();
      if (v) body[name] = v;
    }
    const secret = f.elements.clientSecret.value;
    if (secret) body.clientSecret = secret;
    try {
      const saved = await api('PUT', '/exchange', body);
      showSettings(saved);
      $('#settings-result').textContent = 'Settings saved.';
      $('#problem').textContent = '';
    } catch (e) {
      $('#settings-result').textContent = '';
      problem('Settings not saved: ' + e.message);
    }
  }

  async function consentLink() {
    try {
      const { url } = await api('GET', '/exchange/admin-consent-url');
      const a = $('#consent-link');
      a.href = url;
      a.hidden = false;
      a.focus();
      announce('The admin consent link is ready. A Global Administrator of the tenant must open it.');
    } catch (e) {
      problem('No consent link: ' + e.message);
    }
  }

  async function testConnection() {
    const out = $('#test-result');
    out.textContent = 'Testing...';
    const mailbox = $('#test-mailbox').value.trim();
    try {
      const result = await api('POST', '/exchange/test', mailbox ? { mailbox } : {});
      renderSteps(out, result);
    } catch (e) {
      out.textContent = 'The test could not run: ' + e.message;
    }
  }

  function renderSteps(out, result) {
    out.textContent = '';
    out.append(el('p', { text: result.ok ? 'Connection works.' : 'Connection test failed.' }));
    const list = el('ul', { class: 'steps' });
    for (const s of result.steps) {
      list.append(el('li', { class: s.ok ? 'ok' : 'fail', 'data-step': s.name }, [el('strong', { text: s.name + ': ' }), s.message]));
    }
    out.append(list);
  }

  // ---- users ----
  const SWITCHES = [
    ['mobileAccess', 'Mobile access'],
    ['useOAuthForExchange', 'Use OAuth for Exchange'],
    ['syncCalendar', 'Sync calendar'],
    ['calendarDirection', 'Calendar direction'],
    ['syncContacts', 'Sync contacts'],
    ['contactsDirection', 'Contacts direction'],
  ];
  const DIRECTIONS = [
    ['two-way', 'Both ways'],
    ['crm-to-exchange', 'CRM to Exchange'],
    ['exchange-to-crm', 'Exchange to CRM'],
  ];

  function statusText(st) {
    if (!st) return 'Unknown';
    switch (st.state) {
      case 'not-enabled':
        return 'Off';
      case 'awaiting-user-login':
        return 'Awaiting sign-in: send the user the sign-in link';
      case 'scheduled':
        return 'Scheduled: first sync starting';
      case 'syncing':
        return 'Syncing now';
      case 'healthy': {
        const when = st.lastSuccessAt ? new Date(st.lastSuccessAt).toLocaleString() : 'never';
        return 'Healthy: last sync ' + when + countsText(st.counts);
      }
      case 'degraded': {
        const when = st.lastSuccessAt ? new Date(st.lastSuccessAt).toLocaleString() : 'never';
        return 'Degraded: last sync ' + when + ', but some items fail to sync';
      }
      case 'retrying':
        return 'Retrying: ' + ((st.lastError && (st.lastError.message || st.lastError.code)) || 'the last attempt failed');
      case 'throttled':
        return 'Throttled by Exchange' + (st.throttledUntil ? ' until ' + new Date(st.throttledUntil).toLocaleTimeString() : '') + ': it resumes by itself';
      case 'error':
        return (
          'Error: ' +
          ((st.lastError && (st.lastError.message || st.lastError.code)) || 'unknown') +
          (st.nextRunAt ? ' Tried again at ' + new Date(st.nextRunAt).toLocaleTimeString() + '.' : ' Waiting for the fix.')
        );
      default:
        return st.state;
    }
  }

  function countsText(c) {
    if (!c) return '';
    const sum = (o) => (o ? (o.created || 0) + (o.updated || 0) + (o.deleted || 0) : 0);
    return '; ' + sum(c.toExchange) + ' changes to Exchange, ' + sum(c.toCrm) + ' to the CRM' + (c.conflicts ? ', ' + c.conflicts + ' conflicts' : '');
  }

  async function patchUser(user, field, value, control) {
    control.disabled = true;
    try {
      const updated = await api('PATCH', '/users/' + encodeURIComponent(user.id), { [field]: value });
      announce((user.displayName || user.email) + ': saved.');
      replaceRow(updated && updated.id ? updated : null, user.id);
    } catch (e) {
      if (control.type === 'checkbox') control.checked = !value;
      problem((user.displayName || user.email) + ': ' + e.message);
    } finally {
      control.disabled = false;
    }
  }

  async function copySignInLink(user) {
    try {
      const { url } = await api('POST', '/users/' + encodeURIComponent(user.id) + '/microsoft-login');
      const box = $('#signin-link');
      box.value = url;
      box.dataset.userId = user.id;
      let copied = false;
      try {
        await navigator.clipboard.writeText(url);
        copied = true;
      } catch {
        copied = false;
      }
      box.focus();
      box.select();
      announce(copied ? 'Sign-in link for ' + user.email + ' copied to the clipboard.' : 'Sign-in link for ' + user.email + ' is selected below: copy it with Ctrl+C.');
    } catch (e) {
      problem('No sign-in link for ' + user.email + ': ' + e.message);
    }
  }

  async function syncNow(user) {
    try {
      await api('POST', '/users/' + encodeURIComponent(user.id) + '/sync');
      announce('Sync of ' + user.email + ' requested.');
    } catch (e) {
      problem('Sync of ' + user.email + ' not started: ' + e.message);
    }
  }

  function row(user) {
    const label = user.displayName ? user.displayName + ' <' + user.email + '>' : user.email;
    const cells = [el('th', { scope: 'row' }, [label])];
    for (const [field, title] of SWITCHES) {
      const id = 'u-' + user.id + '-' + field;
      const hidden = el('label', { for: id, class: 'visually-hidden', text: title + ' for ' + user.email });
      let control;
      if (field.endsWith('Direction')) {
        control = el('select', { id, 'data-field': field });
        for (const [v, t] of DIRECTIONS) control.append(el('option', { value: v, text: t }));
        control.value = user.settings[field];
        control.addEventListener('change', () => patchUser(user, field, control.value, control));
      } else {
        control = el('input', { id, type: 'checkbox', 'data-field': field, checked: user.settings[field] });
        control.addEventListener('change', () => patchUser(user, field, control.checked, control));
      }
      cells.push(el('td', {}, [hidden, control]));
    }
    const st = user.status || {};
    cells.push(el('td', { class: 'status state-' + st.state, 'data-state': st.state || '' }, [statusText(st)]));
    cells.push(
      el('td', {}, [
        el('button', { type: 'button', 'data-action': 'signin-link', onclick: () => copySignInLink(user), 'aria-label': 'Copy sign-in link for ' + user.email }, ['Copy sign-in link']),
        ' ',
        el('button', { type: 'button', 'data-action': 'sync-now', onclick: () => syncNow(user), 'aria-label': 'Sync now for ' + user.email }, ['Sync now']),
      ]),
    );
    return el('tr', { 'data-user-id': user.id, 'data-email': user.email }, cells);
  }

  function replaceRow(user, id) {
    if (!user) {
      loadUsers().catch(() => {});
      return;
    }
    const old = document.querySelector('tr[data-user-id="' + CSS.escape(id) + '"]');
    if (old) old.replaceWith(row(user));
  }

  async function loadUsers() {
    if (!session) return;
    const data = await api('GET', '/users');
    const users = Array.isArray(data) ? data : data.users || data.items || [];
    const body = $('#users tbody');
    // Keep focus where the keyboard user left it across refreshes.
    const active = document.activeElement && document.activeElement.id;
    for (const u of users) {
      const existing = body.querySelector('tr[data-user-id="' + CSS.escape(u.id) + '"]');
      const fresh = row(u);
      if (existing) {
        if (existing.contains(document.activeElement)) {
          const status = existing.querySelector('td.status');
          status.replaceWith(fresh.querySelector('td.status'));
        } else existing.replaceWith(fresh);
      } else body.append(fresh);
    }
    if (active && document.getElementById(active) && document.activeElement !== document.getElementById(active)) {
      document.getElementById(active).focus();
    }
  }

  async function addUser(ev) {
    ev.preventDefault();
    const f = ev.target;
    const body = { crmUserId: f.elements.crmUserId.value.trim(), email: f.elements.email.value.trim() };
    if (f.elements.displayName.value.trim()) body.displayName = f.elements.displayName.value.trim();
    try {
      await api('POST', '/users', body);
      f.reset();
      announce('User ' + body.email + ' added.');
      await loadUsers();
    } catch (e) {
      problem('User not added: ' + e.message);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = ev.target;
      signIn(f.elements.orgId.value, f.elements.token.value);
      f.elements.token.value = '';
    });
    $('#signout').addEventListener('click', signOut);
    $('#settings-form').addEventListener('submit', saveSettings);
    $('#consent-link-btn').addEventListener('click', consentLink);
    $('#test-btn').addEventListener('click', testConnection);
    $('#add-user-form').addEventListener('submit', addUser);
    window.addEventListener('focus', () => {
      refreshConsent();
    });
    const saved = sessionStorage.getItem(KEY);
    if (saved) {
      try {
        session = JSON.parse(saved);
        start();
      } catch {
        sessionStorage.removeItem(KEY);
      }
    }
  });
})();
