/**
 * One pass over an EWS answer: htmlparser2's tokenizer in XML mode (entities and character
 * references decoded, CDATA kept as text) builds a small tree of elements named by their LOCAL
 * name, so the prefix Exchange chose for a namespace (`t:`, `m:`, `s:`, none) never matters.
 * No DOM, no schema objects: the readers in this folder walk the tree straight into canonical
 * values.
 */
import { Parser } from 'htmlparser2';

export interface XNode {
  /** local name (prefix removed) */
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
  /** the element's own character data (whitespace between child elements included) */
  text: string;
}

const localName = (qname: string) => {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
};

/** The document's root holder (its one child is the Envelope). Never throws: a malformed body yields a partial tree. */
export function parseXml(xml: string): XNode {
  const root: XNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XNode[] = [root];
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const node: XNode = { name: localName(name), attrs, children: [], text: '' };
        stack[stack.length - 1].children.push(node);
        stack.push(node);
      },
      ontext(text) {
        stack[stack.length - 1].text += text;
      },
      onclosetag() {
        if (stack.length > 1) stack.pop();
      },
    },
    { xmlMode: true, decodeEntities: true, recognizeSelfClosing: true },
  );
  // XML 1.0 §2.11 (https://www.w3.org/TR/xml/#sec-line-ends): a parser passes every CR LF and lone
  // CR on as LF before parsing (a &#13; reference still yields CR). htmlparser2 does not, and the
  // DOM parser behind ews-javascript-api does: without this a body Exchange wrote with CR LF
  // would read differently on the two paths and look edited.
  parser.end(xml.includes('\r') ? xml.replace(/\r\n?/g, '\n') : xml);
  return root;
}

/** The first child element with this local name. */
export function child(node: XNode | undefined, name: string): XNode | undefined {
  if (!node) return undefined;
  for (const c of node.children) if (c.name === name) return c;
  return undefined;
}

/** Every child element with this local name, in document order. */
export function childrenNamed(node: XNode | undefined, name: string): XNode[] {
  return node ? node.children.filter((c) => c.name === name) : [];
}

/** The text of the first child element with this name, or undefined when there is no such element. */
export function childText(node: XNode | undefined, name: string): string | undefined {
  return child(node, name)?.text;
}

/** Follows a path of local names from `node`. */
export function path(node: XNode | undefined, ...names: string[]): XNode | undefined {
  let cur = node;
  for (const n of names) cur = child(cur, n);
  return cur;
}
