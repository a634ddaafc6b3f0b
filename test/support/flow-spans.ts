// Flow limits checked after the fact (DESIGN §17) from the runs' own started_at / completed_at:
// how many ran at once at each start, and how many started in a window opening at each start.

export interface Span {
  /** The tenant key a per-tenant limit goes by. */
  key: string;
  startedAt: Date;
  completedAt: Date;
}

export interface Overlap {
  /** The most spans of one key running at any instant. */
  perKey: number;
  /** The most spans of all keys running at any instant. */
  total: number;
  /** Starts at which more than `max` of that key were running (itself included). */
  perKeyOver(max: number): number;
  totalOver(max: number): number;
}

/** Running at each start, per key and across keys; a run ending at an instant is not running then. */
export function overlap(spans: readonly Span[]): Overlap {
  const events = spans.flatMap((s) => [
    { at: s.startedAt.getTime(), key: s.key, delta: 1 },
    { at: s.completedAt.getTime(), key: s.key, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta); // ends before starts at one instant
  const running = new Map<string, number>();
  let total = 0;
  const atStarts: Array<{ key: number; total: number }> = [];
  for (const e of events) {
    const n = (running.get(e.key) ?? 0) + e.delta;
    running.set(e.key, n);
    total += e.delta;
    if (e.delta === 1) atStarts.push({ key: n, total });
  }
  return {
    perKey: Math.max(0, ...atStarts.map((s) => s.key)),
    total: Math.max(0, ...atStarts.map((s) => s.total)),
    perKeyOver: (max) => atStarts.filter((s) => s.key > max).length,
    totalOver: (max) => atStarts.filter((s) => s.total > max).length,
  };
}

export interface Windows {
  /** The most starts of one key in any window of the length (half-open: [t, t + length)). */
  max: number;
  /** Windows opening at a start that hold more than `limit` starts of its key. */
  over(limit: number): number;
}

/** Starts per key in the window opening at each start (any window's count is one of these). */
export function startsInWindows(spans: readonly Span[], seconds: number): Windows {
  const byKey = new Map<string, number[]>();
  for (const s of spans) {
    const starts = byKey.get(s.key) ?? [];
    starts.push(s.startedAt.getTime());
    byKey.set(s.key, starts);
  }
  const counts: number[] = [];
  for (const starts of byKey.values()) {
    starts.sort((a, b) => a - b);
    let end = 0;
    for (let i = 0; i < starts.length; i++) {
      const first = starts[i] as number;
      while (end < starts.length && (starts[end] as number) < first + seconds * 1000) end++;
      counts.push(end - i);
    }
  }
  return {
    max: Math.max(0, ...counts),
    over: (limit) => counts.filter((n) => n > limit).length,
  };
}
