/** Splitting batches by segment keys so drift is evaluated per segment as well as overall. */
import type { DriftPolicy } from '../../schemas/policies';
import { errors } from '../errors';
import type { RowBatch } from '../tabular';
import { compareBatches, type DriftReport } from './report';

/** Rows grouped by the values of `keys` (categorical columns), keyed "a=x,b=y"; nulls as "∅". */
export function splitBySegment(batch: RowBatch, keys: readonly string[]): Map<string, RowBatch> {
  const keyColumns = keys.map((k) => {
    const column = batch.categorical[k];
    if (!column) throw errors.validation(`segment key '${k}' is not a categorical column`, { column: k });
    return column;
  });
  const rowsBySegment = new Map<string, number[]>();
  for (let row = 0; row < batch.rowCount; row++) {
    const id = keys.map((k, i) => `${k}=${keyColumns[i]![row] ?? '∅'}`).join(',');
    const rows = rowsBySegment.get(id);
    if (rows) rows.push(row);
    else rowsBySegment.set(id, [row]);
  }
  const out = new Map<string, RowBatch>();
  for (const [id, rows] of [...rowsBySegment.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const numeric: Record<string, Float64Array> = {};
    const categorical: Record<string, Array<string | null>> = {};
    for (const [name, values] of Object.entries(batch.numeric)) numeric[name] = Float64Array.from(rows, (r) => values[r]!);
    for (const [name, values] of Object.entries(batch.categorical)) {
      if (!keys.includes(name)) categorical[name] = rows.map((r) => values[r] ?? null);
    }
    out.set(id, { rowCount: rows.length, numeric, categorical });
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
