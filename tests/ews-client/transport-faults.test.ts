import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openMailbox } from '../../packages/ews-client/src/mailboxSession';
import { AuthFailedError, EwsError, ThrottledError } from '../../packages/ews-client/src/errors';

/**
 * Answers the EWS simulator does not produce on purpose (or produces at random): a raw HTTP server
 * returns exactly the bad answer under test, and the real ews-javascript-api sits above our
 * transport. Every failure must arrive as a typed rejection, with no unhandled rejection in the
 * process.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: Server;
let ewsUrl: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const lastHeaders: IncomingMessage['headers'][] = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = createServer((req, res) => {
    lastHeaders.push(req.headers);
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ewsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/EWS/Exchange.asmx`;
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

afterEach(async () => {
  // let any stray rejection surface before asserting there was none
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled).toEqual([]);
});

const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.c2ln';

function mailbox(timeoutMs = 5_000) {
  return openMailbox({
    ewsUrl,
    smtpAddress: 'alice@contoso.example',
    mode: 'app-only',
    getAccessToken: async () => TOKEN,
    timeoutMs,
  });
}

async function firstPage(timeoutMs?: number): Promise<unknown> {
  try {
    for await (const page of mailbox(timeoutMs).syncFolder('calendar', undefined)) return page;
    return undefined;
  } catch (e) {
    return e;
  }
}

function getItemAnswer(messages: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="8769" MinorBuildNumber="35" Version="V2018_01_08" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>
<s:Body><m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>${messages}</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`;
}

const BUSY_MESSAGE = `<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>The server cannot service this request right now. Try again later.</m:MessageText><m:ResponseCode>ErrorServerBusy</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:MessageXml><t:Value Name="BackOffMilliseconds">5000</t:Value></m:MessageXml><m:Items/></m:GetItemResponseMessage>`;

describe('batch answers', () => {
  it('per-item ErrorServerBusy with MessageXml -> per-item Throttled with that back-off', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(getItemAnswer(BUSY_MESSAGE + BUSY_MESSAGE));
    };
    const results = await mailbox().getItems('contact', ['AAMkAGI1', 'AAMkAGI2']);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(ThrottledError);
        expect((r.error as ThrottledError).backoffMs).toBe(5000);
      }
    }
  });

  it('a batch of three answered with a single error message fails the whole batch with the real code', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(
        getItemAnswer(
          `<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>An internal server error occurred. Try again later.</m:MessageText><m:ResponseCode>ErrorInternalServerTransientError</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/></m:GetItemResponseMessage>`,
        ),
      );
    };
    const results = await mailbox().getItems('contact', ['AAMkAGI1', 'AAMkAGI2', 'AAMkAGI3']);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r).toMatchObject({ ok: false, error: { kind: 'Transient', code: 'ErrorInternalServerTransientError' } });
    }
  });
});

describe('transport: bad answers become typed errors and the process lives', () => {
  it('an HTML 500 page is Transient', async () => {
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in / Application.</h1></body></html>');
    };
    const e = await firstPage();
    expect(e).toBeInstanceOf(EwsError);
    expect((e as EwsError).kind).toBe('Transient');
    expect((e as EwsError).httpStatus).toBe(500);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('a truncated 200 body is Transient (MalformedResponse)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(
        '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:SyncFolderItemsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:SyncFolderItemsResponseMessage ResponseClass="Succ',
      );
    };
    const e = await firstPage();
    expect((e as EwsError).kind).toBe('Transient');
    expect((e as EwsError).code).toBe('MalformedResponse');
  });

  it('a connection cut in the middle of a declared body is Transient (TruncatedResponse)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '5000' });
      res.write('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const e = await firstPage();
    expect((e as EwsError).kind).toBe('Transient');
    expect(['TruncatedResponse', 'ECONNRESET']).toContain((e as EwsError).code);
  });

  it('a reset connection is Transient', async () => {
    handler = (req) => req.socket.destroy();
    const e = await firstPage();
    expect((e as EwsError).kind).toBe('Transient');
  });

  it('a hung server times out as Transient', async () => {
    handler = () => undefined; // never answers
    const e = await firstPage(300);
    expect((e as EwsError).kind).toBe('Transient');
    expect((e as EwsError).code).toBe('Timeout');
  });

  it('a gzip-compressed SOAP fault is decoded and classified (the library asks for gzip)', async () => {
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/xml; charset=utf-8', 'content-encoding': 'gzip' });
      res.end(
        gzipSync(
          '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>' +
            '<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorNonExistentMailbox</faultcode>' +
            '<faultstring xml:lang="en-US">The SMTP address has no mailbox associated with it.</faultstring><detail>' +
            '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorNonExistentMailbox</e:ResponseCode>' +
            '<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The SMTP address has no mailbox associated with it.</e:Message>' +
            '</detail></s:Fault></s:Body></s:Envelope>',
        ),
      );
    };
    const e = await firstPage();
    expect((e as EwsError).kind).toBe('MailboxNotFound');
    expect((e as EwsError).message).toBe('The SMTP address has no mailbox associated with it.');
    expect(lastHeaders.at(-1)?.['accept-encoding']).toContain('gzip');
  });

  it('an empty 403 is EwsDisabledForTenant', async () => {
    handler = (_req, res) => {
      res.writeHead(403);
      res.end();
    };
    const e = await firstPage();
    expect((e as EwsError).kind).toBe('EwsDisabledForTenant');
  });

  it('a 401 with x-ms-diagnostics is AuthFailed with the diagnostics code', async () => {
    handler = (_req, res) => {
      res.writeHead(401, { 'x-ms-diagnostics': '2000002;reason="The token has expired.";error_category="invalid_lifetime"' });
      res.end();
    };
    const e = await firstPage();
    expect(e).toBeInstanceOf(AuthFailedError);
    expect((e as AuthFailedError).reason).toBe('token-rejected');
    expect((e as AuthFailedError).code).toBe('2000002');
  });

  it('a 503 with Retry-After is Throttled for that long', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'retry-after': '30' });
      res.end();
    };
    const e = await firstPage();
    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as ThrottledError).backoffMs).toBe(30_000);
  });

  it('sends a fresh bearer token, client-request-id and return-client-request-id on each request', async () => {
    handler = (_req, res) => {
      res.writeHead(503);
      res.end();
    };
    lastHeaders.length = 0;
    let n = 0;
    const mb = openMailbox({ ewsUrl, smtpAddress: 'alice@contoso.example', mode: 'delegated', getAccessToken: async () => `${TOKEN}${++n}`, timeoutMs: 2000 });
    await mb.checkAccess().catch(() => undefined);
    await mb.checkAccess().catch(() => undefined);
    expect(lastHeaders.map((h) => h.authorization)).toEqual([`Bearer ${TOKEN}1`, `Bearer ${TOKEN}2`]);
    expect(lastHeaders[0]['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastHeaders[0]['client-request-id']).not.toBe(lastHeaders[1]['client-request-id']);
    expect(lastHeaders[0]['return-client-request-id']).toBe('true');
    // delegated: no anchor header
    expect(lastHeaders[0]['x-anchormailbox']).toBeUndefined();
  });
});
