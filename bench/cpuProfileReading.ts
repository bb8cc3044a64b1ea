/**
 * Reads a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` or the inspector writes it) into
 * CPU per category of work: each sample's time goes to the innermost stack frame whose source file
 * names a category (so library code called from a mapper counts as the library, and a mapper's
 * own loops count as mapping). Used by bench/profileInitialSync.ts for the README's reading.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Category rules, first match wins per frame; frames are tried from the leaf outwards. */
const RULES: [RegExp, string][] = [
  [/node_modules\/(htmlparser2|entities)\//, 'XML parse (htmlparser2, one pass)'],
  [/ews-client\/src\/reply\/xmlTree/, 'XML parse (xmlTree scanner, one pass)'],
  [/ews-client\/src\/reply\//, 'EWS reply reader (tree walk into canonical values)'],
  [/fast-xml-parser|strnum/, 'XML parse (fast-xml-parser)'],
  [
    /ews-javascript-api\/js\/Core\/EwsXmlReader|@xmldom|xmldom|DOMParser|EwsServiceXmlReader|EwsServiceJsonReader|ExtensionMethods/,
    'XML parse (ews-javascript-api DOM)',
  ],
  [/ews-client\/src\/mappers/, 'mapping (ews-client mappers)'],
  [/ews-javascript-api|moment/, 'ews-javascript-api object model'],
  [/ews-client\/src\/|http-guard/, 'EWS transport (HTTP, fault check, regexes)'],
  [/canonical\/src/, 'canonical normalisation'],
  [/node_modules\/(pg|pg-protocol|pg-types|pg-pool)\//, 'Postgres driver (SQL wire)'],
  [/packages\/db\//, 'db repositories (rows, JSON for Postgres)'],
  [/sync-engine/, 'sync engine'],
];

export interface ProfileReading {
  totalMs: number;
  busyMs: number;
  byCategory: { category: string; ms: number; share: number; usPerItem?: number }[];
}

export function readProfile(p: CpuProfile, items?: number): ProfileReading {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + d);
    total += d;
  });
  const categoryOf = (id: number): string => {
    const leaf = byId.get(id)!;
    const special: Record<string, string> = { '(garbage collector)': 'GC', '(idle)': 'idle', '(program)': 'V8 (program)' };
    if (Object.hasOwn(special, leaf.callFrame.functionName)) return special[leaf.callFrame.functionName];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { url, functionName } = byId.get(cur)!.callFrame;
      for (const [re, name] of RULES) if (re.test(url)) return name;
      if (!url && (functionName === 'stringify' || functionName === 'parse')) return 'JSON';
    }
    const url = leaf.callFrame.url;
    return url.startsWith('node:') ? 'Node core (sockets, streams, timers)' : 'other';
  };
  const agg = new Map<string, number>();
  for (const [id, t] of self) agg.set(categoryOf(id), (agg.get(categoryOf(id)) ?? 0) + t);
  const busy = total - (agg.get('idle') ?? 0);
  agg.delete('idle');
  const byCategory = [...agg]
    .sort((a, b) => b[1] - a[1])
    .map(([category, us]) => ({
      category,
      ms: Math.round(us / 1000),
      share: Math.round((1000 * us) / busy) / 10,
      ...(items ? { usPerItem: Math.round(us / items) } : {}),
    }));
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), byCategory };
}

/** `npx tsx bench/cpuProfileReading.ts <file.cpuprofile[.gz]> [items]`: the reading of a saved profile. */
if (require.main === module) {
  const [file, items] = process.argv.slice(2);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gunzipSync } = require('node:zlib') as typeof import('node:zlib');
  const raw = readFileSync(file);
  const profile = JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as CpuProfile;
  const reading = readProfile(profile, items ? Number(items) : undefined);
  console.log(`profiled ${reading.busyMs} ms busy`);
  for (const c of reading.byCategory)
    console.log(`${String(c.ms).padStart(7)} ms ${c.share.toFixed(1).padStart(5)} % ${String(c.usPerItem ?? '').padStart(6)} us/item  ${c.category}`);
}
