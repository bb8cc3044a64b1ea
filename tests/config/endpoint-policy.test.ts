import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkEndpointUrl,
  checkHostPort,
  EndpointRefusedError,
  isNonPublicAddress,
  parseAllowedHosts,
  resolveForConnect,
  type EndpointPolicy,
} from '../../packages/config/src/endpointPolicy';
import { ConfigError } from '../../packages/config/src/configError';

const strict: EndpointPolicy = { operatorHosts: [], allowInsecure: false };
const withOperator: EndpointPolicy = { operatorHosts: parseAllowedHosts('mail.contoso.test,10.0.0.5:8443,[::1]:4100'), allowInsecure: false };

describe('parseAllowedHosts', () => {
  it.each([
    ['', []],
    ['Mail.Example.COM.', [{ host: 'mail.example.com' }]],
    ['a.test, b.test:443', [{ host: 'a.test' }, { host: 'b.test', port: 443 }]],
    ['127.0.0.1:4100,localhost', [{ host: '127.0.0.1', port: 4100 }, { host: 'localhost' }]],
    ['[::1]:8443,::1', [{ host: '::1', port: 8443 }, { host: '::1' }]],
  ])('%j', (raw, want) => {
    expect(parseAllowedHosts(raw)).toEqual(want);
  });

  it.each(['a.test:0', 'a.test:99999', 'a.test:x', 'http://a.test', 'a_b.test', 'a.test/path', '-a.test'])('refuses %j naming the variable', (raw) => {
    expect(() => parseAllowedHosts(raw)).toThrow(ConfigError);
    expect(() => parseAllowedHosts(raw)).toThrow(/EXSYNC_ALLOWED_HOSTS/);
  });
});

