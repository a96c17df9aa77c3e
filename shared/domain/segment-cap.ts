/**
 * The bound on values per segment key. Every named segment costs a profile in every window
 * profile, a drift report and a metric report in every window document (one Cosmos item, at most
 * 2 MB) and a bootstrap per validation split: a key with one value per row (an id declared as a
 * segment key by mistake, garbage in a region column) would make all of them grow with the rows.
 * The most frequent values keep their segment; the rest are counted together under one reserved
 * value, and the report says so.
 */

/** The segment value that stands for every value beyond a key's cap (`region=__other__`). */
export const OTHER_SEGMENT_VALUE = '__other__';

/**
 * Values a segment key keeps by default (setting SEGMENT_MAX_VALUES). A segment costs 0.4 to 3 KB
 * of JSON per monitored column in a window profile, 0.5 to 1 KB in a metric report and about 300 B
 * per column in a drift report: a hundred keep a window document within 2 MB for a model of a few
 * dozen features, and are already more segments than a person reads per window.
 */
export const DEFAULT_SEGMENT_MAX_VALUES = 100;

/** What a capped segment key folded: the values it saw, and those (and their rows) counted as `__other__`. */
export interface SegmentCapSummary {
  /** Values kept by name at most (the setting). */
  limit: number;
  /** Distinct values seen (missing values are not a value). */
  distinctValues: number;
  /** Values folded into `__other__`. */
  foldedValues: number;
  /** Rows of those values. */
  foldedRows: number;
}

const byCountThenValue = (a: [string, number], b: [string, number]): number => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * The values that keep their own segment when more than `limit` were seen: those `preferred` (a
 * reference's known values) first, then the most frequent, ties by value; undefined when all fit.
 */
export function keptSegmentValues(counts: ReadonlyMap<string, number>, limit: number, preferred: (value: string) => boolean = () => false): Set<string> | undefined {
  if (counts.size <= limit) return undefined;
  const ranked = [...counts.entries()].sort((a, b) => Number(preferred(b[0])) - Number(preferred(a[0])) || byCountThenValue(a, b));
  return new Set(ranked.slice(0, limit).map(([value]) => value));
}

/**
 * Rows per value of a segment column (missing values left out). A value written `__other__` in the
 * data is left out too: its rows are the `key=__other__` segment either way, so it takes no named
 * place under the cap, as merging capped profiles (withinSegmentCap) already has it.
 */
export function segmentValueCounts(values: ReadonlyArray<string | null>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) if (value !== null && value !== undefined && value !== OTHER_SEGMENT_VALUE) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/**
 * A segment column with the values beyond `limit` replaced by `__other__`, and what was folded;
 * the column itself (and no summary) when its values fit.
 */
export function capSegmentColumn(
  values: ReadonlyArray<string | null>,
  limit: number,
  preferred?: (value: string) => boolean,
): { values: ReadonlyArray<string | null>; capped?: SegmentCapSummary } {
  const counts = segmentValueCounts(values);
  const kept = keptSegmentValues(counts, limit, preferred);
  if (!kept) return { values };
  let foldedRows = 0;
  const out = values.map((value) => {
    if (value === null || value === undefined || value === OTHER_SEGMENT_VALUE || kept.has(value)) return value ?? null;
    foldedRows += 1;
    return OTHER_SEGMENT_VALUE;
  });
  return { values: out, capped: { limit, distinctValues: counts.size, foldedValues: counts.size - kept.size, foldedRows } };
}
