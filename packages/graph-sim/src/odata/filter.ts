import { ODataSyntaxError, tokenize, type Token } from './lexer';

/** A parsed `$filter` expression (OData v4.01 boolCommonExpr, the part Graph accepts on Outlook data). */
export type FilterNode =
  | { t: 'or' | 'and'; l: FilterNode; r: FilterNode }
  | { t: 'not'; e: FilterNode }
  | { t: 'cmp'; op: CmpOp; l: FilterNode; r: FilterNode }
  | { t: 'lit'; v: string | number | boolean | null; datetime?: boolean }
  | { t: 'path'; segs: string[] }
  | { t: 'lambda'; segs: string[]; fn: 'any' | 'all'; v: string; body: FilterNode }
  | { t: 'call'; name: string; args: FilterNode[] };

export type CmpOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
const CMP = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
/** Functions the simulator evaluates; others parse but are refused as unsupported. */
export const SUPPORTED_FUNCTIONS = new Set(['startswith']);

/** Recursive descent over the tokens: or < and < not < comparison < primary. */
export function parseFilter(src: string): FilterNode {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): Token => toks[i];
  const fail = (t: Token = peek()): never => {
    throw new ODataSyntaxError(t.pos, src);
  };
  const isName = (t: Token, word: string) => t.kind === 'name' && t.text.toLowerCase() === word;
  const expectPunct = (p: string) => {
    const t = peek();
    if (t.kind !== 'punct' || t.text !== p) fail(t);
    i++;
  };

  function orExpr(): FilterNode {
    let l = andExpr();
    while (isName(peek(), 'or')) {
      i++;
      l = { t: 'or', l, r: andExpr() };
    }
    return l;
  }
  function andExpr(): FilterNode {
    let l = notExpr();
    while (isName(peek(), 'and')) {
      i++;
      l = { t: 'and', l, r: notExpr() };
    }
    return l;
  }
  function notExpr(): FilterNode {
    if (isName(peek(), 'not')) {
      i++;
      return { t: 'not', e: notExpr() };
    }
    const l = primary();
    const t = peek();
    if (t.kind === 'name' && CMP.has(t.text.toLowerCase())) {
      i++;
      return { t: 'cmp', op: t.text.toLowerCase() as CmpOp, l, r: primary() };
    }
    return l;
  }
  function primary(): FilterNode {
    const t = peek();
    if (t.kind === 'punct' && t.text === '(') {
      i++;
      const e = orExpr();
      expectPunct(')');
      return e;
    }
    if (t.kind === 'string') {
      i++;
      return { t: 'lit', v: t.value };
    }
    if (t.kind === 'number') {
      i++;
      return { t: 'lit', v: t.value };
    }
    if (t.kind === 'datetime') {
      i++;
      return { t: 'lit', v: t.value, datetime: true };
    }
    if (t.kind !== 'name') return fail(t);
    const word = t.text.toLowerCase();
    if (word === 'true' || word === 'false') {
      i++;
      return { t: 'lit', v: word === 'true' };
    }
    if (word === 'null') {
      i++;
      return { t: 'lit', v: null };
    }
    const next = toks[i + 1];
    if (next.kind === 'punct' && next.text === '(') {
      i += 2;
      const args: FilterNode[] = [];
      if (!(peek().kind === 'punct' && (peek() as { text: string }).text === ')')) {
        args.push(orExpr());
        while (peek().kind === 'punct' && (peek() as { text: string }).text === ',') {
          i++;
          args.push(orExpr());
        }
      }
      expectPunct(')');
      return { t: 'call', name: word, args };
    }
    return path();
  }
  function path(): FilterNode {
    const segs: string[] = [];
    for (;;) {
      const t = peek();
      if (t.kind !== 'name') return fail(t);
      i++;
      const lower = t.text.toLowerCase();
      const after = peek();
      if (segs.length > 0 && (lower === 'any' || lower === 'all') && after.kind === 'punct' && after.text === '(') {
        i++;
        const v = peek();
        if (v.kind !== 'name') return fail(v);
        i++;
        expectPunct(':');
        const body = orExpr();
        expectPunct(')');
        return { t: 'lambda', segs, fn: lower, v: v.text, body };
      }
      segs.push(t.text);
      const sep = peek();
      if (sep.kind === 'punct' && sep.text === '/') {
        i++;
        continue;
      }
      return { t: 'path', segs };
    }
  }

  const e = orExpr();
  if (peek().kind !== 'end') fail();
  return e;
}

