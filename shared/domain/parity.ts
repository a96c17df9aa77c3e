import { z } from 'zod';

import type { Feature } from '../schemas/model';
import type { FittedTransforms, InputKind } from '../schemas/transforms';
import { DomainError, errors } from './errors';
import type { RowBatch } from './tabular';
import { applyTransforms } from './transforms/apply';

/**
 * Parity between the training pipeline and this backend: a model version carries golden records
 * (input rows with the feature vector and model output the training pipeline produced for them).
 * Registration and model load re-compute both and compare.
 *
 * Tolerance: |actual - expected| <= max(1e-6 * |expected|, 1e-7). The relative part is the
 * contract; the absolute floor keeps values near 0 (where a relative bound shrinks to nothing)
 * from failing on float32 rounding: 1e-7 is about one float32 step at 1.0. Below |expected| = 0.1
 * the floor governs.
 */
export const PARITY_TOLERANCE = { relative: 1e-6, absolute: 1e-7 } as const;
export type ParityTolerance = { readonly relative: number; readonly absolute: number };

/** A cell of a golden input row: JSON as a data scientist writes it. Datetimes as ISO 8601 or epoch ms. */
export const goldenCellSchema = z.union([z.number(), z.string(), z.boolean(), z.null()]);

/** What the model is expected to output for a record. */
export const expectedModelOutputSchema = z.object({
  /** Regression value, or the predicted class label (string, or number for numeric labels). */
  prediction: z.union([z.number(), z.string()]),
  /** Classifiers: one probability per class, in the order of the model's classLabels. */
  probabilities: z.array(z.number()).optional(),
});
export type ExpectedModelOutput = z.infer<typeof expectedModelOutputSchema>;

/** One golden record: what it expects of the transforms, of the model, or of both. */
export const goldenRecordSchema = z
  .object({
    /** The raw input row, keyed by column name; a missing key means a missing value. */
    input: z.record(z.string(), goldenCellSchema),
    /** The transformed feature vector, in the spec's `output` order (versions with fitted transforms). */
    expectedFeatures: z.array(z.number()).min(1).optional(),
    expectedOutput: expectedModelOutputSchema.optional(),
  })
  .refine((g) => g.expectedFeatures !== undefined || g.expectedOutput !== undefined, {
    message: 'a golden record needs expectedFeatures, expectedOutput or both',
  });
export type GoldenRecord = z.infer<typeof goldenRecordSchema>;

/** The golden records of a model version (a JSON array). */
export const goldenRecordsSchema = z.array(goldenRecordSchema).min(1);

export interface ParityMismatch {
  /** 0-based index of the golden record. */
  readonly record: number;
  /** Index in the feature vector (or probability vector); null when the whole record failed. */
  readonly index: number | null;
  /** Feature name (or `prediction`, `probability[i]`); null when the whole record failed. */
  readonly feature: string | null;
  readonly expected: number | string | null;
  readonly actual: number | string | null;
  readonly message: string;
}

export interface ParityResult {
  readonly ok: boolean;
  readonly mismatches: ParityMismatch[];
}

/** Whether `actual` is within tolerance of `expected` (both finite, or both the same non-finite). */
export function withinTolerance(
  expected: number,
  actual: number,
  tolerance: ParityTolerance = PARITY_TOLERANCE,
): boolean {
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return Object.is(expected, actual);
  return Math.abs(actual - expected) <= Math.max(tolerance.relative * Math.abs(expected), tolerance.absolute);
}

/**
 * Applies fitted transforms to the golden inputs and compares with the expected vectors (records
 * without `expectedFeatures` are only checked to pass the transforms). Input cells are converted
 * by the kind of each fitted input (numeric: numbers, booleans, ISO datetimes; categorical: strings).
 */
