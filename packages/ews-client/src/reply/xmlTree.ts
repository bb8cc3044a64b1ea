/**
 * One pass over an EWS answer: a small XML scanner (below) builds a tree of elements named by
 * their LOCAL name, so the prefix Exchange chose for a namespace (`t:`, `m:`, `s:`, none) never
 * matters. No DOM, no schema objects: the readers in this folder walk the tree straight into
 * canonical values.
 *
 * The scanner reads what XML 1.0 (https://www.w3.org/TR/xml/) lets a SOAP answer hold: start,
 * end and empty-element tags with quoted attributes, character data with the five predefined
 * entities and character references (§4.1, §4.6), CDATA sections (kept as text), comments,
 * processing instructions and a DOCTYPE (skipped), and line ends normalised (§2.11). It does not
 * validate: like the htmlparser2 pass it replaced (measured: a third of the CPU of an initial sync
 * went to htmlparser2's character-by-character state machine; this one jumps with indexOf), it
 * never throws, and a malformed body yields a partial tree that the readers then reject.
 */

export interface XNode {
  /** local name (prefix removed) */
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
  /** the element's own character data (whitespace between child elements included) */
  text: string;
}

/** The attributes of an element that has none: shared, never written (the readers only read attrs). */
const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;

/** A character reference's character; one XML forbids (NUL, a surrogate, beyond U+10FFFF) reads as U+FFFD. */
function charOf(cp: number): string {
  return cp === 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ? '\ufffd' : String.fromCodePoint(cp);
}

/** Decodes the predefined entities and character references of `s`; any other `&` is kept as written. */
function decode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(REFERENCE, (_m, hex: string | undefined, dec: string | undefined, named: string | undefined) =>
    named ? PREDEFINED[named] : charOf(hex ? parseInt(hex, 16) : Number(dec)),
  );
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;
/** Ends a tag or attribute name: whitespace, '/', '>', '='. */
const endsName = (c: number) => c === 32 || c === 10 || c === 9 || c === 13 || c === 47 || c === 62 || c === 61;

/** The document's root holder (its one child is the Envelope). Never throws: a malformed body yields a partial tree. */
export function parseXml(input: string): XNode {
  // XML 1.0 §2.11 (https://www.w3.org/TR/xml/#sec-line-ends): a parser passes every CR LF and lone
  // CR on as LF before parsing (a &#13; reference still yields CR), as the DOM parser behind
  // ews-javascript-api does: without this a body Exchange wrote with CR LF would read differently
  // on the two paths and look edited.
  const xml = input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input;
  const n = xml.length;
  const root: XNode = { name: '#document', attrs: NO_ATTRS, children: [], text: '' };
  const stack: XNode[] = [root];
  /** the qualified names of the open elements, for matching end tags (stack[i + 1] is qnames[i]) */
  const qnames: string[] = [];
  let top = root;
  let i = 0;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) top.text += decode(xml.slice(i, textEnd));
    if (lt < 0) break;
    const c = xml.charCodeAt(lt + 1);
    if (c === 47 /* '/' end tag */) {
      const gt = xml.indexOf('>', lt + 2);
      if (gt < 0) break;
      const open = qnames.length - 1;
      // the usual case, the innermost element's own end tag, compared in place
      if (open >= 0 && gt === lt + 2 + qnames[open].length && xml.startsWith(qnames[open], lt + 2)) {
        qnames.pop();
        stack.pop();
        top = stack[open];
        i = gt + 1;
        continue;
      }
      const qname = xml.slice(lt + 2, gt).trimEnd();
      // Close the innermost open element of that name (and any left open inside it); an end tag
      // that matches no open element is ignored.
      for (let d = qnames.length - 1; d >= 0; d--) {
        if (qnames[d] === qname) {
          qnames.length = d;
          stack.length = d + 1;
          top = stack[d];
          break;
        }
      }
      i = gt + 1;
    } else if (c === 33 /* '!' */) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end < 0) break;
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end < 0) break;
        top.text += xml.slice(lt + 9, end);
        i = end + 3;
      } else {
        // <!DOCTYPE ...> (an internal subset with '>' inside is not something EWS sends)
        const gt = xml.indexOf('>', lt + 2);
        if (gt < 0) break;
        i = gt + 1;
      }
    } else if (c === 63 /* '?' processing instruction or XML declaration */) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) break;
      i = end + 2;
    } else if (lt + 1 < n && !endsName(c) && c !== 60) {
      // start or empty-element tag
      let j = lt + 1;
      let colon = -1;
      for (; j < n; j++) {
        const ch = xml.charCodeAt(j);
        if (endsName(ch)) break;
        if (ch === 58 /* ':' */ && colon < 0) colon = j;
      }
      const qname = xml.slice(lt + 1, j);
      let attrs = NO_ATTRS;
      let selfClosing = false;
      let closed = false;
      while (j < n) {
        let a = xml.charCodeAt(j);
        if (isSpace(a)) {
          j++;
          continue;
        }
        if (a === 62 /* '>' */) {
          closed = true;
          j++;
          break;
        }
        if (a === 47 /* '/' */) {
          if (xml.charCodeAt(j + 1) === 62) {
            selfClosing = closed = true;
            j += 2;
            break;
          }
          j++;
          continue;
        }
        // attribute: name, '=', quoted value
        const nameStart = j;
        while (j < n && !endsName(xml.charCodeAt(j))) j++;
        const attrName = xml.slice(nameStart, j);
        while (j < n && isSpace(xml.charCodeAt(j))) j++;
        if (xml.charCodeAt(j) !== 61 /* '=' */) {
          if (attrName === '') j++; // a stray '=' or the like: step over it
          continue;
        }
        j++;
        while (j < n && isSpace(xml.charCodeAt(j))) j++;
        a = xml.charCodeAt(j);
        if (a !== 34 && a !== 39) continue; // unquoted value: not XML, dropped
        const close = xml.indexOf(a === 34 ? '"' : "'", j + 1);
        if (close < 0) {
          j = n;
          break;
        }
        if (attrs === NO_ATTRS) attrs = {};
        attrs[attrName] = decode(xml.slice(j + 1, close));
        j = close + 1;
      }
      if (!closed) break; // the document ends inside a tag
      const node: XNode = { name: colon < 0 ? qname : xml.slice(colon + 1, lt + 1 + qname.length), attrs, children: [], text: '' };
      top.children.push(node);
      if (!selfClosing) {
        stack.push(node);
        qnames.push(qname);
        top = node;
      }
      i = j;
    } else {
      // a '<' that starts no markup is character data (not well-formed, read leniently)
      top.text += '<';
      i = lt + 1;
    }
  }
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
