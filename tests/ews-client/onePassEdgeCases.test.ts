/**
 * Cases the one-pass reader must read as an XML parser and contactMapper do, found by the
 * property tests (field-fidelity seed 177080137, transport-parity seed 244526576) and pinned here.
 */
import { describe, expect, it } from 'vitest';
import { readContact } from '../../packages/ews-client/src/reply/readContact';
import { child, parseXml } from '../../packages/ews-client/src/reply/xmlTree';

const contact = (inner: string) =>
  child(parseXml(`<t:Contact xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">${inner}</t:Contact>`), 'Contact')!;
const BIRTHDAY_LOCAL =
  '<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="Address" PropertyId="32990" PropertyType="SystemTime"/>' +
  '<t:Value>1910-01-01T00:00:00Z</t:Value></t:ExtendedProperty>';

describe('XML end-of-line handling (XML 1.0 §2.11)', () => {
  it.each([
    ['CR LF', 'line\r\nbreak', 'line\nbreak'],
    ['lone CR', 'line\rbreak', 'line\nbreak'],
    ['LF', 'line\nbreak', 'line\nbreak'],
    ['a &#13; reference keeps its CR', 'line&#13;\nbreak', 'line\r\nbreak'],
  ])('%s', (_name, raw, text) => {
    expect(child(parseXml(`<Body>${raw}</Body>`), 'Body')!.text).toBe(text);
  });
});

describe('birthday', () => {
  it('PidLidBirthdayLocal dates a birthday', () => {
    expect(readContact(contact(`<t:Birthday>1909-12-31T23:00:00Z</t:Birthday>${BIRTHDAY_LOCAL}`)).birthday).toBe('1910-01-01');
  });
  it('without a Birthday there is no birthday, even when PidLidBirthdayLocal was left behind', () => {
    expect(readContact(contact(BIRTHDAY_LOCAL)).birthday).toBeUndefined();
  });
});
