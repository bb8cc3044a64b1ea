import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncError, adminMessage, type AuthFailureReason, type SyncErrorKind } from '@exsync/canonical';

const auth = (reason: AuthFailureReason, code?: string) => new SyncError('AuthFailed', 'remote text', { reason, code });

describe('the admin message catalogue', () => {
  it.each([
    [auth('invalid-secret', 'AADSTS7000222'), 'ClientSecretExpired', 'organisation', /expired.*Certificates & secrets/s],
    [auth('invalid-secret', 'AADSTS7000215'), 'InvalidClientCredential', 'organisation', /client secret or certificate/],
    [auth('app-not-found', 'AADSTS700016'), 'ApplicationNotFound', 'organisation', /Application \(client\) id/],
    [auth('consent-missing', 'AADSTS65001'), 'AdminConsentMissing', 'organisation', /Admin consent is missing/],
    [auth('invalid-secret', 'AADSTS700027'), 'ClientCertificateRejected', 'organisation', /certificate/],
    [auth('consent-missing', 'AADSTS500011'), 'ExchangeNotInTenant', 'organisation', /Exchange Online/],
    [auth('tenant-not-found', 'AADSTS90002'), 'TenantNotFound', 'organisation', /tenant/],
    [auth('role-missing'), 'PermissionMissing', 'organisation', /full_access_as_app/],
    [auth('grant-revoked'), 'UserSignInExpired', 'mailbox', /new sign-in link/],
    [new SyncError('ImpersonationDenied', 'x', { code: 'ErrorImpersonateUserDenied' }), 'ImpersonationDenied', 'mailbox', /Give the app access/],
    [new SyncError('MailboxNotFound', 'x', { code: 'ErrorNonExistentMailbox' }), 'MailboxNotFound', 'mailbox', /no mailbox/],
    [new SyncError('Permanent', 'x', { code: 'ErrorAccessDenied' }), 'PermissionMissing', 'run', /full_access_as_app/],
    [new SyncError('EwsDisabledForTenant', 'x', { code: '403' }), 'EwsDisabledForTenant', 'organisation', /EwsAllowList/],
    [new SyncError('EwsBlockedByPolicy', 'x', { code: 'EwsPolicyBlock' }), 'EwsBlockedByPolicy', 'organisation', /-EwsAllowedAppIDs.*Graph/s],
    [new SyncError('Transient', 'x', { code: 'ECONNRESET' }), 'ECONNRESET', 'run', /retries by itself/],
    [new SyncError('Throttled', 'x', { code: 'ErrorServerBusy', backoffMs: 5 }), 'ErrorServerBusy', 'run', /back-off/],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4699'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED', 'run', /network/],
    [new TypeError('x is undefined'), 'InternalError', 'run', /report it/],
  ] as const)('%s -> %s', (err, code, scope, text) => {
    const m = adminMessage(err, { mailbox: 'a@contoso.example' });
    expect(m.code).toBe(code);
    expect(m.scope).toBe(scope);
    expect(m.message).toMatch(text);
    expect(m.message).toContain(m.cause);
    expect(m.message).toContain(m.fix);
    expect(m.needsPerson).toBe(scope === 'organisation' || scope === 'mailbox');
  });

  it.each([
    [
      'a Graph 403 for a missing permission',
      new SyncError('AuthFailed', 'x', { reason: 'role-missing', code: 'ErrorAccessDenied', protocol: 'graph' }),
      {},
      'PermissionMissing',
      /Calendars\.ReadWrite and Contacts\.ReadWrite/,
    ],
    ['a token without the role, on a Graph organisation', auth('role-missing'), { transport: 'graph' as const }, 'PermissionMissing', /Microsoft Graph/],
    [
      'a Graph mailbox outside the RBAC scope',
      new SyncError('ImpersonationDenied', 'x', { code: 'ErrorAccessDenied', protocol: 'graph' }),
      {},
      'ImpersonationDenied',
      /New-ManagementScope.*"Application Calendars\.ReadWrite"/s,
    ],
    [
      'a token Graph rejected',
      new SyncError('AuthFailed', 'x', { reason: 'token-rejected', code: 'InvalidAuthenticationToken', protocol: 'graph' }),
      {},
      'TokenRejected',
      /Graph URL/,
    ],
    ['a Graph outage', new SyncError('Transient', 'x', { code: '503', protocol: 'graph' }), {}, '503', /Microsoft Graph, Entra ID or the network/],
  ] as const)("tells %s with Graph's permissions and settings, never EWS's", (_what, err, ctx, code, text) => {
    const m = adminMessage(err, { mailbox: 'a@contoso.example', ...ctx });
    expect(m.code).toBe(code);
    expect(m.message).toMatch(text);
    expect(m.message).not.toMatch(/full_access_as_app|EWS URL/);
  });

  it("keeps the EWS wording for EWS, whatever the organisation (the error's protocol wins)", () => {
    expect(
      adminMessage(new SyncError('ImpersonationDenied', 'x', { code: 'ErrorImpersonateUserDenied', protocol: 'ews' }), { transport: 'graph' }).message,
    ).toContain('full_access_as_app covers every mailbox');
    expect(adminMessage(auth('role-missing'), { transport: 'ews' }).message).toContain('full_access_as_app');
  });

  it('names the remote code beside its own, so support can look it up', () => {
    expect(adminMessage(auth('invalid-secret', 'AADSTS7000215')).message).toContain('(AADSTS7000215)');
  });

  it('never copies remote text: messages, bodies, hosts and ports stay out whatever the error carries', () => {
    const kinds: SyncErrorKind[] = [
      'Throttled',
      'Transient',
      'AuthFailed',
      'ImpersonationDenied',
      'MailboxNotFound',
      'EwsDisabledForTenant',
      'EwsBlockedByPolicy',
      'SyncStateInvalid',
      'ItemNotFound',
      'ChangeKeyConflict',
      'InvalidSettings',
      'Permanent',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.string({ minLength: 8 }), fc.option(fc.string({ minLength: 1 }), { nil: undefined }), (kind, text, code) => {
        const remote = `<html>${text} 127.0.0.1:4699</html>`;
        const m = adminMessage(new SyncError(kind, remote, { code: code === undefined ? undefined : `${code} ${remote}` }));
        expect(m.message).not.toContain(remote);
        expect(m.message).not.toContain('127.0.0.1:4699');
        expect(m.code).not.toContain(' ');
      }),
    );
  });
});
