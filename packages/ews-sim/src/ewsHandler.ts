import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal, TokenChecker } from './auth';
import type { Faults } from './faults';
import { readBody } from './httpIo';
import { ItemError, RequestFault, type OpContext } from './operations/context';
import { OPERATIONS } from './operations';
import type { RequestLog, RequestLogEntry } from './requestLog';
import { backOffXml, envelope, HttpError, soapFault, SoapFaultError } from './soap';
import type { Mailbox, MailboxStore } from './store';
import { parseTimeZone } from './timeZones';
import { child, parseXml, XmlSyntaxError, type El } from './xml';

export interface EwsHandlerDeps {
  store: MailboxStore;
  tokens: TokenChecker;
  faults: Faults;
  requestLog: RequestLog;
  /** Responses held open by the hang fault, so close() can end them. */
  hung: Set<ServerResponse>;
  baseLatencyMs: number;
  /** Requests in flight per mailbox, for Exchange's concurrency budgets. */
  inFlight: Map<string, { total: number; sync: number }>;
}

/** Exchange Online's budgets: 27 concurrent connections per mailbox, 5 concurrent SyncFolderItems. */
export const MAX_CONCURRENT_CONNECTIONS = 27;
export const MAX_CONCURRENT_SYNC_CALLS = 5;

const EXCEEDED_CONNECTIONS = 'You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.';
const EXCEEDED_CONNECTIONS_XML =
  `<t:Value Name="Policy">MaxConcurrency</t:Value><t:Value Name="MaxConcurrencyLimit">${MAX_CONCURRENT_CONNECTIONS}</t:Value>` +
  `<t:Value Name="ErrorMessage">This operation exceeds the throttling budget for policy part 'MaxConcurrency', policy value '${MAX_CONCURRENT_CONNECTIONS}',  Budget type: 'Ews'.  Suggested backoff time 0 ms.</t:Value>`;

const MAX_BODY = 64 * 1024 * 1024;

/** EWS_SIM_TRACE=1 writes each successful SOAP exchange (bodies only, never headers) to stderr. */
const TRACE = process.env.EWS_SIM_TRACE === '1';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function impersonatedAddress(header: El | undefined): { present: boolean; address?: string } {
  const imp = child(header, 'ExchangeImpersonation');
  if (!imp) return { present: false };
  const sid = child(imp, 'ConnectingSID');
  const id = sid?.children[0];
  if (!id) return { present: true };
  if (id.name === 'SID') return { present: true, address: undefined };
  return { present: true, address: id.text.trim().toLowerCase() };
}

/** The header text Exchange Online sends when EWS is blocked by policy (GRAPH-NOTES.md, "Why Graph"). */
export const EWS_POLICY_REASON = 'EWS is blocked by policy for this user or tenant';

const IMPERSONATION_MISSING = 'ExchangeImpersonation SOAP header must be present for this type of OAuth token.';
const NON_EXISTENT = 'The SMTP address has no mailbox associated with it.';
const IMPERSONATE_DENIED = 'The account does not have permission to impersonate the requested user.';

/**
 * Resolves the mailbox a request acts on, applying Exchange's checks after the token: the
 * impersonation header, tenant policy, the mailbox's existence, then impersonation rights.
 */
