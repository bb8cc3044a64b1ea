/**
 * A small XML element model. Items are stored as these trees (local names only) so that fields the
 * simulator does not interpret still round-trip to clients unchanged.
 */
export interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

export function el(name: string, attrs: Record<string, string> = {}, children: El[] = [], text = ''): El {
  return { name, attrs, children, text };
}

export function textEl(name: string, text: string, attrs: Record<string, string> = {}): El {
  return { name, attrs, children: [], text };
}

export function child(e: El | undefined, name: string): El | undefined {
  if (!e) return undefined;
  for (const c of e.children) if (c.name === name) return c;
  return undefined;
}

export function children(e: El | undefined, name: string): El[] {
  if (!e) return [];
  return e.children.filter((c) => c.name === name);
}

export function childText(e: El | undefined, name: string): string | undefined {
  const c = child(e, name);
  return c ? c.text : undefined;
}

export function cloneEl(e: El): El {
  return { name: e.name, attrs: { ...e.attrs }, children: e.children.map(cloneEl), text: e.text };
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[ref];
    if (v === undefined) throw new Error(`unknown entity ${m}`);
    return v;
  });
}

const TEXT_SPECIAL = /[&<>]/;
const ATTR_SPECIAL = /[&<>"]/;

// Most texts and ids hold no special character: testing first spares a replace (and its
// callback) per value, which was a visible share of the simulator's CPU in the initial-sync bench.
export function escapeText(s: string): string {
  if (!TEXT_SPECIAL.test(s)) return s;
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

export function escapeAttr(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s;
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

// Sticky expressions match at lastIndex without copying the rest of the document.
const START_TAG = /<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)/y;
const ATTRIBUTE = /([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)\s*=\s*("([^"]*)"|'([^']*)')/y;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Parses a whole document into local-name elements. Namespace declarations are dropped: EWS element
 * names are unique enough across the soap/messages/types namespaces for a simulator.
 * Throws XmlSyntaxError with the line and column of the first problem.
 */
export function parseXml(src: string): El {
  const root: El = el('#document');
  const stack: El[] = [root];
  let i = 0;
  const n = src.length;
  const fail = (msg: string, at: number): never => {
    const before = src.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new XmlSyntaxError(msg, line, column);
  };
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top === root) {
        if (raw.trim() !== '') fail('text outside the root element', i);
      } else {
        try {
          top.text += decodeEntities(raw);
        } catch (e) {
          fail((e as Error).message, i);
        }
      }
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction', i);
      i = end + 2;
    } else if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) fail('unterminated comment', i);
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA section', i);
      stack[stack.length - 1].text += src.slice(i + 9, end);
      i = end + 3;
    } else if (src.startsWith('<!', i)) {
      fail('DTDs are not allowed', i);
    } else if (src[i + 1] === '/') {
      const end = src.indexOf('>', i);
      if (end < 0) fail('unterminated end tag', i);
      const name = localName(src.slice(i + 2, end).trim());
      const top = stack.pop();
      if (!top || top === root || top.name !== name) fail(`unexpected end tag </${name}>`, i);
      i = end + 1;
    } else {
      START_TAG.lastIndex = i;
      const m = START_TAG.exec(src);
      if (!m) fail('malformed start tag', i);
      const name = localName(m![1]);
      let j = i + m![0].length;
      const attrs: Record<string, string> = {};
      for (;;) {
        while (j < n && isSpace(src.charCodeAt(j))) j++;
        if (j >= n) fail('unterminated start tag', i);
        if (src[j] === '>' || (src[j] === '/' && src[j + 1] === '>')) break;
        ATTRIBUTE.lastIndex = j;
        const am = ATTRIBUTE.exec(src);
        if (!am) fail('malformed attribute', j);
        const aname = am![1];
        if (aname !== 'xmlns' && !aname.startsWith('xmlns:')) {
          try {
            attrs[localName(aname)] = decodeEntities(am![3] ?? am![4] ?? '');
          } catch (e) {
            fail((e as Error).message, j);
          }
        }
        j += am![0].length;
      }
      const e = el(name, attrs);
      const parent = stack[stack.length - 1];
      if (parent === root && root.children.length > 0) fail('more than one root element', i);
      parent.children.push(e);
      if (src[j] === '/') {
        i = j + 2;
      } else {
        stack.push(e);
        i = j + 1;
      }
    }
  }
  if (stack.length !== 1) fail(`element <${stack[stack.length - 1].name}> is not closed`, n);
  if (root.children.length === 0) fail('no root element', 0);
  return root.children[0];
}

/** Serialises an element tree with one namespace prefix on every element (items live in `t:`). */
export function writeEl(e: El, prefix = 't', out: string[] = []): string[] {
  const tag = `${prefix}:${e.name}`;
  out.push('<', tag);
  for (const k in e.attrs) out.push(' ', k, '="', escapeAttr(e.attrs[k]), '"');
  if (e.children.length === 0 && e.text === '') {
    out.push('/>');
    return out;
  }
  out.push('>');
  if (e.children.length > 0) {
    for (const c of e.children) writeEl(c, prefix, out);
  } else {
    out.push(escapeText(e.text));
  }
  out.push('</', tag, '>');
  return out;
}

/** `<t:Name>text</t:Name>` with escaping. */
export function tx(name: string, text: string | number | boolean, prefix = 't'): string {
  return `<${prefix}:${name}>${escapeText(String(text))}</${prefix}:${name}>`;
}
