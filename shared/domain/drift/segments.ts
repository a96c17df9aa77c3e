/** Splitting batches by segment keys so drift is evaluated per segment as well as overall. */
import type { DriftPolicy } from '../../schemas/policies';
import { errors } from '../errors';
import type { RowBatch } from '../tabular';
import { compareBatches, type DriftReport } from './report';

/** How a profile's segment id names a missing value (`region=∅`); metrics name it `(missing)` (MISSING_SEGMENT). */
export const MISSING_PROFILE_VALUE = '∅';

/** Rows grouped by the values of `keys` (categorical columns), keyed "a=x,b=y"; nulls as "∅". */
export function splitBySegment(batch: RowBatch, keys: readonly string[]): Map<string, RowBatch> {
  const keyColumns = keys.map((k) => {
    const column = batch.categorical[k];
    if (!column) throw errors.validation(`segment key '${k}' is not a categorical column`, { column: k });
    return column;
  });
  // One pass assigns each row its segment; then each column is copied per segment into arrays
  // of the exact size (no growing lists, no per-row closures: a drop has millions of rows).
  const ids: string[] = [];
  const indexOf = new Map<string, number>();
  const segmentOf = new Int32Array(batch.rowCount);
  const counts: number[] = [];
  for (let row = 0; row < batch.rowCount; row++) {
    const id = keyColumns.length === 1 ? `${keys[0]}=${keyColumns[0]![row] ?? MISSING_PROFILE_VALUE}` : keys.map((k, i) => `${k}=${keyColumns[i]![row] ?? MISSING_PROFILE_VALUE}`).join(',');
    let s = indexOf.get(id);
    if (s === undefined) {
      s = ids.length;
      indexOf.set(id, s);
      ids.push(id);
      counts.push(0);
    }
    segmentOf[row] = s;
    counts[s]! += 1;
  }
  const numeric: Record<string, Float64Array>[] = ids.map(() => ({}));
  const categorical: Record<string, Array<string | null>>[] = ids.map(() => ({}));
  const fill = new Int32Array(ids.length);
  for (const [name, values] of Object.entries(batch.numeric)) {
    const outs = counts.map((c) => new Float64Array(c));
    fill.fill(0);
    for (let row = 0; row < batch.rowCount; row++) {
      const s = segmentOf[row]!;
      outs[s]![fill[s]!++] = values[row]!;
    }
    outs.forEach((out, s) => (numeric[s]![name] = out));
  }
  for (const [name, values] of Object.entries(batch.categorical)) {
    if (keys.includes(name)) continue;
    const outs = counts.map((c) => new Array<string | null>(c));
    fill.fill(0);
    for (let row = 0; row < batch.rowCount; row++) {
      const s = segmentOf[row]!;
      outs[s]![fill[s]!++] = values[row] ?? null;
    }
    outs.forEach((out, s) => (categorical[s]![name] = out));
  }
  const out = new Map<string, RowBatch>();
  for (const s of ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1))) {
    out.set(ids[s]!, { rowCount: counts[s]!, numeric: numeric[s]!, categorical: categorical[s]! });
  }
  return out;
}

/**
 * Drift per segment: each segment of the current window against the same segment of the
 * reference. A segment missing from the reference is reported with an empty reference, so its
 * columns come out as insufficient_data rather than silently disappearing.
 */
export function compareSegments(
  reference: RowBatch,
  current: RowBatch,
  keys: readonly string[],
  policy: DriftPolicy,
): Record<string, DriftReport> {
  const refSegments = splitBySegment(reference, keys);
  const out: Record<string, DriftReport> = {};
  for (const [id, cur] of splitBySegment(current, keys)) {
    const ref = refSegments.get(id) ?? emptyLike(cur);
    out[id] = compareBatches(ref, cur, policy);
  }
  return out;
}

function emptyLike(batch: RowBatch): RowBatch {
  return {
    rowCount: 0,
    numeric: Object.fromEntries(Object.keys(batch.numeric).map((k) => [k, new Float64Array(0)])),
    categorical: Object.fromEntries(Object.keys(batch.categorical).map((k) => [k, []])),
  };
}