function targetMailbox(store: MailboxStore, principal: Principal, header: El | undefined, anchor: string | undefined): Mailbox {
  const imp = impersonatedAddress(header);
  if (principal.kind === 'app' && !imp.present) {
    throw new SoapFaultError('ErrorInvalidExchangeImpersonationHeaderData', IMPERSONATION_MISSING);
  }
  const tenant = store.tenants.get(principal.tenantId);
  if (tenant && !tenant.ewsEnabled) {
    // Exchange Online's block of EWS by organisation policy names itself in X-EWS-Policy-Reason;
    // the older "EWS disabled" answer is a bare 403.
    throw new HttpError(403, tenant.ewsBlockReason === 'policy' ? { 'X-EWS-Policy-Reason': EWS_POLICY_REASON } : {}, '');
  }
  const address = principal.kind === 'user' ? (imp.present ? imp.address : principal.upn) : imp.address;
  if (imp.present && !imp.address) throw new SoapFaultError('ErrorInvalidExchangeImpersonationHeaderData', 'The impersonation header data is invalid.');
  const mb = address ? store.getMailbox(address) : undefined;
  if (!mb || mb.tenantId !== principal.tenantId) throw new SoapFaultError('ErrorNonExistentMailbox', NON_EXISTENT);
  if (anchor) {
    const anchored = store.getMailbox(anchor);
    if (!anchored || anchored.tenantId !== principal.tenantId) throw new SoapFaultError('ErrorNonExistentMailbox', NON_EXISTENT);
  }
  if (principal.kind === 'user' && mb.email !== principal.upn) throw new SoapFaultError('ErrorImpersonateUserDenied', IMPERSONATE_DENIED);
  if (mb.impersonationDenied || mb.deniedApps.has(principal.appId)) throw new SoapFaultError('ErrorImpersonateUserDenied', IMPERSONATE_DENIED);
  return mb;
}

function schemaFault(e: XmlSyntaxError | RequestFault): SoapFaultError {
  if (e instanceof XmlSyntaxError) {
    return new SoapFaultError(
      'ErrorSchemaValidation',
      'The request failed schema validation: ' + e.message,
      `<t:LineNumber>${e.line}</t:LineNumber><t:LinePosition>${e.column}</t:LinePosition><t:Violation>${e.message.replace(/[<>&]/g, '')}</t:Violation>`,
    );
  }
  return new SoapFaultError(e.code, e.message);
}

const HTML_ERROR_PAGE =
  "<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '/EWS' Application.</h1>" +
  '<h2><i>Runtime Error</i></h2></body></html>';

