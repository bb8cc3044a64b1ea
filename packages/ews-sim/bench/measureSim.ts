/**
 * Measures the EWS simulator alone (raw SOAP over keep-alive HTTP, no client library parsing):
 * SyncFolderItems 512-change pages and GetItem batches over a 20k-item calendar.
 * Run: `npx tsx packages/ews-sim/bench/measureSim.ts [items] [concurrency]`
 */
import { Agent, request } from 'node:http';
import { startSimulators } from '../../../scripts/simulators';

const TAG = '<t:ExtendedFieldURI PropertySetId="6e1b1f6a-3c4d-4e5f-8a9b-0c1d2e3f4a5b" PropertyName="exsyncId" PropertyType="String"/>';
const NS =
  'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"';

function envelope(mailbox: string, body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope ${NS}><soap:Header><t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${mailbox}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, token: string, xml: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', Authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(xml);
  });
}

async function main(): Promise<void> {
  const items = Number(process.argv[2] ?? 20000);
  const concurrency = Number(process.argv[3] ?? 8);
  const sims = await startSimulators();
  const mailbox = 'alice@contoso.example';
  const t0 = performance.now();
  sims.ews.store.seed(mailbox, { calendarItems: items, contacts: 0, recurringEvery: 50 });
  const seedMs = performance.now() - t0;
  const res = await fetch(`${sims.entraUrl}/${sims.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sims.applicationId,
      client_secret: sims.clientSecret,
      scope: 'https://outlook.office365.com/.default',
    }),
  });
  const token = ((await res.json()) as { access_token: string }).access_token;

  // One full initial sync in 512-change pages, repeated by `concurrency` parallel clients.
  const syncOnce = async () => {
    let state = '';
    let pages = 0;
    let changes = 0;
    for (;;) {
      const xml = await post(
        sims.ewsUrl,
        token,
        envelope(
          mailbox,
          `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:LastModifiedTime"/>${TAG}</t:AdditionalProperties></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>${state ? `<m:SyncState>${state}</m:SyncState>` : ''}<m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`,
        ),
      );
      pages++;
      changes += xml.split('<t:Create>').length - 1;
      state = /<m:SyncState>([^<]*)<\/m:SyncState>/.exec(xml)![1];
      if (xml.includes('<m:IncludesLastItemInRange>true')) break;
    }
    return { pages, changes };
  };
  let t = performance.now();
  const syncs = await Promise.all(Array.from({ length: concurrency }, syncOnce));
  const syncMs = performance.now() - t;
  const syncPages = syncs.reduce((a, s) => a + s.pages, 0);
  const syncChanges = syncs.reduce((a, s) => a + s.changes, 0);

  const ids = sims.ews.store.readFolder(mailbox, 'calendar').map((i) => i.id);
  const results: string[] = [];
  for (const batch of [10, 50]) {
    const batches: string[][] = [];
    for (let i = 0; i < Math.min(ids.length, 5000); i += batch) batches.push(ids.slice(i, i + batch));
    let next = 0;
    t = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches.length) {
          const b = batches[next++];
          await post(
            sims.ewsUrl,
            token,
            envelope(
              mailbox,
              `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties>${TAG}<t:FieldURI FieldURI="calendar:StartTimeZone"/></t:AdditionalProperties></m:ItemShape><m:ItemIds>${b.map((id) => `<t:ItemId Id="${id}"/>`).join('')}</m:ItemIds></m:GetItem>`,
            ),
          );
        }
      }),
    );
    const ms = performance.now() - t;
    const n = batches.reduce((a, b) => a + b.length, 0);
    results.push(
      `GetItem AllProperties, batches of ${batch}: ${batches.length} requests, ${n} items in ${ms.toFixed(0)} ms = ${((batches.length * 1000) / ms).toFixed(0)} req/s, ${((n * 1000) / ms).toFixed(0)} items/s`,
    );
  }
  console.log(`seed ${items} calendar items: ${seedMs.toFixed(0)} ms`);
  console.log(
    `SyncFolderItems 512-change pages, ${concurrency} concurrent full syncs: ${syncPages} requests, ${syncChanges} changes in ${syncMs.toFixed(0)} ms = ${((syncPages * 1000) / syncMs).toFixed(0)} req/s, ${((syncChanges * 1000) / syncMs).toFixed(0)} items/s`,
  );
  for (const r of results) console.log(r);
  agent.destroy();
  await sims.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
