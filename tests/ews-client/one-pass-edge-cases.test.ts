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

describe('the XML scanner', () => {
  const body = (xml: string) => child(parseXml(xml), 'Body')!;
  it.each([
    ['predefined entities', '<Body>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</Body>', `a <b> & "c" 'd'`],
    ['character references', '<Body>&#65;&#x42;&#x1F600;&#0;</Body>', 'AB\u{1F600}\ufffd'],
    ['an unknown entity is kept as written', '<Body>&nbsp;&amp</Body>', '&nbsp;&amp'],
    ['CDATA is text, not markup', '<Body>x<![CDATA[<a>&amp;]]>y</Body>', 'x<a>&amp;y'],
    ['comments and processing instructions are skipped', '<?xml version="1.0"?><!DOCTYPE x><Body>a<!-- <b> -->b<?pi x?>c</Body>', 'abc'],
  ])('%s', (_name, xml, text) => {
    expect(body(xml).text).toBe(text);
  });

  it('reads attributes in either quote with entities, names by local name, and empty elements', () => {
    const root = parseXml(`<s:Envelope xmlns:s="u"><s:Body><m:X a='1 &amp; 2' b="&quot;q&quot;" c = "3"/><Y/>tail</s:Body></s:Envelope>`);
    const b = child(child(root, 'Envelope'), 'Body')!;
    expect(b.children.map((c) => c.name)).toEqual(['X', 'Y']);
    expect(b.children[0].attrs).toEqual({ a: '1 & 2', b: '"q"', c: '3' });
    expect(b.children[1].children).toEqual([]);
    expect(b.text).toBe('tail');
  });

  it('an end tag closes the innermost open element of its name; a stray one is ignored', () => {
    const root = parseXml('<A><B><C>x</B><D/></Q></A>');
    const a = child(root, 'A')!;
    expect(a.children.map((c) => c.name)).toEqual(['B', 'D']);
    expect(child(child(a, 'B'), 'C')!.text).toBe('x');
  });

  it('a truncated document yields the part read so far', () => {
    const root = parseXml('<A><B>x</B><C at="1');
    expect(child(root, 'A')!.children.map((c) => c.name)).toEqual(['B']);
  });
});
