import { canonicalExtendedId } from '../extendedProperties';
import { errors, GraphError } from '../errors';
import { ODataSyntaxError } from './lexer';
import { parseFilter, SUPPORTED_FUNCTIONS, walkFilter, type FilterNode } from './filter';

/** The system query options of one request, parsed (OData v4.01 Part 2, section 5). */
export interface QueryOptions {
  select?: string[];
  filter?: FilterNode;
  /** `$expand=singleValueExtendedProperties($filter=...)`; `filter` undefined expands them all. */
  expandExtended?: { filter?: FilterNode };
  top?: number;
  skip?: number;
  /** `$orderby=start/dateTime desc, subject`: member paths, each ascending unless `desc`. */
  orderBy?: { segs: string[]; desc: boolean }[];
}

/** What a resource accepts: its entity type, its properties and which options it supports. */
export interface ResourceRules {
  type: 'event' | 'contact';
  properties: readonly string[];
  /** Options this endpoint accepts (`$select`, `$filter`, `$expand`, `$top`, `$skip`, `$orderby`). */
  allow: readonly string[];
  /** Names the resource in the "not supported" message (e.g. change tracking over CalendarView). */
  refuse?: (options: string[]) => GraphError;
}

const KNOWN = new Set([
  '$select',
  '$filter',
  '$expand',
  '$top',
  '$skip',
  '$orderby',
  '$search',
  '$count',
  '$format',
  '$apply',
  '$compute',
  '$levels',
  '$skiptoken',
  '$deltatoken',
  '$index',
  '$schemaversion',
]);

function syntax(e: unknown, option: string): never {
  if (e instanceof ODataSyntaxError) throw errors.badRequest(`Invalid ${option} clause: ${e.message}`);
  throw e;
}

