import { describe, expect, it } from 'vitest';
import { checkMailHost, checkMailHostForConnect, MailHostError } from '../../packages/mailbox-monitor/src/hostPolicy';
import { classifyTokenError } from '../../packages/mailbox-monitor/src/oauthClient';

const strict = { operatorHosts: [], allowInsecure: false };
const operator = (host: string, port?: number) => ({ operatorHosts: [{ host, port }], allowInsecure: false });

async function refusal(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('mail host policy (the service endpoint policy for the imap and smtp kinds)', () => {
  it.each([
    ['outlook.office365.com:993', strict, { host: 'outlook.office365.com', port: 993 }],
    ['SMTP.Office365.com:587', strict, { host: 'smtp.office365.com', port: 587 }],
    ['imap.corp.example:143', operator('imap.corp.example'), { host: 'imap.corp.example', port: 143 }],
    ['imap.corp.example:993', operator('imap.corp.example', 993), { host: 'imap.corp.example', port: 993 }],
    ['127.0.0.1:1143', operator('127.0.0.1'), { host: '127.0.0.1', port: 1143 }],
  ])('accepts %s', (value, policy, expected) => {
    expect(checkMailHost(value, 'imapHost', policy)).toEqual(expected);
  });

  it.each([
    ['imap.evil.example:993', strict],
    ['imap.corp.example:143', operator('imap.corp.example', 993)],
    ['127.0.0.1:1143', strict],
    ['127.0.0.1:1143', { operatorHosts: [], allowInsecure: true }],
    ['outlook.office365.com', strict],
    ['outlook.office365.com:0', strict],
    ['outlook.office365.com:70000', strict],
    ['user@outlook.office365.com:993', strict],
    ['https://outlook.office365.com:993', strict],
    ['', strict],
  ])('refuses %s naming the field', async (value, policy) => {
    const err = await refusal(() => checkMailHost(value, 'smtpHost', policy));
    expect(err).toBeInstanceOf(MailHostError);
    expect((err as MailHostError).field).toBe('smtpHost');
  });

  it('refuses at connect time a Microsoft host name that resolves to a private address', async () => {
    const policy = { ...strict, resolve: async () => [{ address: '10.0.0.5', family: 4 as const }] };
    const err = await refusal(() => checkMailHostForConnect({ host: 'outlook.office365.com', port: 993 }, 'imapHost', policy));
    expect(err).toBeInstanceOf(MailHostError);
    expect((err as MailHostError).field).toBe('imapHost');
  });
});

describe('token error classes', () => {
  it.each([
    [400, { error: 'invalid_grant', error_codes: [50076], error_description: 'AADSTS50076: Due to a configuration change ...' }, 'mfa-required'],
    [400, { error: 'invalid_grant', error_description: 'AADSTS50079: The user is required to use multi-factor authentication.' }, 'mfa-required'],
    [400, { error: 'invalid_grant', error_codes: [65001], error_description: 'AADSTS65001: The user or administrator has not consented' }, 'consent-missing'],
    [
      400,
      { error: 'invalid_grant', error_codes: [50173], error_description: 'AADSTS50173: The provided grant has expired due to it being revoked' },
      'grant-revoked',
    ],
    [400, { error: 'invalid_grant', error_codes: [700082] }, 'grant-revoked'],
    [401, { error: 'invalid_client', error_codes: [7000215] }, 'rejected'],
    [503, { error: 'temporarily_unavailable' }, 'unavailable'],
    [429, {}, 'unavailable'],
  ] as const)('HTTP %i %j -> %s', (status, body, problem) => {
    expect(classifyTokenError(status, body as never).problem).toBe(problem);
  });
});
