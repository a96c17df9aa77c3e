import { type FittedTransforms } from '../../schemas/transforms';
import { errors } from '../errors';
import type { FeatureMatrix, RowBatch } from '../tabular';
import { applyPlan } from './apply-plan';
import { batchColumn, ColumnPool, Frame } from './frame';
import { stepLabel } from './step-modules';

/** Why one row of the batch got no feature vector. `row` is the 0-based row index in the batch. */
export interface RejectedRow {
  readonly row: number;
  readonly reason: string;
}

export interface TransformResult {
  /** One row per kept input row, in batch order, columns in `fitted.output` order. */
  readonly matrix: FeatureMatrix;
  /** The batch row index of each matrix row (to align ids, timestamps, segment keys). */
  readonly keptRows: Int32Array;
  /** Every other batch row, in order, with the first reason it could not be transformed. */
  readonly rejected: RejectedRow[];
}

/** Rows are transformed in blocks so intermediate columns stay small whatever the batch size. */
const BLOCK_ROWS = 4_096;
/** Floats per tile when writing the matrix (16 KB): a tile stays in L1 cache. */
const TILE_VALUES = 4_096;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Applies fitted transforms to a batch. Training-only steps are skipped. Every row either gets a
 * feature vector in `matrix` or an entry in `rejected` with the reason: an unseen category under
 * the `error` policy, a missing value no imputer covered, a non-finite log1p or derived value,
 * a value out of float32 range.
 *
 * Throws DomainError VALIDATION_ERROR when the batch lacks an input column or has it with the
 * wrong kind: that is a problem of the whole batch, not of a row.
 */
export function applyTransforms(fitted: FittedTransforms, batch: RowBatch): TransformResult {
  for (const input of fitted.inputs) {
    const numeric = batchColumn(batch.numeric, input.name);
    const categorical = batchColumn(batch.categorical, input.name);
    const present = input.kind === 'numeric' ? numeric : categorical;
    if (!present) {
      const other = input.kind === 'numeric' ? categorical : numeric;
      throw errors.validation(
        other
          ? `input column '${input.name}' must be ${input.kind}, the batch has it as ${input.kind === 'numeric' ? 'categorical' : 'numeric'}`
          : `input column '${input.name}' is missing from the batch`,
        { column: input.name },
      );
    }
  }

  const width = fitted.output.length;
  const total = batch.rowCount;
  const values = new Float32Array(total * width);
  const keptRows = new Int32Array(total);
  const rejected: RejectedRow[] = [];
  let kept = 0;
  const pool = new ColumnPool();
  const plan = applyPlan(fitted);
  const codes = plan.steps.map((s) => (s.ones ? new Int32Array(Math.min(BLOCK_ROWS, total)) : undefined));
  const labels = plan.steps.map(({ step, index }) => stepLabel(index, step.type));
  const direct = plan.steps.flatMap((s, k) => (s.ones ? [{ codes: codes[k]!, positions: s.ones }] : []));

  for (let start = 0; start < total; start += BLOCK_ROWS) {
    const end = Math.min(start + BLOCK_ROWS, total);
    const rows = end - start;
    const frame = new Frame(rows, pool);
    for (const input of fitted.inputs) {
      if (input.kind === 'numeric')
        frame.borrow(input.name, {
          kind: 'numeric',
          values: batch.numeric[input.name]!.subarray(start, end),
        });
      else
        frame.borrow(input.name, {
          kind: 'categorical',
          values: batch.categorical[input.name]!.slice(start, end),
        });
    }

    const reasons = new Map<number, string>();
    const reject = (row: number, reason: string): void => {
      if (!reasons.has(row)) reasons.set(row, reason);
    };
    plan.steps.forEach(({ step, module }, s) => {
      const stepCodes = codes[s];
      if (stepCodes) module.indicatorCodes!(step, frame, rows, reject, labels[s]!, stepCodes);
      else module.apply!(step, frame, reject, labels[s]!);
    });

    const base = kept * width;
    writeBlock(
      values,
      base,
      width,
      rows,
      plan.fromFrame.map((j) => frame.numeric(fitted.output[j]!, 'output')),
      plan.fromFrame,
      direct,
      (i, j, v) => {
        if (!reasons.has(i))
          reasons.set(i, undefinedFeatureReason(fitted, batch, start + i, fitted.output[j]!, v));
      },
    );
    if (reasons.size === 0) {
      for (let i = 0; i < rows; i += 1) keptRows[kept++] = start + i;
    } else {
      let to = base;
      for (let i = 0; i < rows; i += 1) {
        const reason = reasons.get(i);
        if (reason !== undefined) {
          rejected.push({ row: start + i, reason });
          continue;
        }
        const from = base + i * width;
        if (from !== to) values.copyWithin(to, from, from + width);
        to += width;
        keptRows[kept++] = start + i;
      }
      // The next block writes only the ones of its one-hot outputs: the room freed by the
      // squeezed-out rows must be zero again.
      values.fill(0, to, base + rows * width);
    }
    frame.release();
  }

  return {
    matrix: {
      rows: kept,
      width,
      values: kept === total ? values : values.slice(0, kept * width),
      names: [...fitted.output],
    },
    keptRows: kept === total ? keptRows : keptRows.slice(0, kept),
    rejected,
  };
}