describe('checkEndpointUrl', () => {
  it.each([
    ['ews', 'https://outlook.office365.com/EWS/Exchange.asmx', 'https://outlook.office365.com/EWS/Exchange.asmx'],
    ['ews', 'OUTLOOK.office365.com', 'https://outlook.office365.com'],
    ['authority', 'https://login.microsoftonline.us/', 'https://login.microsoftonline.us'],
    ['authority', 'login.partner.microsoftonline.cn', 'https://login.partner.microsoftonline.cn'],
    ['graph', 'https://graph.microsoft.com', 'https://graph.microsoft.com'],
  ] as const)('accepts Microsoft host %s %s', (kind, raw, want) => {
    expect(checkEndpointUrl(strict, kind, 'f', raw, { bareOrigin: kind === 'authority' })).toBe(want);
  });

  it.each([
    ['authority', 'https://attacker.example'],
    ['authority', 'https://outlook.office365.com'],
    ['authority', 'https://login.microsoftonline.com.evil.test'],
    ['authority', 'https://login.microsoftonline.com/tenant'],
    ['authority', 'http://login.microsoftonline.com'],
    ['ews', 'https://169.254.169.254/latest/meta-data'],
    ['ews', 'https://10.0.0.5:8443/EWS/Exchange.asmx'],
    ['ews', '127.0.0.1:6379'],
    ['ews', 'https://0x7f000001/EWS'],
    ['ews', 'https://2130706433/EWS'],
    ['ews', 'https://[::1]/EWS'],
    ['ews', 'https://localhost/EWS'],
    ['ews', 'https://user:pw@outlook.office365.com/EWS'],
    ['ews', 'https://evil.test#@outlook.office365.com'],
    ['ews', 'https://outlook.office365.com:443@evil.test/EWS'],
    ['ews', 'https://outlook.office365.com/EWS?x=1'],
    ['ews', 'ftp://outlook.office365.com/EWS'],
    ['ews', 'file:///etc/passwd'],
    ['ews', 'javascript:alert(1)'],
    ['ews', 'https://login.microsoftonline.com/EWS'],
    ['graph', 'https://outlook.office365.com'],
  ] as const)('refuses %s %s, naming the field', (kind, raw) => {
    let err: unknown;
    try {
      checkEndpointUrl(strict, kind, 'theField', raw, { bareOrigin: kind === 'authority' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EndpointRefusedError);
    expect((err as EndpointRefusedError).field).toBe('theField');
  });

  it('accepts operator hosts for every kind, on their port only when one is given', () => {
    expect(checkEndpointUrl(withOperator, 'authority', 'f', 'https://mail.contoso.test:9443')).toBe('https://mail.contoso.test:9443');
    expect(checkEndpointUrl(withOperator, 'ews', 'f', 'https://10.0.0.5:8443/EWS')).toBe('https://10.0.0.5:8443/EWS');
    expect(() => checkEndpointUrl(withOperator, 'ews', 'f', 'https://10.0.0.5:8444/EWS')).toThrow(EndpointRefusedError);
    expect(checkEndpointUrl(withOperator, 'graph', 'f', 'https://[::1]:4100')).toBe('https://[::1]:4100');
  });

  it('accepts http only with the insecure flag', () => {
    const insecure = { ...withOperator, allowInsecure: true };
    expect(checkEndpointUrl(insecure, 'ews', 'f', 'http://mail.contoso.test/EWS')).toBe('http://mail.contoso.test/EWS');
    expect(() => checkEndpointUrl(withOperator, 'ews', 'f', 'http://mail.contoso.test/EWS')).toThrow(/EXSYNC_ALLOW_INSECURE_AUTHORITY/);
  });

  it("never accepts a host that is neither Microsoft's nor the operator's (property)", () => {
    fc.assert(
      fc.property(fc.domain(), (host) => {
        const allowed = ['outlook.office365.com', 'smtp.office365.com', 'mail.contoso.test'].includes(host.toLowerCase());
        let ok = true;
        try {
          checkEndpointUrl(withOperator, 'ews', 'f', `https://${host}/EWS`);
        } catch {
          ok = false;
        }
        return ok === allowed;
      }),
    );
  });
});

describe('checkHostPort', () => {
  it('accepts Microsoft and operator host:port, refuses anything else', () => {
    expect(checkHostPort(strict, 'imap', 'imapHost', 'outlook.office365.com:993')).toEqual({ host: 'outlook.office365.com', port: 993 });
    expect(checkHostPort(withOperator, 'smtp', 'smtpHost', '[::1]:4100')).toEqual({ host: '::1', port: 4100 });
    for (const bad of ['outlook.office365.com', '127.0.0.1:6379', 'evil.test:993', 'outlook.office365.com:0', ':993']) {
      expect(() => checkHostPort(strict, 'imap', 'imapHost', bad)).toThrow(EndpointRefusedError);
    }
  });
});

describe('isNonPublicAddress', () => {
  it.each([
    '0.0.0.0',
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.5',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
    'ff02::1',
    'not an address',
  ])('%s is not public', (ip) => {
    expect(isNonPublicAddress(ip)).toBe(true);
  });

  it.each(['40.97.1.1', '52.96.0.2', '172.32.0.1', '8.8.8.8', '2603:1036::1', '2001:4860::8888'])('%s is public', (ip) => {
    expect(isNonPublicAddress(ip)).toBe(false);
  });
});

describe('resolveForConnect', () => {
  const table: Record<string, string[]> = {
    'outlook.office365.com': ['40.97.1.1'],
    'login.microsoftonline.com': ['127.0.0.1'],
    'mail.contoso.test': ['10.0.0.9'],
    'graph.microsoft.com': ['52.96.0.2', '169.254.169.254'],
  };
  const resolve = async (h: string) => (table[h] ?? []).map((address) => ({ address, family: 4 as const }));

  it('returns the public address of an allowed host', async () => {
    await expect(resolveForConnect({ ...strict, resolve }, 'ews', 'ewsUrl', 'outlook.office365.com', 443)).resolves.toEqual({
      address: '40.97.1.1',
      family: 4,
    });
  });

  it('refuses an allowed host that resolves to a private address, unless the operator listed it', async () => {
    await expect(resolveForConnect({ ...strict, resolve }, 'authority', 'authorityHost', 'login.microsoftonline.com', 443)).rejects.toThrow(
      /loopback, private or link-local/,
    );
    await expect(resolveForConnect({ ...strict, resolve }, 'graph', 'graphUrl', 'graph.microsoft.com', 443)).rejects.toBeInstanceOf(EndpointRefusedError);
    await expect(resolveForConnect({ ...withOperator, resolve }, 'ews', 'ewsUrl', 'mail.contoso.test', 443)).resolves.toEqual({
      address: '10.0.0.9',
      family: 4,
    });
  });

  it('refuses a host the policy does not allow without resolving it', async () => {
    let asked = 0;
    const counting = async (h: string) => {
      asked++;
      return resolve(h);
    };
    await expect(resolveForConnect({ ...strict, resolve: counting }, 'ews', 'ewsUrl', 'evil.test', 443)).rejects.toBeInstanceOf(EndpointRefusedError);
    expect(asked).toBe(0);
  });
});