/** Every function name and member path the expression uses (for validation against a type). */
export function walkFilter(n: FilterNode, visit: (n: FilterNode, lambdaVars: Set<string>) => void, vars = new Set<string>()): void {
  visit(n, vars);
  switch (n.t) {
    case 'or':
    case 'and':
    case 'cmp':
      walkFilter(n.l, visit, vars);
      walkFilter(n.r, visit, vars);
      break;
    case 'not':
      walkFilter(n.e, visit, vars);
      break;
    case 'lambda':
      walkFilter(n.body, visit, new Set([...vars, n.v]));
      break;
    case 'call':
      for (const a of n.args) walkFilter(a, visit, vars);
      break;
    case 'lit':
    case 'path':
      break;
  }
}

type Scope = { root: unknown; vars: Map<string, unknown> };

function member(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const rec = obj as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

function resolvePath(segs: string[], scope: Scope): unknown {
  let cur: unknown;
  let rest = segs;
  if (scope.vars.has(segs[0])) {
    cur = scope.vars.get(segs[0]);
    rest = segs.slice(1);
  } else cur = scope.root;
  for (const s of rest) cur = member(cur, s);
  return cur;
}

function value(n: FilterNode, scope: Scope): unknown {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'path':
      return resolvePath(n.segs, scope) ?? null;
    default:
      return evaluate(n, scope.root, scope.vars);
  }
}

function compare(op: CmpOp, a: unknown, b: unknown): boolean {
  if (op === 'eq') return a === b;
  if (op === 'ne') return a !== b;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  const x = a as string | number;
  const y = b as string | number;
  if (op === 'gt') return x > y;
  if (op === 'ge') return x >= y;
  if (op === 'lt') return x < y;
  return x <= y;
}

/** Date-times compare as instants; `2026-01-01T00:00:00` (no offset) is UTC, as Graph reads it. */
function normalizeForCompare(v: unknown, asDate: boolean): unknown {
  if (!asDate || typeof v !== 'string') return v;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(ms) ? v : ms;
}

/** Evaluates a filter against a JSON object (the Graph view of an item). */
export function evaluate(n: FilterNode, root: unknown, vars = new Map<string, unknown>()): boolean {
  const scope: Scope = { root, vars };
  switch (n.t) {
    case 'or':
      return evaluate(n.l, root, vars) || evaluate(n.r, root, vars);
    case 'and':
      return evaluate(n.l, root, vars) && evaluate(n.r, root, vars);
    case 'not':
      return !evaluate(n.e, root, vars);
    case 'cmp': {
      const asDate = (n.l.t === 'lit' && !!n.l.datetime) || (n.r.t === 'lit' && !!n.r.datetime);
      return compare(n.op, normalizeForCompare(value(n.l, scope), asDate), normalizeForCompare(value(n.r, scope), asDate));
    }
    case 'lambda': {
      const coll = resolvePath(n.segs, scope);
      const list = Array.isArray(coll) ? coll : [];
      const test = (x: unknown) => evaluate(n.body, root, new Map([...vars, [n.v, x]]));
      return n.fn === 'any' ? list.some(test) : list.every(test);
    }
    case 'call': {
      if (n.name === 'startswith') {
        const [a, b] = n.args.map((x) => value(x, scope));
        return typeof a === 'string' && typeof b === 'string' && a.toLowerCase().startsWith(b.toLowerCase());
      }
      return false;
    }
    case 'path':
      return value(n, scope) === true;
    case 'lit':
      return n.v === true;
  }
}