export function checkTransformParity(
  fitted: FittedTransforms,
  golden: readonly GoldenRecord[],
  tolerance: ParityTolerance = PARITY_TOLERANCE,
): ParityResult {
  const batch = rowsToBatchByKind(
    fitted.inputs,
    golden.map((g) => g.input),
  );
  const { matrix, keptRows, rejected } = applyTransforms(fitted, batch);
  const mismatches: ParityMismatch[] = rejected.map(({ row, reason }) => ({
    record: row,
    index: null,
    feature: null,
    expected: null,
    actual: null,
    message: `golden record ${row} was rejected by the transforms: ${reason}`,
  }));
  keptRows.forEach((record, k) => {
    const expected = golden[record]!.expectedFeatures;
    if (!expected) return;
    if (expected.length !== matrix.width) {
      mismatches.push({
        record,
        index: null,
        feature: null,
        expected: expected.length,
        actual: matrix.width,
        message: `golden record ${record} has ${expected.length} expected features, the transforms produce ${matrix.width}`,
      });
      return;
    }
    for (let j = 0; j < matrix.width; j += 1) {
      const actual = matrix.values[k * matrix.width + j]!;
      const want = expected[j]!;
      if (!withinTolerance(want, actual, tolerance)) {
        const feature = matrix.names[j]!;
        mismatches.push({
          record,
          index: j,
          feature,
          expected: want,
          actual,
          message: `golden record ${record}, feature '${feature}' (index ${j}): expected ${want}, transforms give ${actual}`,
        });
      }
    }
  });
  mismatches.sort((a, b) => a.record - b.record || (a.index ?? -1) - (b.index ?? -1));
  return { ok: mismatches.length === 0, mismatches };
}

/**
 * Compares the model outputs the runtime produced for the golden records (same order) with the
 * expected ones. Records without `expectedOutput` are skipped.
 */
export function compareModelOutputs(
  expected: ReadonlyArray<ExpectedModelOutput | undefined>,
  actual: ReadonlyArray<ExpectedModelOutput>,
  tolerance: ParityTolerance = PARITY_TOLERANCE,
): ParityResult {
  const mismatches: ParityMismatch[] = [];
  if (expected.length !== actual.length) {
    mismatches.push({
      record: Math.min(expected.length, actual.length),
      index: null,
      feature: null,
      expected: expected.length,
      actual: actual.length,
      message: `expected outputs for ${expected.length} golden records, the model produced ${actual.length}`,
    });
  }
  const n = Math.min(expected.length, actual.length);
  for (let record = 0; record < n; record += 1) {
    const want = expected[record];
    const got = actual[record]!;
    if (!want) continue;
    const samePrediction =
      typeof want.prediction === 'number' && typeof got.prediction === 'number'
        ? withinTolerance(want.prediction, got.prediction, tolerance)
        : String(want.prediction) === String(got.prediction);
    if (!samePrediction)
      mismatches.push({
        record,
        index: null,
        feature: 'prediction',
        expected: want.prediction,
        actual: got.prediction,
        message: `golden record ${record}: expected prediction ${want.prediction}, the model gives ${got.prediction}`,
      });
    if (want.probabilities) {
      const probs = got.probabilities ?? [];
      if (probs.length !== want.probabilities.length) {
        mismatches.push({
          record,
          index: null,
          feature: 'probabilities',
          expected: want.probabilities.length,
          actual: probs.length,
          message: `golden record ${record}: expected ${want.probabilities.length} class probabilities, the model gives ${probs.length}`,
        });
        continue;
      }
      want.probabilities.forEach((p, i) => {
        const q = probs[i]!;
        if (!withinTolerance(p, q, tolerance))
          mismatches.push({
            record,
            index: i,
            feature: `probability[${i}]`,
            expected: p,
            actual: q,
            message: `golden record ${record}, probability of class ${i}: expected ${p}, the model gives ${q}`,
          });
      });
    }
  }
  return { ok: mismatches.length === 0, mismatches };
}

/**
 * Throws DomainError PARITY_MISMATCH when a parity check failed. The message names the first
 * mismatch (record and feature) and how many there are; details carry them all (up to 100).
 */
