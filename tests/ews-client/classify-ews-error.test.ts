import { describe, expect, it } from 'vitest';
import { ServiceError, ServiceResponse, ServiceResponseException, SoapFaultDetails } from 'ews-javascript-api';
import { classifyEwsError, errorFromAuthStatus, errorFromExchangeCode, DEFAULT_THROTTLE_BACKOFF_MS } from '../../packages/ews-client/src/classifyEwsError';
import { AuthFailedError, EwsError, ThrottledError } from '../../packages/ews-client/src/errors';
import { parseSoapFault, retryAfterMs, validateResponse } from '../../packages/ews-client/src/transport';

function responseException(code: ServiceError, message: string, backoff?: number): ServiceResponseException {
  const fault = new SoapFaultDetails();
  fault.ResponseCode = code;
  fault.FaultString = message;
  if (backoff !== undefined) fault.ErrorDetails.Add('BackOffMilliseconds', String(backoff));
  // the typings hide the (SoapFaultDetails) and (ServiceResponse) constructors the library uses itself
  const response = new (ServiceResponse as unknown as new (f: SoapFaultDetails) => ServiceResponse)(fault);
  return new (ServiceResponseException as unknown as new (r: ServiceResponse) => ServiceResponseException)(response);
}

function soapFault(code: ServiceError, message: string, httpStatus: number | undefined): SoapFaultDetails {
  const fault = new SoapFaultDetails(message);
  fault.ResponseCode = code;
  fault.Message = message;
  fault.HttpStatusCode = httpStatus as number;
  return fault;
}

