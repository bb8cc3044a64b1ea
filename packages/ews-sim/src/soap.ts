import { escapeText } from './xml';

export const NS_SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
export const NS_TYPES = 'http://schemas.microsoft.com/exchange/services/2006/types';
export const NS_MESSAGES = 'http://schemas.microsoft.com/exchange/services/2006/messages';
export const NS_ERRORS = 'http://schemas.microsoft.com/exchange/services/2006/errors';

/** Exchange 2016 CU-level build, as EXO and 2016 on-premises answer to RequestServerVersion Exchange2016. */
export const SERVER_VERSION_INFO =
  `<h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="57" Version="V2017_07_11"` +
  ` xmlns:h="${NS_TYPES}" xmlns="${NS_TYPES}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`;

/** A successful (HTTP 200) envelope around one operation response element. */
export function envelope(body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS_SOAP}"><s:Header>${SERVER_VERSION_INFO}</s:Header>` +
    `<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">${body}</s:Body></s:Envelope>`
  );
}

/** Opening tag of `<m:XResponse>` with both EWS namespaces declared. */
export function responseOpen(op: string): string {
  return `<m:${op}Response xmlns:m="${NS_MESSAGES}" xmlns:t="${NS_TYPES}"><m:ResponseMessages>`;
}

export function responseClose(op: string): string {
  return `</m:ResponseMessages></m:${op}Response>`;
}

/** Standard EWS message texts for the codes the simulator answers with. */
export const MESSAGE_TEXT: Record<string, string> = {
  ErrorItemNotFound: 'The specified object was not found in the store., The process failed to get the correct properties.',
  ErrorFolderNotFound: 'The specified folder could not be found in the store.',
  ErrorInvalidSyncStateData: 'Synchronization state data is corrupt or otherwise invalid.',
  ErrorIrresolvableConflict:
    'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item., Cannot save changes made to an item to store.',
  ErrorServerBusy: 'The server cannot service this request right now. Try again later.',
  ErrorInvalidIdMalformed: 'Id is malformed.',
  ErrorInvalidPropertyRequest: 'This property was requested, but it cannot be returned for this type of item.',
  ErrorAccessDenied: 'Access is denied. Check credentials and try again.',
  ErrorCannotCreateContactInNonContactFolder: 'Cannot create a contact in a non-contact folder.',
  ErrorCalendarInvalidRecurrence: 'The recurrence pattern is invalid.',
  ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange: 'Occurrence index is out of recurrence range.',
  ErrorCalendarIsCancelledForDecline: 'Calendar item is cancelled.',
  ErrorIncorrectUpdatePropertyCount: 'An object within a change description must contain one and only one property to modify.',
  ErrorInvalidOperation: 'The operation is not valid for this item.',
};

export interface ErrorMessage {
  code: string;
  text?: string;
  messageXml?: string;
}

/**
 * A `ResponseClass="Error"` message inside an HTTP 200 response. `trailer` holds the operation's
 * elements that follow the common ones (e.g. `<m:Items/>` or an empty SyncState).
 */
export function errorMessage(op: string, err: ErrorMessage, trailer = ''): string {
  const text = err.text ?? MESSAGE_TEXT[err.code] ?? err.code;
  return (
    `<m:${op}ResponseMessage ResponseClass="Error"><m:MessageText>${escapeText(text)}</m:MessageText>` +
    `<m:ResponseCode>${err.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>` +
    (err.messageXml ? `<m:MessageXml>${err.messageXml}</m:MessageXml>` : '') +
    `${trailer}</m:${op}ResponseMessage>`
  );
}

export function successOpen(op: string): string {
  return `<m:${op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`;
}

export function successClose(op: string): string {
  return `</m:${op}ResponseMessage>`;
}

/** An HTTP 500 SOAP fault as Exchange writes it (faultcode in the types namespace, detail in errors). */
export function soapFault(code: string, message: string, messageXml = '', faultcodeNs: 'types' | 'soap' = 'types'): string {
  const faultcode = faultcodeNs === 'types' ? `<faultcode xmlns:a="${NS_TYPES}">a:${code}</faultcode>` : `<faultcode>s:Client</faultcode>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS_SOAP}"><s:Body><s:Fault>${faultcode}` +
    `<faultstring xml:lang="en-US">${escapeText(message)}</faultstring><detail>` +
    `<e:ResponseCode xmlns:e="${NS_ERRORS}">${code}</e:ResponseCode>` +
    `<e:Message xmlns:e="${NS_ERRORS}">${escapeText(message)}</e:Message>` +
    (messageXml ? `<t:MessageXml xmlns:t="${NS_TYPES}">${messageXml}</t:MessageXml>` : '') +
    `</detail></s:Fault></s:Body></s:Envelope>`
  );
}

export function backOffXml(ms: number): string {
  return `<t:Value Name="BackOffMilliseconds">${ms}</t:Value>`;
}

export class SoapFaultError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly messageXml = '',
    readonly httpStatus = 500,
  ) {
    super(message);
  }
}

/** An answer that is not SOAP at all (401/403 with headers, 503), thrown out of request handling. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body = '',
  ) {
    super(`HTTP ${status}`);
  }
}