export function assertParity(result: ParityResult, what: 'transforms' | 'model outputs'): void {
  if (result.ok) return;
  const first = result.mismatches[0]!;
  const more = result.mismatches.length > 1 ? ` (and ${result.mismatches.length - 1} more mismatches)` : '';
  throw errors.parityMismatch(`${what} parity failed: ${first.message}${more}`, {
    mismatches: result.mismatches.slice(0, 100),
  });
}

type GoldenCell = z.infer<typeof goldenCellSchema>;
type CellType = 'numeric' | 'boolean' | 'datetime' | 'categorical' | 'any-numeric';

/**
 * Builds a RowBatch from plain row objects (golden records, tests) by the model's feature schema.
 * Numeric: numbers; boolean: true/false (or 0/1); datetime: ISO 8601 strings or epoch ms;
 * categorical: strings. null or an absent key is a missing value. Anything else is a
 * VALIDATION_ERROR naming the row and column. Columns outside `features` are ignored.
 * Production files go through the scoring pipeline's row validation instead.
 */
export function rowsToBatch(
  features: readonly Feature[],
  rows: ReadonlyArray<Record<string, unknown>>,
): RowBatch {
  return buildBatch(
    features.map((f) => ({ name: f.name, type: f.type })),
    rows,
  );
}

/** Like rowsToBatch, by the fitted transforms' input kinds (numeric accepts numbers, booleans, ISO datetimes). */
export function rowsToBatchByKind(
  inputs: ReadonlyArray<{ name: string; kind: InputKind }>,
  rows: ReadonlyArray<Record<string, unknown>>,
): RowBatch {
  return buildBatch(
    inputs.map((i) => ({ name: i.name, type: i.kind === 'numeric' ? 'any-numeric' : 'categorical' })),
    rows,
  );
}

function buildBatch(
  columns: ReadonlyArray<{ name: string; type: CellType }>,
  rows: ReadonlyArray<Record<string, unknown>>,
): RowBatch {
  // No prototype: a column named `__proto__` stays a column.
  const numeric = Object.create(null) as Record<string, Float64Array>;
  const categorical = Object.create(null) as Record<string, (string | null)[]>;
  for (const { name, type } of columns) {
    const cells = rows.map((row) => (Object.prototype.hasOwnProperty.call(row, name) ? row[name] : null));
    if (type === 'categorical') {
      categorical[name] = cells.map((cell, r) => {
        if (cell === null || cell === undefined) return null;
        if (typeof cell !== 'string') throw badCell(r, name, cell, 'a string');
        return cell;
      });
    } else {
      numeric[name] = Float64Array.from(cells, (cell, r) =>
        toNumber(cell as GoldenCell | undefined, type, r, name),
      );
    }
  }
  return { rowCount: rows.length, numeric, categorical };
}

function toNumber(cell: GoldenCell | undefined, type: CellType, row: number, column: string): number {
  if (cell === null || cell === undefined) return NaN;
  const accepts = (t: CellType): boolean => type === t || type === 'any-numeric';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) throw badCell(row, column, cell, 'a finite number');
    if (type === 'boolean' && cell !== 0 && cell !== 1)
      throw badCell(row, column, cell, 'true, false, 0 or 1');
    return cell;
  }
  if (typeof cell === 'boolean' && accepts('boolean')) return cell ? 1 : 0;
  if (typeof cell === 'string' && accepts('datetime')) {
    const match = ISO_DATETIME.exec(cell);
    // Date.parse reads a date-time without offset as local time: read it as UTC instead.
    const ms = !match
      ? NaN
      : Date.parse(match[1] !== undefined && match[4] === undefined ? `${cell}Z` : cell);
    if (Number.isNaN(ms)) throw badCell(row, column, cell, 'an ISO 8601 datetime');
    return ms;
  }
  throw badCell(
    row,
    column,
    cell,
    type === 'numeric' ? 'a number' : type === 'datetime' ? 'an ISO 8601 datetime' : `a ${type} value`,
  );
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const badCell = (row: number, column: string, cell: unknown, wanted: string): DomainError =>
  errors.validation(
    `row ${row}, column '${column}': ${JSON.stringify(cell)} is not ${wanted}`,
    {
      row,
      column,
    },
  );
