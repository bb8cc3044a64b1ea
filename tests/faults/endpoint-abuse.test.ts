/**
 * Endpoint abuse (issue 13 point 2): an org admin, in production mode, tries every form of pointing
 * the organisation's authorityHost or ewsUrl somewhere exsync must not send its secret or tokens:
 * foreign hosts, cloud metadata, private and loopback addresses in every spelling, http, look-alike
 * names, credentials and fragments. Each is refused with a 400 naming the field, through PUT and
 * PATCH, and nothing is sent: a listener on the loopback port every local form points at sees no
 * connection, not even when the connection test runs afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecurityApi, type SecurityApi } from '../support/api';
import { startConnectionCounter, type ConnectionCounter } from '../support/hostileServers';
import { measure } from './collector';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

let api: SecurityApi;
let counter: ConnectionCounter;

beforeAll(async () => {
  counter = await startConnectionCounter();
  // DNS is a table: Microsoft's own names resolve to the listener, so even they must be refused when connecting.
  api = await startSecurityApi({}, async () => [{ address: '127.0.0.1', family: 4 }]);
});

afterAll(async () => {
  await api?.close();
  await counter?.close();
});

/** Every spelling of "somewhere else" for one field; `p` is the listener's port. */
function forms(field: 'authorityHost' | 'ewsUrl', p: number): string[] {
  const path = field === 'ewsUrl' ? '/EWS/Exchange.asmx' : '';
  const local = [
    `https://127.0.0.1:${p}${path}`,
    `http://127.0.0.1:${p}${path}`,
    `127.0.0.1:${p}`,
    `https://localhost:${p}${path}`,
    `https://[::1]:${p}${path}`,
    `https://[::ffff:127.0.0.1]:${p}${path}`,
    `https://0x7f000001:${p}${path}`,
    `https://2130706433:${p}${path}`,
    `https://0177.0.0.1:${p}${path}`,
    `https://127.1:${p}${path}`,
  ];
  const foreign = [
    `https://attacker.example${path}`,
    `https://169.254.169.254/latest/meta-data`,
    `https://10.0.0.5:8443${path}`,
    `https://192.168.1.10${path}`,
    `127.0.0.1:6379`,
    `https://outlook.office365.com.attacker.example${path}`,
    `https://login.microsoftonline.com.attacker.example${path}`,
    `https://attacker.example#@outlook.office365.com`,
    `https://outlook.office365.com:443@attacker.example${path}`,
    `https://user:pass@${field === 'ewsUrl' ? 'outlook.office365.com' : 'login.microsoftonline.com'}${path}`,
    `http://${field === 'ewsUrl' ? 'outlook.office365.com' : 'login.microsoftonline.com'}${path}`,
    `ftp://outlook.office365.com${path}`,
    `file:///etc/passwd`,
    `javascript:alert(1)`,
    field === 'ewsUrl' ? 'https://login.microsoftonline.com/EWS/Exchange.asmx' : 'https://outlook.office365.com',
    field === 'authorityHost' ? 'https://login.microsoftonline.com/evil-path' : 'https://graph.microsoft.com/EWS/Exchange.asmx',
  ];
  return [...local, ...foreign];
}

describe('endpoint abuse', () => {
  it('refuses every disallowed endpoint form with a 400 naming the field; nothing reaches it', async () => {
    await measure('endpoint abuse (authorityHost, ewsUrl; PUT and PATCH)', async (setFigure) => {
      const org = await api.createOrg();
      const base = { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 'a-secret-that-must-stay-home' };
      expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, base)).status).toBe(200);
      let attempts = 0;
      const accepted: string[] = [];
      const before = counter.connections;
      for (const field of ['authorityHost', 'ewsUrl'] as const) {
        for (const value of forms(field, counter.port)) {
          for (const method of ['PUT', 'PATCH'] as const) {
            attempts++;
            const body = method === 'PUT' ? { ...base, [field]: value } : { [field]: value, clientSecret: base.clientSecret };
            const res = await api.http(method, `/v1/orgs/${org.id}/exchange`, org.token, body);
            const ok = res.status === 400 && res.json().field === field && !res.text.includes(base.clientSecret);
            if (!ok) accepted.push(`${method} ${field}=${value} -> ${res.status} ${res.text.slice(0, 120)}`);
          }
        }
      }
      // The stored settings are still Microsoft's; the connection test now runs, and with DNS
      // pointing Microsoft's names at the listener the connect-time check refuses them too.
      const stored = (await api.http('GET', `/v1/orgs/${org.id}/exchange`, org.token)).json();
      expect(stored).toMatchObject({ authorityHost: 'https://login.microsoftonline.com', ewsUrl: 'https://outlook.office365.com/EWS/Exchange.asmx' });
      const test = await api.http('POST', `/v1/orgs/${org.id}/exchange/test`, org.token, { mailbox: 'someone@contoso.example' });
      expect(test.status).toBe(200);
      expect(test.json().ok).toBe(false);
      const connections = counter.connections - before;
      setFigure(`${attempts - accepted.length}/${attempts} refused with 400 naming the field; ${connections} connections to the listener`);
      expect(accepted).toEqual([]);
      expect(connections).toBe(0);
    });
  });
});
