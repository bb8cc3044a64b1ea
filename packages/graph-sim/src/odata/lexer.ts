/**
 * Tokens of OData's URL expression syntax (OData v4.01 Part 2, "URL Conventions", ABNF): names,
 * single-quoted strings (`''` escapes a quote), numbers, date-times, GUIDs, punctuation. Operators
 * (`eq`, `and`, ...) are names here; the parser reads them case-insensitively, as Graph does.
 */
export type Token =
  | { kind: 'name'; text: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'datetime'; value: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | '/' | ':'; pos: number }
  | { kind: 'end'; pos: number };

/** A syntax error at a 0-based position of the expression, reported as Graph's OData layer does. */
export class ODataSyntaxError extends Error {
  constructor(
    readonly position: number,
    readonly expression: string,
  ) {
    super(`Syntax error at position ${position} in '${expression}'.`);
  }
}

const DATETIME = /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?/y;
const GUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_$@][\w.@$]*/y;

function stickyMatch(re: RegExp, s: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(s);
  return m ? m[0] : undefined;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '/' || c === ':') {
      out.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new ODataSyntaxError(i, src);
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += src[j++];
      }
      out.push({ kind: 'string', value, pos: i });
      i = j + 1;
      continue;
    }
    if (/[0-9-]/.test(c)) {
      const guid = stickyMatch(GUID, src, i);
      if (guid) {
        out.push({ kind: 'string', value: guid, pos: i });
        i += guid.length;
        continue;
      }
      const dt = stickyMatch(DATETIME, src, i);
      if (dt && dt.length > 4) {
        out.push({ kind: 'datetime', value: dt, pos: i });
        i += dt.length;
        continue;
      }
      const num = stickyMatch(NUMBER, src, i);
      if (num) {
        out.push({ kind: 'number', value: Number(num), pos: i });
        i += num.length;
        continue;
      }
    }
    const name = stickyMatch(NAME, src, i);
    if (name) {
      out.push({ kind: 'name', text: name, pos: i });
      i += name.length;
      continue;
    }
    throw new ODataSyntaxError(i, src);
  }
  out.push({ kind: 'end', pos: src.length });
  return out;
}
