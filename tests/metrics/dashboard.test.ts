import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';
import { declaredFamilies } from './promText';

/** Every metric ops/grafana-dashboard.json queries is declared on /metrics of an API with its worker. */
const DASHBOARD = path.resolve(__dirname, '../../ops/grafana-dashboard.json');
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'topk',
  'bottomk',
  'le',
]);

/** Metric names in a PromQL expression: identifiers outside strings, label sets, ranges and `by (...)` lists. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !PROMQL_WORDS.has(m[0]) && stripped[m.index! + m[0].length] !== '(' && !/^\d/.test(m[0]))
    .map((m) => m[0]);
}

function queriedMetrics(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  return [...new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))))].sort();
}

let s: Stack;
beforeAll(async () => {
  s = await startStack({ worker: false });
  await s.startWorker({ scheduler: false, metrics: s.app.metrics });
});
afterAll(async () => {
  await s?.close();
});

describe('ops/grafana-dashboard.json', () => {
  it('reads metric names out of PromQL', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{status_code=~"5.."}[5m])))')).toEqual([
      'http_request_duration_seconds_bucket',
    ]);
    expect(metricNames('sum(rate(a_total[$__rate_interval])) / sum(rate(b_count[5m]))')).toEqual(['a_total', 'b_count']);
  });

  it('queries only metrics that /metrics declares', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/metrics' });
    const families = declaredFamilies(res.body);
    const queried = queriedMetrics();
    expect(queried.length).toBeGreaterThanOrEqual(10);
    const missing = queried.filter((name) => {
      if (families.has(name)) return false;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return families.get(base) !== 'histogram';
    });
    expect(missing).toEqual([]);
    // The list: each of these is on the dashboard.
    for (const name of [
      'exsync_sync_runs_total',
      'exsync_sync_items_total',
      'exsync_transport_requests_total',
      'exsync_throttle_waits_total',
      'exsync_sync_run_duration_seconds_bucket',
      'exsync_due_mailboxes',
      'exsync_sync_queue_jobs',
    ]) {
      expect(queried).toContain(name);
    }
  });
});
