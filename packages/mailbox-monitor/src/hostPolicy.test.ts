import { describe, expect, it } from 'vitest';
import { checkMailHost, MailHostError, parseMailHost } from './hostPolicy';
import { classifyTokenError } from './oauthClient';

const strict = { allowedHosts: [], allowInsecure: false };

describe('mail host policy', () => {
  it.each([
    ['outlook.office365.com:993', strict, { host: 'outlook.office365.com', port: 993 }],
    ['SMTP.Office365.com:587', strict, { host: 'smtp.office365.com', port: 587 }],
    ['imap.corp.example:143', { allowedHosts: ['imap.corp.example'], allowInsecure: false }, { host: 'imap.corp.example', port: 143 }],
    ['imap.corp.example:993', { allowedHosts: ['imap.corp.example:993'], allowInsecure: false }, { host: 'imap.corp.example', port: 993 }],
    ['127.0.0.1:1143', { allowedHosts: [], allowInsecure: true }, { host: '127.0.0.1', port: 1143 }],
    ['[::1]:1143', { allowedHosts: [], allowInsecure: true }, { host: '::1', port: 1143 }],
  ])('accepts %s', (value, policy, expected) => {
    expect(checkMailHost(value, 'imapHost', policy)).toEqual(expected);
  });

  it.each([
    ['imap.evil.example:993', strict],
    ['imap.corp.example:143', { allowedHosts: ['imap.corp.example:993'], allowInsecure: false }],
    ['127.0.0.1:1143', strict],
    ['outlook.office365.com', strict],
    ['outlook.office365.com:0', strict],
    ['outlook.office365.com:70000', strict],
    ['user@outlook.office365.com:993', strict],
    ['https://outlook.office365.com:993', strict],
    ['', strict],
  ])('refuses %s naming the field', (value, policy) => {
    let err: unknown;
    try {
      checkMailHost(value, 'smtpHost', policy);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MailHostError);
    expect((err as MailHostError).field).toBe('smtpHost');
  });

  it('parses whatever it accepts back to the same host and port', () => {
    for (const v of ['a.b:1', 'x-y.example:65535', '[::1]:25']) {
      const p = parseMailHost(v, 'imapHost');
      expect(parseMailHost(`${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`, 'imapHost')).toEqual(p);
    }
  });
});

describe('token error classes', () => {
  it.each([
    [400, { error: 'invalid_grant', error_codes: [50076], error_description: 'AADSTS50076: Due to a configuration change ...' }, 'mfa-required'],
    [400, { error: 'invalid_grant', error_description: 'AADSTS50079: The user is required to use multi-factor authentication.' }, 'mfa-required'],
    [400, { error: 'invalid_grant', error_codes: [65001], error_description: 'AADSTS65001: The user or administrator has not consented' }, 'consent-missing'],
    [400, { error: 'invalid_grant', error_codes: [50173], error_description: 'AADSTS50173: The provided grant has expired due to it being revoked' }, 'grant-revoked'],
    [400, { error: 'invalid_grant', error_codes: [700082] }, 'grant-revoked'],
    [401, { error: 'invalid_client', error_codes: [7000215] }, 'rejected'],
    [503, { error: 'temporarily_unavailable' }, 'unavailable'],
    [429, {}, 'unavailable'],
  ] as const)('HTTP %i %j -> %s', (status, body, problem) => {
    expect(classifyTokenError(status, body as never).problem).toBe(problem);
  });
});
