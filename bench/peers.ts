/**
 * The two peers exsync's pull is compared with:
 * - the naive ews-javascript-api client most users write: FindItem pages, then one GetItem
 *   (`Item.Bind`) per item, with no change tracking;
 * - exchangelib's `sync_items()` with full properties (Debian's python3-exchangelib).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { XhrApi } from '@ewsjs/xhr';
import {
  Appointment,
  ConnectingIdType,
  Contact,
  ExchangeService,
  ExchangeVersion,
  ImpersonatedUserId,
  ItemView,
  OAuthCredentials,
  TimeZoneInfo,
  Uri,
  WellKnownFolderName,
} from 'ews-javascript-api';

export async function naivePull(opts: {
  ewsUrl: string;
  email: string;
  token: string;
  folder: 'calendar' | 'contacts';
  limit: number;
}): Promise<{ items: number; wallMs: number }> {
  const service = new ExchangeService(ExchangeVersion.Exchange2016, TimeZoneInfo.Utc);
  service.Url = new Uri(opts.ewsUrl);
  service.Credentials = new OAuthCredentials(opts.token);
  service.XHRApi = new XhrApi({ timeout: 120_000, proxy: false } as never);
  service.ImpersonatedUserId = new ImpersonatedUserId(ConnectingIdType.SmtpAddress, opts.email);
  service.HttpHeaders.Add('X-AnchorMailbox', opts.email);
  const folder = opts.folder === 'calendar' ? WellKnownFolderName.Calendar : WellKnownFolderName.Contacts;
  const started = performance.now();
  let items = 0;
  let offset = 0;
  for (;;) {
    const pageSize = Math.min(1000, opts.limit - items);
    if (pageSize <= 0) break;
    const page = await service.FindItems(folder, new ItemView(pageSize, offset));
    for (const found of page.Items) {
      if (opts.folder === 'calendar') await Appointment.Bind(service, found.Id);
      else await Contact.Bind(service, found.Id);
      items += 1;
    }
    offset += page.Items.length;
    if (!page.MoreAvailable || page.Items.length === 0) break;
  }
  return { items, wallMs: performance.now() - started };
}

// Debian's interpreter carries python3-exchangelib; a pyenv shim earlier on PATH would not.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function exchangelibPull(opts: {
  ewsUrl: string;
  email: string;
  token: string;
  tenantId: string;
  folder: 'calendar' | 'contacts';
}): Promise<{ items: number; wallMs: number } | null> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [path.join(__dirname, 'exchangelib_pull.py')], {
      env: {
        ...process.env,
        EWS_URL: opts.ewsUrl,
        EWS_MAILBOX: opts.email,
        EWS_ACCESS_TOKEN: opts.token,
        EWS_TENANT_ID: opts.tenantId,
        EWS_FOLDER: opts.folder,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', () => resolve(null));
    child.on('exit', (code) => {
      if (code !== 0) {
        process.stderr.write(`exchangelib run failed (${code}): ${err.split('\n').slice(-3).join(' ')}\n`);
        resolve(null);
        return;
      }
      resolve(JSON.parse(out.trim().split('\n').pop()!) as { items: number; wallMs: number });
    });
  });
}
