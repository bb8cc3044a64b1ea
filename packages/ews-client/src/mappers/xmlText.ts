/**
 * ews-javascript-api 0.15 writes element text verbatim (EwsServiceXmlWriter.WriteValue appends the
 * string as is), so a subject with `&` or `<` makes a malformed request. Every string we hand the
 * library is escaped here; responses are parsed by a real XML parser, so reads need nothing.
 * Characters XML 1.0 cannot carry at all are dropped.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlText(value: string): string {
  return value.replace(NOT_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The text as it will read back from Exchange (what xmlText keeps). */
export function storableText(value: string): string {
  return value.replace(NOT_XML, '');
}

/** Attribute values are written verbatim too (EwsServiceXmlWriter.WriteAttributeString): escape quotes as well. */
export function xmlAttr(value: string): string {
  return xmlText(value).replace(/"/g, '&quot;');
}
