import type { ClassificationData } from './classification';
import type { RegressionData } from './regression';

/** The segment of rows whose segment value is missing. */
export const MISSING_SEGMENT = '(missing)';

/** Row indices per segment value, in ascending order of the value. */
export function groupRowsBySegment(segmentOf: ReadonlyArray<string | null>): Map<string, Int32Array> {
  const lists = new Map<string, number[]>();
  for (let i = 0; i < segmentOf.length; i++) {
    const key = segmentOf[i] ?? MISSING_SEGMENT;
    let list = lists.get(key);
    if (!list) lists.set(key, (list = []));
    list.push(i);
  }
  const keys = [...lists.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(keys.map((key) => [key, Int32Array.from(lists.get(key)!)]));
}

export function subsetRegression(data: RegressionData, rows: Int32Array): RegressionData {
  const actual = new Float64Array(rows.length);
  const predicted = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    actual[i] = data.actual[rows[i]!]!;
    predicted[i] = data.predicted[rows[i]!]!;
  }
  return { actual, predicted };
}

export function subsetClassification(data: ClassificationData, rows: Int32Array): ClassificationData {
  const k = data.classCount;
  const actual = new Int32Array(rows.length);
  const probabilities = new Float64Array(rows.length * k);
  const predicted = data.predicted ? new Int32Array(rows.length) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    actual[i] = data.actual[r]!;
    probabilities.set(data.probabilities.subarray(r * k, (r + 1) * k), i * k);
    if (predicted) predicted[i] = data.predicted![r]!;
  }
  return { actual, probabilities, classCount: k, ...(predicted ? { predicted } : {}) };
}