/** The codes a direct one-hot step wrote for a block, and the matrix column of each output. */
interface OneHotBlock {
  readonly codes: Int32Array;
  readonly positions: Int32Array;
}

/**
 * Writes the block's rows into `values` from `base`, `width` values a row: matrix column
 * `positions[c]` from `columns[c]`, and the ones of the direct one-hot steps. Calls `outOfRange`
 * for each value outside the float32 range, in column order for each row.
 */
function writeBlock(
  values: Float32Array,
  base: number,
  width: number,
  rows: number,
  columns: readonly Float64Array[],
  positions: readonly number[],
  oneHots: readonly OneHotBlock[],
  outOfRange: (row: number, column: number, value: number) => void,
): void {
  // Column by column within tiles of rows: each pass reads one column sequentially and
  // writes with a stride into the tile's part of the matrix, which stays in L1 cache from one
  // column to the next. Every row is written; rejected ones are squeezed out afterwards.
  const tileRows = Math.max(64, Math.floor(TILE_VALUES / width));
  for (let tile = 0; tile < rows; tile += tileRows) {
    const tileEnd = Math.min(tile + tileRows, rows);
    // Two columns per pass: half the loop overhead, one range test for both values.
    let c = 0;
    for (; c + 2 <= columns.length; c += 2) {
      const first = columns[c]!;
      const second = columns[c + 1]!;
      const j = positions[c]!;
      const k = positions[c + 1]!;
      for (let i = tile, o = base + tile * width; i < tileEnd; i += 1, o += width) {
        const v = first[i]!;
        const w = second[i]!;
        values[o + j] = v;
        values[o + k] = w;
        if (!(v >= -FLOAT32_MAX && v <= FLOAT32_MAX && w >= -FLOAT32_MAX && w <= FLOAT32_MAX)) {
          if (!(v >= -FLOAT32_MAX && v <= FLOAT32_MAX)) outOfRange(i, j, v);
          if (!(w >= -FLOAT32_MAX && w <= FLOAT32_MAX)) outOfRange(i, k, w);
        }
      }
    }
    if (c < columns.length) {
      const column = columns[c]!;
      const j = positions[c]!;
      for (let i = tile, o = base + tile * width + j; i < tileEnd; i += 1, o += width) {
        const v = column[i]!;
        values[o] = v;
        if (!(v >= -FLOAT32_MAX && v <= FLOAT32_MAX)) outOfRange(i, j, v);
      }
    }
    // The matrix is zero-filled: a one-hot step needs one store per row, not one per category.
    for (const { codes, positions: at } of oneHots) {
      for (let i = tile, o = base + tile * width; i < tileEnd; i += 1, o += width) {
        const k = codes[i]!;
        if (k < 0) continue;
        const j = at[k]!;
        if (j >= 0) values[o + j] = 1;
      }
    }
  }
}

function undefinedFeatureReason(
  fitted: FittedTransforms,
  batch: RowBatch,
  row: number,
  feature: string,
  value: number,
): string {
  const missing = fitted.inputs
    .filter((input) =>
      input.kind === 'numeric'
        ? Number.isNaN(batch.numeric[input.name]![row])
        : batch.categorical[input.name]![row] === null,
    )
    .map((input) => `'${input.name}'`);
  if (missing.length > 0)
    return `missing value in ${missing.join(', ')} and no imputer covers it: feature '${feature}' is undefined`;
  return Number.isNaN(value) || !Number.isFinite(value)
    ? `feature '${feature}' is not a finite number (${value})`
    : `feature '${feature}' = ${value} is outside the float32 range`;
}
