/**
 * The EWS -> Graph REST id derivation the switch uses (packages/graph-client/src/itemResolution.ts),
 * checked on the real pairs in tests/graph-sim/fixtures/ews-vs-rest-id-pair.txt and as a property:
 * the REST id holds the same bytes in Exchange's URL-safe alphabet.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { restIdFromEwsId } from '@exsync/graph-client';

const FIXTURE = path.resolve(__dirname, '../graph-sim/fixtures/ews-vs-rest-id-pair.txt');

function pairs(): { ews: string; rest: string }[] {
  const lines = readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.includes(':'));
  const value = (l: string) => l.slice(l.indexOf(':') + 1).trim();
  const out: { ews: string; rest: string }[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [a, b] = [lines[i], lines[i + 1]];
    const ewsFirst = /EWS/.test(a.slice(0, a.indexOf(':')));
    out.push(ewsFirst ? { ews: value(a), rest: value(b) } : { ews: value(b), rest: value(a) });
  }
  return out;
}

describe('restIdFromEwsId', () => {
  it('maps the real EWS ids to the REST ids Graph answered', () => {
    const p = pairs();
    expect(p).toHaveLength(2);
    for (const { ews, rest } of p) expect(restIdFromEwsId(ews)).toBe(rest);
  });

  // Not RFC 4648 base64url ('+' -> '-', '/' -> '_'): Exchange swaps the two, as the real pairs show.
  it("is the same bytes in Exchange's URL-safe alphabet ('/' -> '-', '+' -> '_', padding kept), not RFC 4648 base64url", () => {
    let differsFromBase64url = 0;
    for (let n = 1; n < 200; n++) {
      const bytes = randomBytes(n);
      const rest = restIdFromEwsId(bytes.toString('base64'));
      expect(rest).toMatch(/^[A-Za-z0-9_-]+=*$/);
      expect(Buffer.from(rest.replace(/-/g, '/').replace(/_/g, '+'), 'base64').equals(bytes)).toBe(true);
      if (rest.replace(/=+$/, '') !== bytes.toString('base64url')) differsFromBase64url++;
    }
    expect(differsFromBase64url).toBeGreaterThan(0);
  });
});
