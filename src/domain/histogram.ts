/**
 * The rollups' histograms (DESIGN §18; migration 0024 bins them in SQL): 48 bins of seconds, bin 1
 * holding ≤ 0.01 s and bin k the range (0.01·1.5^(k-2), 0.01·1.5^(k-1)], the last one everything
 * longer too. Index i of an array is bin i + 1.
 */
export const HISTOGRAM_BINS = 48;
const FIRST = 0.01;
const RATIO = 1.5;

/** The upper bound (seconds) of the bin at index `i`. */
export function binUpper(i: number): number {
  return FIRST * RATIO ** i;
}

/** The bin index of `seconds` (as the SQL `runwarden_bin` gives, less one). */
export function binOf(seconds: number): number {
  if (seconds <= FIRST) return 0;
  return Math.min(HISTOGRAM_BINS - 1, Math.ceil(Math.log(seconds / FIRST) / Math.log(RATIO)));
}

/** Element-wise sum of histograms (missing ones count as empty). */
export function mergeHistograms(histograms: ReadonlyArray<readonly number[]>): number[] {
  const total = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const h of histograms)
    for (let i = 0; i < HISTOGRAM_BINS; i++) total[i] = (total[i] ?? 0) + (h[i] ?? 0);
  return total;
}

/**
 * The `p`-th percentile (0–100) in seconds, within its bin by geometric interpolation (the bins
 * grow geometrically); null when the histogram is empty. Exact to within one bin (a factor 1.5).
 */
export function percentileOf(histogram: readonly number[], p: number): number | null {
  const n = histogram.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  let below = 0;
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i] ?? 0;
    if (below + count >= rank) {
      const upper = binUpper(i);
      if (i === 0) return upper;
      const lower = binUpper(i - 1);
      const within = (rank - below) / count;
      return lower * (upper / lower) ** within;
    }
    below += count;
  }
  return binUpper(histogram.length - 1);
}