/** Handles one POST to /EWS/Exchange.asmx from the first byte to the last. */
export async function handleEws(deps: EwsHandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const entry: RequestLogEntry = deps.requestLog.start({
    impersonation: false,
    anchorMailbox: headerValue(req, 'x-anchormailbox'),
    protocol: 'ews',
  });
  const requestId = randomUUID();
  const baseHeaders: Record<string, string> = { 'request-id': requestId, 'X-BackEndHttpStatus': '' };
  const clientRequestId = headerValue(req, 'client-request-id');
  if (clientRequestId && /true/i.test(headerValue(req, 'return-client-request-id') ?? '')) baseHeaders['client-request-id'] = clientRequestId;
  let release = () => {};
  const send = (status: number, body: string, headers: Record<string, string> = {}) => {
    release();
    const h: Record<string, string> = { ...baseHeaders, ...headers, 'X-BackEndHttpStatus': String(status) };
    if (body) h['Content-Type'] = h['Content-Type'] ?? 'text/xml; charset=utf-8';
    h['Content-Length'] = String(Buffer.byteLength(body));
    res.writeHead(status, h);
    res.end(body);
    deps.requestLog.finish(entry, status);
  };
  try {
    const raw = await readBody(req, MAX_BODY, () => new HttpError(413, {}, ''));
    if (deps.baseLatencyMs > 0) await sleep(deps.baseLatencyMs);
    const principal = await deps.tokens.check(req.headers.authorization, (tid) => deps.store.tenants.has(tid));
    let doc: El;
    try {
      doc = parseXml(raw);
    } catch (e) {
      if (e instanceof XmlSyntaxError) throw schemaFault(e);
      throw e;
    }
    const header = child(doc, 'Header');
    const body = child(doc, 'Body');
    const opEl = body?.children[0];
    if (doc.name !== 'Envelope' || !opEl)
      throw schemaFault(new RequestFault('ErrorSchemaValidation', 'The request failed schema validation: the SOAP envelope has no body.'));
    entry.operation = opEl.name;
    entry.impersonation = !!child(header, 'ExchangeImpersonation');
    const mb = targetMailbox(deps.store, principal, header, entry.anchorMailbox?.toLowerCase());
    entry.mailbox = mb.email;
    const counts = deps.inFlight.get(mb.email) ?? { total: 0, sync: 0 };
    deps.inFlight.set(mb.email, counts);
    const isSync = opEl.name === 'SyncFolderItems';
    counts.total++;
    if (isSync) counts.sync++;
    let released = false;
    release = () => {
      if (released) return;
      released = true;
      counts.total--;
      if (isSync) counts.sync--;
    };
    res.on('close', release);
    if (counts.total > MAX_CONCURRENT_CONNECTIONS) throw new SoapFaultError('ErrorExceededConnectionCount', EXCEEDED_CONNECTIONS, EXCEEDED_CONNECTIONS_XML);
    const syncCallsExceeded = isSync && counts.sync > MAX_CONCURRENT_SYNC_CALLS;
    const faultConfig = deps.faults.effective(mb.email);
    if (faultConfig.latencyMs > 0) await sleep(faultConfig.latencyMs);
    const fault = deps.faults.pick(faultConfig);
    if (fault === 'reset') {
      deps.requestLog.finish(entry, 0, 'reset');
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') {
      deps.hung.add(res);
      res.on('close', () => {
        deps.hung.delete(res);
        deps.requestLog.finish(entry, 0, 'hang');
      });
      return;
    }
    if (fault === 'http503') {
      send(503, '', { 'Retry-After': String(faultConfig.retryAfterSeconds) });
      return;
    }
    if (fault === 'http504') {
      send(504, '');
      return;
    }
    if (fault === 'serverBusy') {
      throw new SoapFaultError('ErrorServerBusy', 'The server cannot service this request right now. Try again later.', backOffXml(faultConfig.backOffMs));
    }
    const operation = OPERATIONS[opEl.name];
    if (!operation) {
      throw new SoapFaultError('ErrorInvalidRequest', `The request is invalid: the operation ${opEl.name} is not supported by this server.`);
    }
    const tzDef = child(child(header, 'TimeZoneContext'), 'TimeZoneDefinition');
    const ctx: OpContext = {
      store: deps.store,
      mb,
      request: opEl,
      contextTz: tzDef ? parseTimeZone(tzDef) : undefined,
      throwIfBusy: () => {
        if (deps.faults.rollItemBusy(faultConfig)) {
          throw new ItemError('ErrorServerBusy', undefined, backOffXml(faultConfig.backOffMs));
        }
      },
      throwIfRefused: (texts) => {
        const refusal = deps.faults.itemRefusal(mb.email, texts);
        if (refusal) throw new ItemError(refusal.code, `The item was refused (simulated per-item fault ${refusal.code}).`);
      },
      syncCallsExceeded,
    };
    let xml: string;
    try {
      xml = envelope(operation(ctx));
    } catch (e) {
      if (e instanceof RequestFault) throw schemaFault(e);
      if (e instanceof ItemError) throw new SoapFaultError(e.code, e.message);
      throw e;
    }
    if (fault === 'malformed') {
      if (deps.faults.nextMalformedIsHtml()) send(500, HTML_ERROR_PAGE, { 'Content-Type': 'text/html; charset=utf-8' });
      else send(200, xml.slice(0, Math.max(40, Math.floor(xml.length / 2))));
      return;
    }
    if (TRACE) process.stderr.write(`[ews-sim] ${mb.email} ${opEl.name}\n>>> ${raw}\n<<< ${xml}\n`);
    send(200, xml);
  } catch (e) {
    if (e instanceof HttpError) {
      send(e.status, e.body, e.headers);
    } else if (e instanceof SoapFaultError) {
      send(e.httpStatus, soapFault(e.code, e.message, e.messageXml));
    } else {
      send(500, soapFault('ErrorInternalServerError', 'An internal server error occurred. The operation failed.'));
      deps.requestLog.noteError(entry, e);
    }
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
