/**
 * The ResponseMessages of an HTTP 200 SOAP answer, each either a success holding its element or
 * the classified error of a `ResponseClass="Error"` message (the same classification as the
 * library path: errorFromExchangeCode with ResponseCode, MessageText and the BackOffMilliseconds
 * of MessageXml). SOAP faults and non-200 answers never reach here: EwsTransport types them.
 * https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsemessages
 */
import { errorFromExchangeCode } from '../classifyEwsError';
import { EwsError } from '../errors';
import { child, childrenNamed, parseXml, path, type XNode } from './xmlTree';

export type MessageResult = { ok: true; message: XNode } | { ok: false; error: EwsError };

function notUnderstood(what: string): EwsError {
  return new EwsError('Permanent', `Exchange's answer could not be read: ${what}`, { code: 'ResponseNotUnderstood', httpStatus: 200 });
}

/** The classified error of one ResponseClass="Error" message. */
export function messageError(message: XNode): EwsError {
  const code = (child(message, 'ResponseCode')?.text ?? '').trim() || 'ErrorInternalServerError';
  const text = (child(message, 'MessageText')?.text ?? '').trim();
  let backoffMs: number | undefined;
  for (const v of childrenNamed(child(message, 'MessageXml'), 'Value')) {
    if (v.attrs.Name === 'BackOffMilliseconds') {
      const n = Number(v.text.trim());
      if (Number.isFinite(n) && n >= 0) backoffMs = n;
    }
  }
  return errorFromExchangeCode({ code, message: text, httpStatus: 200, backoffMs });
}

/**
 * Parses `body` once and returns its response messages in order. Throws a Permanent EwsError
 * (code ResponseNotUnderstood) when the body has no `<operation>Response/ResponseMessages`.
 */
export function responseMessages(body: string, operation: string): MessageResult[] {
  const doc = parseXml(body);
  const response = path(doc, 'Envelope', 'Body', `${operation}Response`);
  const messages = child(response, 'ResponseMessages');
  if (!messages) throw notUnderstood(`no ${operation}Response/ResponseMessages in the SOAP body`);
  return messages.children.map((m): MessageResult => {
    const cls = m.attrs.ResponseClass;
    // Warning answers still carry their item (ServiceResult.Warning is not an error in the library either)
    return cls === 'Error' ? { ok: false, error: messageError(m) } : { ok: true, message: m };
  });
}

/** The one item element of a GetItem message (`Items/<CalendarItem|Contact|...>`). */
export function itemOf(message: XNode): XNode | undefined {
  return child(message, 'Items')?.children[0];
}
