import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as ews from 'ews-javascript-api';
import { describe, expect, it } from 'vitest';
import { entraAppToken, ewsService } from '../support/sims';

/** `npm run sim -- --json`: exactly one JSON line, usable as is, and a clean stop on SIGTERM. */
describe('scripts/sim.ts --json', () => {
  it('prints one JSON line describing the simulators (EWS and Graph over the same mailboxes) and stops on SIGTERM', async () => {
    const root = join(__dirname, '..', '..');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'sim.ts'), '--json', '--entra-port', '0', '--ews-port', '0', '--graph-port', '0'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout! });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', () => reject(new Error('sim exited before printing')));
      });
      const info = JSON.parse(first);
      // CONTRACT.md "Simulators": these always; imap/smtp (and the monitor's app id) when Dovecot runs.
      const always = ['applicationId', 'clientSecret', 'controlUrl', 'entraUrl', 'ewsUrl', 'graphUrl', 'tenantId', 'users'];
      const withMailServers = ['imap', 'monitorApplicationId', 'smtp'];
      const keys = Object.keys(info).sort();
      expect(keys).toEqual(info.imap ? [...always, ...withMailServers].sort() : always);
      if (info.imap) expect(info.smtp).toMatchObject({ host: expect.any(String), port: expect.any(Number) });
      expect(info.graphUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0$/);
      expect(info.users.map((u: { email: string }) => u.email)).toEqual(['alice@contoso.example', 'bob@contoso.example', 'carol@contoso.example']);
      const token = await entraAppToken(info.entraUrl, info.tenantId, info.applicationId, info.clientSecret);
      const folder = await ews.Folder.Bind(ewsService(info.ewsUrl, token, 'bob@contoso.example'), ews.WellKnownFolderName.Contacts);
      expect(folder.DisplayName).toBe('Contacts');
      const graphToken = await fetch(`${info.entraUrl}/${info.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: info.applicationId,
          client_secret: info.clientSecret,
          scope: 'https://graph.microsoft.com/.default',
        }),
      }).then((r) => r.json() as Promise<{ access_token: string }>);
      const folders = await fetch(`${info.graphUrl}/users/bob@contoso.example/contactFolders`, {
        headers: { Authorization: `Bearer ${graphToken.access_token}` },
      });
      expect(((await folders.json()) as { value: { displayName: string }[] }).value[0].displayName).toBe('Contacts');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