/** Splits `a,b(c,d),e` at top-level commas, honouring parentheses and quotes. */
function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const c of s) {
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    if (!quoted && depth === 0 && c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function propertyNotFound(name: string, type: string): GraphError {
  return new GraphError(400, 'RequestBroker--ParseUri', `Could not find a property named '${name}' on type 'microsoft.graph.${type}'.`);
}

/**
 * Extended property ids compare by meaning (the GUID's case and `0x` spelling do not matter, the name
 * does): string literals compared with an `id` member are rewritten to the canonical spelling.
 */
function canonicalizeIds(n: FilterNode): void {
  walkFilter(n, (x) => {
    if (x.t !== 'cmp') return;
    const sides: ['l' | 'r', 'l' | 'r'][] = [
      ['l', 'r'],
      ['r', 'l'],
    ];
    for (const [p, q] of sides) {
      const pathSide = x[p];
      const litSide = x[q];
      if (pathSide.t === 'path' && pathSide.segs[pathSide.segs.length - 1].toLowerCase() === 'id' && litSide.t === 'lit' && typeof litSide.v === 'string') {
        const c = canonicalExtendedId(litSide.v);
        if (c) litSide.v = c;
      }
    }
  });
}

const EXTENDED_COLLECTION = 'singlevalueextendedproperties';

/** Refuses functions the simulator (like Exchange) does not evaluate and paths the type does not have. */
function validateFilter(n: FilterNode, rules: ResourceRules, extendedScope: boolean): void {
  const props = new Set(rules.properties.map((p) => p.toLowerCase()));
  walkFilter(n, (x, vars) => {
    if (x.t === 'call' && !SUPPORTED_FUNCTIONS.has(x.name)) {
      throw new GraphError(
        400,
        'ErrorInvalidUrlQueryFilter',
        `The query filter contains one or more invalid nodes: the function '${x.name}' is not supported.`,
      );
    }
    if (x.t === 'path' || x.t === 'lambda') {
      const head = x.segs[0];
      if (vars.has(head)) return;
      if (extendedScope) {
        if (!['id', 'value'].includes(head.toLowerCase())) throw propertyNotFound(head, 'singleValueLegacyExtendedProperty');
        return;
      }
      if (!props.has(head.toLowerCase()) && head.toLowerCase() !== EXTENDED_COLLECTION) throw propertyNotFound(head, rules.type);
    }
  });
}

function parseExpand(text: string, rules: ResourceRules): QueryOptions['expandExtended'] {
  let result: QueryOptions['expandExtended'];
  for (const part of splitTopLevel(text, ',')) {
    const m = /^\s*([\w.]+)\s*(?:\((.*)\))?\s*$/s.exec(part);
    if (!m) throw errors.badRequest(`Invalid $expand clause: '${text}'.`);
    if (m[1].toLowerCase() !== EXTENDED_COLLECTION) {
      throw errors.badRequest(`Parsing OData Select and Expand failed: Could not find a property named '${m[1]}' on type 'microsoft.graph.${rules.type}'.`);
    }
    result = {};
    for (const opt of m[2] ? splitTopLevel(m[2], ';') : []) {
      const eq = opt.indexOf('=');
      const name = opt.slice(0, eq).trim().toLowerCase();
      if (eq < 0 || name !== '$filter') throw errors.badRequest(`Invalid $expand clause: the option '${opt.trim()}' is not supported in $expand.`);
      let f: FilterNode;
      try {
        f = parseFilter(opt.slice(eq + 1));
      } catch (e) {
        syntax(e, '$filter');
      }
      validateFilter(f!, rules, true);
      canonicalizeIds(f!);
      result.filter = f!;
    }
  }
  return result;
}

function nonNegativeInt(v: string, option: string, min: number, max: number): number {
  const n = Number(v.trim());
  if (!/^\s*\d+\s*$/.test(v) || n < min || n > max)
    throw errors.badRequest(`Invalid value '${v}' for ${option}: it must be an integer between ${min} and ${max}.`);
  return n;
}

/**
 * Parses the `$`-options of a request against a resource's rules. Unknown options, options the
 * endpoint does not support, bad syntax and unknown properties answer 400 with Graph's codes.
 */
export function parseQuery(params: URLSearchParams, rules: ResourceRules): QueryOptions {
  const out: QueryOptions = {};
  const given: [string, string][] = [];
  for (const [k, v] of params) if (k.startsWith('$')) given.push([k.toLowerCase(), v]);
  const refused = given.map(([k]) => k).filter((k) => !rules.allow.includes(k) && k !== '$skiptoken' && k !== '$deltatoken');
  if (refused.length > 0) {
    const unknown = refused.find((k) => !KNOWN.has(k));
    if (unknown)
      throw errors.badRequest(
        `Query option '${unknown}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.`,
      );
    throw rules.refuse ? rules.refuse(refused) : errors.unsupportedQuery(`The query option(s) '${refused.join(', ')}' are not supported on this resource.`);
  }
  const props = new Map(rules.properties.map((p) => [p.toLowerCase(), p]));
  for (const [k, v] of given) {
    switch (k) {
      case '$select': {
        const names = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (names.length === 0) throw errors.badRequest('Invalid $select clause: it is empty.');
        out.select = names.map((n) => {
          const p = props.get(n.toLowerCase());
          if (!p) throw propertyNotFound(n, rules.type);
          return p;
        });
        break;
      }
      case '$filter': {
        let f: FilterNode;
        try {
          f = parseFilter(v);
        } catch (e) {
          syntax(e, '$filter');
        }
        validateFilter(f!, rules, false);
        canonicalizeIds(f!);
        out.filter = f!;
        break;
      }
      case '$expand':
        out.expandExtended = parseExpand(v, rules);
        break;
      case '$top':
        out.top = nonNegativeInt(v, '$top', 1, 1000);
        break;
      case '$orderby':
        out.orderBy = splitTopLevel(v, ',').map((part) => {
          const m = /^\s*([A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*)\s*(asc|desc)?\s*$/i.exec(part);
          if (!m) throw errors.badRequest(`Invalid $orderby clause: '${part.trim()}'.`);
          const segs = m[1].split('/');
          if (!props.has(segs[0].toLowerCase())) throw propertyNotFound(segs[0], rules.type);
          return { segs, desc: (m[2] ?? '').toLowerCase() === 'desc' };
        });
        break;
      case '$skip':
        out.skip = nonNegativeInt(v, '$skip', 0, 1_000_000);
        break;
    }
  }
  return out;
}
