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

  it('names the remote code beside its own, so support can look it up', () => {
    expect(adminMessage(auth('invalid-secret', 'AADSTS7000215')).message).toContain('(AADSTS7000215)');
  });

  it('never copies remote text: messages, bodies, hosts and ports stay out whatever the error carries', () => {
    const kinds: SyncErrorKind[] = ['Throttled', 'Transient', 'AuthFailed', 'ImpersonationDenied', 'MailboxNotFound', 'EwsDisabledForTenant', 'EwsBlockedByPolicy', 'SyncStateInvalid', 'ItemNotFound', 'ChangeKeyConflict', 'InvalidSettings', 'Permanent'];
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
