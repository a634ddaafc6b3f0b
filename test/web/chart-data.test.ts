import { describe, expect, it } from 'vitest';
import { binOf, binUpper, mergeHistograms, percentileOf } from '../../src/domain/histogram.js';
import { chartRows, chartSummary, formatSeconds } from '../../src/web/components/chart-data.js';

// Charts (DESIGN §18): the rollups' histograms read as percentiles, a chart as rows and a
// sentence, and a bar as the list's query.

const bar = (at: string, finished: Partial<Record<string, number>>) => ({
  at,
  finished: {
    succeeded: 0,
    partially_succeeded: 0,
    failed: 0,
    blocked: 0,
    cancelled: 0,
    reconciled: 0,
    ...finished,
  },
  failureRate: null,
  waitP50: null,
  waitP95: null,
  durationP50: 1.5,
  durationP95: null,
});

describe('histograms', () => {
  it('bin seconds as SQL does and read percentiles within a bin', () => {
    expect(binOf(0.005)).toBe(0);
    expect(binOf(0.015)).toBe(1);
    expect(binOf(0.0151)).toBe(2);
    expect(binOf(10 ** 9)).toBe(47);
    const h = mergeHistograms([]);
    expect(percentileOf(h, 95)).toBeNull();
    // 100 runs of ~2 s and 5 of ~100 s: p50 near 2 s, p95 still near 2 s, p99 near 100 s.
    h[binOf(2)] = 100;
    h[binOf(100)] = 5;
    const p50 = percentileOf(h, 50) as number;
    expect(p50).toBeGreaterThan(binUpper(binOf(2) - 1));
    expect(p50).toBeLessThanOrEqual(binUpper(binOf(2)));
    expect(percentileOf(h, 99)).toBeGreaterThan(binUpper(binOf(100) - 1));
    expect(mergeHistograms([h, h])[binOf(2)]).toBe(200);
  });
});

describe('chart rows', () => {
  it('give each bar its window and the whole chart one sentence', () => {
    const chart = {
      range: '1h' as const,
      step: 1,
      from: '2026-12-07T10:00:00.000Z',
      to: '2026-12-07T10:02:00.000Z',
      buckets: [
        bar('2026-12-07T10:00:00.000Z', { succeeded: 2, reconciled: 1 }),
        bar('2026-12-07T10:01:00.000Z', { failed: 1 }),
      ],
    };
    const rows = chartRows(chart, 'en-GB');
    expect(rows[1]).toMatchObject({
      at: chart.buckets[1]?.at,
      end: '2026-12-07T10:02:00.000Z',
      failed: 1,
    });
    expect(chartSummary(chart)).toBe('4 runs ended; 2 failed, blocked or reconciled (50 %).');
    expect(chartSummary({ ...chart, buckets: [bar(chart.from, { cancelled: 1 })] })).toBe(
      '1 run ended; 0 failed, blocked or reconciled (0 %).',
    );
    expect(chartSummary({ ...chart, buckets: [] })).toBe('No runs ended in this range.');
    expect([0.35, 4.21, 42, 180, 5400, null].map(formatSeconds)).toEqual([
      '350 ms',
      '4.2 s',
      '42 s',
      '3 min',
      '1.5 h',
      '—',
    ]);
  });
});