describe('classifyEwsError: Exchange response codes', () => {
  const table: [string, string][] = [
    ['ErrorImpersonateUserDenied', 'ImpersonationDenied'],
    ['ErrorInvalidExchangeImpersonationHeaderData', 'ImpersonationDenied'],
    ['ErrorNonExistentMailbox', 'MailboxNotFound'],
    ['ErrorInvalidSyncStateData', 'SyncStateInvalid'],
    ['ErrorItemNotFound', 'ItemNotFound'],
    ['ErrorIrresolvableConflict', 'ChangeKeyConflict'],
    ['ErrorInternalServerTransientError', 'Transient'],
    ['ErrorMailboxStoreUnavailable', 'Transient'],
    ['ErrorServerBusy', 'Throttled'],
    ['ErrorExceededConnectionCount', 'Throttled'],
    ['ErrorAccessDenied', 'AuthFailed'],
    ['ErrorSchemaValidation', 'Permanent'],
    ['ErrorInvalidIdMalformed', 'Permanent'],
  ];
  it.each(table)('%s -> %s (as a per-item code)', (code, kind) => {
    const e = errorFromExchangeCode({ code, message: `msg for ${code}` });
    expect(e).toBeInstanceOf(EwsError);
    expect(e.kind).toBe(kind);
    expect(e.code).toBe(code);
    expect(e.message).toBe(`msg for ${code}`);
  });

  it.each(table)('%s -> %s (as a library ServiceResponseException)', (code, kind) => {
    const ex = responseException(ServiceError[code as keyof typeof ServiceError], `text ${code}`);
    // the reason this module exists: library exceptions are not Errors
    expect(ex instanceof Error).toBe(false);
    const e = classifyEwsError(ex);
    expect(e.kind).toBe(kind);
    expect(e.code).toBe(code);
    expect(e.message).toBe(`text ${code}`);
  });

  it('ErrorServerBusy carries BackOffMilliseconds from the fault details', () => {
    const e = classifyEwsError(responseException(ServiceError.ErrorServerBusy, 'busy', 297749));
    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as ThrottledError).backoffMs).toBe(297749);
  });

  it('ErrorServerBusy without details reads the suggested back-off from the text, else the default', () => {
    const fromText = errorFromExchangeCode({
      code: 'ErrorServerBusy',
      message: "This operation exceeds the throttling budget for policy part 'ConcurrentSyncCalls'.  Suggested backoff time 5000 ms.",
    });
    expect((fromText as ThrottledError).backoffMs).toBe(5000);
    const bare = errorFromExchangeCode({ code: 'ErrorServerBusy', message: 'busy' });
    expect((bare as ThrottledError).backoffMs).toBe(DEFAULT_THROTTLE_BACKOFF_MS);
  });

  it('a SOAP fault of HTTP 500 is classified by its ResponseCode', () => {
    const e = classifyEwsError(soapFault(ServiceError.ErrorNonExistentMailbox, 'no such mailbox', 500));
    expect(e.kind).toBe('MailboxNotFound');
    expect(e.httpStatus).toBe(500);
  });

  it('a library SoapFaultDetails without HTTP status (connection refused, timeout) is Transient', () => {
    const e = classifyEwsError(soapFault(ServiceError.ErrorInternalServerError, 'connect ECONNREFUSED', undefined));
    expect(e.kind).toBe('Transient');
  });

  it('library 401 / 403 / 503 faults are auth failures and throttling', () => {
    const e401 = classifyEwsError(
      soapFault(ServiceError.ErrorInternalServerError, '2000003;reason="The audience claim value is invalid";error_category="invalid_resource"', 401),
    );
    expect(e401).toBeInstanceOf(AuthFailedError);
    expect((e401 as AuthFailedError).reason).toBe('token-rejected');
    expect(e401.code).toBe('2000003');
    const e403 = classifyEwsError(
      soapFault(
        ServiceError.ErrorInternalServerError,
        '2000008;reason="The token contains not enough scope to make this call.";error_category="invalid_grant"',
        403,
      ),
    );
    expect((e403 as AuthFailedError).reason).toBe('role-missing');
    const e503 = classifyEwsError(soapFault(ServiceError.ErrorInternalServerError, '', 503));
    expect(e503.kind).toBe('Throttled');
  });

  it("the library's own failure to read a 200 answer is Permanent (ResponseNotUnderstood)", () => {
    const local = new SoapFaultDetails("Cannot read properties of undefined (reading 'Items')");
    const e = classifyEwsError(local);
    expect(e.kind).toBe('Permanent');
    expect(e.code).toBe('ResponseNotUnderstood');
  });

  it('a SOAP fault sent with HTTP 200 is classified by its code', () => {
    const body = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorImpersonateUserDenied</faultcode><faultstring>The account does not have permission to impersonate the requested user.</faultstring></s:Fault></s:Body></s:Envelope>`;
    const e = validateResponse({ status: 200, statusText: '', headers: {}, body });
    expect(e?.kind).toBe('ImpersonationDenied');
    expect(e?.message).toBe('The account does not have permission to impersonate the requested user.');
  });

  it('EwsErrors pass through unchanged; anything else unknown is Permanent', () => {
    const original = new EwsError('Transient', 'x', { code: 'Timeout' });
    expect(classifyEwsError(original)).toBe(original);
    expect(classifyEwsError(new TypeError("Cannot read properties of undefined (reading 'Foo')")).kind).toBe('Permanent');
    expect(classifyEwsError('boom').kind).toBe('Permanent');
  });
});

describe('HTTP status classification', () => {
  it('401 2000008 (no roles) and 403 2000008 (wrong roles) are role-missing auth failures', () => {
    for (const status of [401, 403] as const) {
      const e = errorFromAuthStatus(
        status,
        '2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"',
      );
      expect(e).toBeInstanceOf(AuthFailedError);
      expect((e as AuthFailedError).reason).toBe('role-missing');
      expect(e.httpStatus).toBe(status);
    }
  });

  it('an empty 403 without diagnostics means EWS is disabled', () => {
    const e = errorFromAuthStatus(403, undefined);
    expect(e.kind).toBe('EwsDisabledForTenant');
    expect(e.needsPerson).toBe(true);
    expect(e.scope).toBe('organisation');
  });

  it('a 403 with X-EWS-Policy-Reason is the EWS retirement block, a kind of its own', () => {
    const e = errorFromAuthStatus(403, undefined, 'EwsBlockedByRetirementPolicy');
    expect(e.kind).toBe('EwsBlockedByPolicy');
    expect(e.scope).toBe('organisation');
    expect(e.message).not.toContain('EwsBlockedByRetirementPolicy');
  });

  it('Retry-After is read as seconds or as an HTTP date', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs(new Date(10_000 + 45_000).toUTCString(), 10_000)).toBe(45_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('validateResponse: HTML 500, truncated 200, empty 200, 503, 502', () => {
    const html = validateResponse({ status: 500, statusText: '', headers: { 'content-type': 'text/html' }, body: '<html><body>Runtime Error</body></html>' });
    expect(html?.kind).toBe('Transient');
    const truncated = validateResponse({
      status: 200,
      statusText: '',
      headers: {},
      body: '<?xml version="1.0"?><s:Envelope xmlns:s="x"><s:Body><m:GetItemResp',
    });
    expect(truncated?.kind).toBe('Transient');
    expect(truncated?.code).toBe('MalformedResponse');
    expect(validateResponse({ status: 200, statusText: '', headers: {}, body: '' })?.code).toBe('MalformedResponse');
    const t = validateResponse({ status: 503, statusText: '', headers: { 'retry-after': '12' }, body: '' });
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).backoffMs).toBe(12_000);
    expect(validateResponse({ status: 502, statusText: '', headers: {}, body: 'bad gateway' })?.kind).toBe('Transient');
    expect(validateResponse({ status: 200, statusText: '', headers: {}, body: '<s:Envelope xmlns:s="x"><s:Body/></s:Envelope>\n' })).toBeUndefined();
  });

  it('parses Exchange SOAP faults with BackOffMilliseconds (real sample)', () => {
    const body = `<?xml version='1.0' encoding='utf-8'?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>
<faultstring xml:lang="en-US">The server cannot service this request right now. Try again later.</faultstring>
<detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">
          ErrorServerBusy
        </e:ResponseCode><e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The server cannot service this request right now. Try again later.</e:Message>
<t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:Value Name="BackOffMilliseconds">297749</t:Value></t:MessageXml>
</detail></s:Fault></s:Body></s:Envelope>`;
    expect(parseSoapFault(body)).toEqual({
      code: 'ErrorServerBusy',
      message: 'The server cannot service this request right now. Try again later.',
      backoffMs: 297749,
    });
    const e = validateResponse({ status: 500, statusText: '', headers: {}, body });
    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as ThrottledError).backoffMs).toBe(297749);
    expect(e?.httpStatus).toBe(500);
  });
});
