import type { Feature } from '../schemas/model';
import type { ModelSignature, TensorSpec } from '../schemas/signature';
import type { FittedTransforms } from '../schemas/transforms';
import { errors } from './errors';
import { oneValuePerRow } from './signature-roles';
import type { RowBatch } from './tabular';
import { applyTransforms, type RejectedRow } from './transforms/apply';

/**
 * What the model is fed: one tensor per graph input, `rows` rows each. A graph either takes the
 * fitted transforms' feature matrix (one float input `[batch, width]`), or one input per raw
 * column (`[batch]` or `[batch, 1]`, named after the column, as skl2onnx writes a Pipeline
 * converted from a DataFrame), or both.
 */
export interface ModelInputs {
  readonly rows: number;
  readonly tensors: readonly InputTensor[];
}

/** One graph input's values for every row, row-major; `rowShape` is the tensor's shape after the batch dimension. */
export type InputTensor = {
  readonly name: string;
  readonly rowShape: readonly number[];
} & (
  | { readonly type: 'float32'; readonly values: Float32Array }
  | { readonly type: 'float64'; readonly values: Float64Array }
  | { readonly type: 'int64'; readonly values: BigInt64Array }
  | { readonly type: 'int32'; readonly values: Int32Array }
  | { readonly type: 'bool'; readonly values: Uint8Array }
  | { readonly type: 'string'; readonly values: readonly string[] }
);

/** Element types a column can be fed as. */
export type ColumnInputType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';

/** How one graph input is fed. */
export type InputFeed =
  | {
      readonly source: 'transforms';
      readonly name: string;
      readonly type: 'float32' | 'float64';
      readonly width: number;
    }
  | {
      readonly source: 'column';
      readonly name: string;
      readonly feature: Feature;
      readonly type: ColumnInputType;
      readonly rowShape: readonly number[];
    };

/** Which input types a feature of each type can feed (booleans as 0/1, datetimes as epoch milliseconds). */
const FEEDS: Record<Feature['type'], readonly ColumnInputType[]> = {
  numeric: ['float32', 'float64', 'int64', 'int32'],
  boolean: ['bool', 'float32', 'float64', 'int64', 'int32'],
  datetime: ['int64', 'float64'],
  categorical: ['string'],
};

const showShape = (t: TensorSpec) =>
  `[${t.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 'N')).join(', ')}]`;
const isFixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;

/**
 * Decides how each graph input is fed, and says everything that does not fit in one
 * SIGNATURE_MISMATCH: an input named after a feature takes that column (its type must be one the
 * feature can feed, its shape `[batch]` or `[batch, 1]`); the input left over takes the fitted
 * transforms' matrix (float32 or float64 `[batch, width]`, width = the transforms' outputs). A
 * single input is the matrix input whenever there are transforms. The batch dimension must be
 * dynamic.
 */
export function planModelInputs(
  signature: ModelSignature,
  features: readonly Feature[],
  fitted?: FittedTransforms,
): InputFeed[] {
  const byName = new Map(features.map((f) => [f.name, f]));
  const problems: string[] = [];
  const single = signature.inputs.length === 1;
  const matrixInputs = signature.inputs.filter((t) => fitted && (single || !byName.has(t.name)));
  if (fitted && matrixInputs.length === 0)
    problems.push(
      `the fitted transforms feed no input: every graph input is named after a column (${signature.inputs.map((t) => `'${t.name}'`).join(', ')}); name the input that takes the feature matrix otherwise`,
    );
  if (matrixInputs.length > 1)
    problems.push(
      `the inputs ${matrixInputs.map((t) => `'${t.name}'`).join(', ')} are not named after columns of the model, and the transforms feed only one`,
    );
  const feeds: InputFeed[] = [];
  for (const input of signature.inputs) {
    if (isFixed(input.shape[0]))
      problems.push(
        `the input '${input.name}' has a fixed batch size ${input.shape[0]}: export it with a dynamic first dimension (None / dynamic_axes)`,
      );
    if (matrixInputs.includes(input)) {
      const feed = matrixFeed(input, fitted!, problems);
      if (feed) feeds.push(feed);
      continue;
    }
    const feature = byName.get(input.name);
    if (!feature) {
      problems.push(
        `the input '${input.name}' has no column: no feature of the model is named so${fitted ? '' : ', and there are no fitted transforms to feed it'}`,
      );
      continue;
    }
    const type = input.type as ColumnInputType;
    if (!FEEDS[feature.type].includes(type))
      problems.push(
        `the input '${input.name}' is ${input.type}, but '${feature.name}' is a ${feature.type} feature (it can feed ${FEEDS[feature.type].join(', ')})`,
      );
    else if (!oneValuePerRow(input) && !(input.shape.length === 2 && !isFixed(input.shape[1])))
      problems.push(
        `the input '${input.name}' has shape ${showShape(input)}; an input fed from a column takes [N] or [N, 1]`,
      );
    else
      feeds.push({
        source: 'column',
        name: input.name,
        feature,
        type,
        rowShape: input.shape.length === 1 ? [] : [1],
      });
  }
  if (problems.length > 0)
    throw errors.signatureMismatch(`the model's inputs cannot be fed: ${problems.join('; ')}`, { problems });
  return feeds;
}

function matrixFeed(input: TensorSpec, fitted: FittedTransforms, problems: string[]): InputFeed | undefined {
  const width = fitted.output.length;
  if (
    (input.type !== 'float32' && input.type !== 'float64') ||
    input.shape.length !== 2 ||
    !isFixed(input.shape[1])
  ) {
    problems.push(
      `the input '${input.name}' takes the transforms' features: it must be float32 or float64 with shape [batch, width] and a fixed width, it is ${input.type} ${showShape(input)}`,
    );
    return undefined;
  }
  if (input.shape[1] !== width) {
    problems.push(
      `the transforms produce ${width} features, the input '${input.name}' takes ${input.shape[1]}`,
    );
    return undefined;
  }
  return { source: 'transforms', name: input.name, type: input.type, width };
}

/**
 * Inputs of `rows` made-up rows for the feeds: zeros, false, and for text a feature's first
 * allowed value (else empty text). For a trial run of a graph, not for scoring.
 */
export function trialInputs(feeds: readonly InputFeed[], rows: number): ModelInputs {
  const tensors = feeds.map((feed): InputTensor => {
    const rowShape = feed.source === 'transforms' ? [feed.width] : feed.rowShape;
    const n = rows * rowShape.reduce((a, b) => a * b, 1);
    const name = feed.name;
    switch (feed.type) {
      case 'float32':
        return { name, rowShape, type: 'float32', values: new Float32Array(n) };
      case 'float64':
        return { name, rowShape, type: 'float64', values: new Float64Array(n) };
      case 'int64':
        return { name, rowShape, type: 'int64', values: new BigInt64Array(n) };
      case 'int32':
        return { name, rowShape, type: 'int32', values: new Int32Array(n) };
      case 'bool':
        return { name, rowShape, type: 'bool', values: new Uint8Array(n) };
      case 'string': {
        const text = feed.source === 'column' && feed.feature.type === 'categorical' ? (feed.feature.allowedValues?.[0] ?? '') : '';
        return { name, rowShape, type: 'string', values: new Array<string>(n).fill(text) };
      }
    }
  });
  return { rows, tensors };
}

/** What feeding a batch gives: the inputs of the rows kept, which batch row each is, and why the others were not. */
export interface FedBatch {
  readonly inputs: ModelInputs;
  readonly keptRows: ArrayLike<number>;
  readonly rejected: readonly RejectedRow[];
}

/**
 * Builds the model's inputs for validated batches (see planModelInputs). A row is rejected with
 * the reason when the transforms reject it, or when a column cannot feed its input: a missing
 * value for an input other than float (float inputs get NaN: the graph's own imputer handles
 * it), a fraction for an integer input, a value beyond the input type's range.
 */
export function modelInputsBuilder(
  feeds: readonly InputFeed[],
  fitted?: FittedTransforms,
): (batch: RowBatch) => FedBatch {
  const matrix = feeds.find((f) => f.source === 'transforms');
  const columns = feeds.filter((f): f is Extract<InputFeed, { source: 'column' }> => f.source === 'column');
  if (matrix && !fitted)
    throw errors.validation(
      `the input '${matrix.name}' takes the transforms' features, and there are no fitted transforms`,
    );
  // The common case stays as fast as it was: the transforms' matrix is the one tensor, as it is.
  if (matrix?.type === 'float32' && columns.length === 0) {
    return (batch) => {
      const result = applyTransforms(fitted!, batch);
      const tensor: InputTensor = {
        name: matrix.name,
        type: 'float32',
        rowShape: [matrix.width],
        values: result.matrix.values,
      };
      return {
        inputs: { rows: result.matrix.rows, tensors: [tensor] },
        keptRows: result.keptRows,
        rejected: result.rejected,
      };
    };
  }
  return (batch) => feedBatch(batch, matrix, columns, fitted);
}

function feedBatch(
  batch: RowBatch,
  matrix: Extract<InputFeed, { source: 'transforms' }> | undefined,
  columns: readonly Extract<InputFeed, { source: 'column' }>[],
  fitted: FittedTransforms | undefined,
): FedBatch {
  const reasons = new Map<number, string>();
  for (const feed of columns) checkColumn(feed, batch, reasons);
  const transformed = matrix ? applyTransforms(fitted!, batch) : undefined;
  const transformReasons = new Map(transformed?.rejected.map((r) => [r.row, r.reason]) ?? []);
  // Rows that every stage kept, in batch order; and, for the matrix, which of its rows they are.
  const candidates = transformed ? transformed.keptRows : identity(batch.rowCount);
  const keptRows: number[] = [];
  const matrixRows: number[] = [];
  for (let k = 0; k < candidates.length; k += 1) {
    const row = candidates[k]!;
    if (reasons.has(row)) continue;
    keptRows.push(row);
    matrixRows.push(k);
  }
  const rejected: RejectedRow[] = [];
  for (let row = 0; row < batch.rowCount; row += 1) {
    const own = reasons.get(row);
    const fromTransforms = transformReasons.get(row);
    if (own !== undefined || fromTransforms !== undefined)
      rejected.push({ row, reason: [own, fromTransforms].filter((r) => r !== undefined).join('; ') });
  }
  const all = keptRows.length === batch.rowCount;
  const tensors: InputTensor[] = [];
  for (const feed of [...(matrix ? [matrix] : []), ...columns]) {
    if (feed.source === 'transforms')
      tensors.push(matrixTensor(feed, transformed!.matrix.values, matrixRows));
    else tensors.push(columnTensor(feed, batch, all ? undefined : keptRows));
  }
  return { inputs: { rows: keptRows.length, tensors }, keptRows: Int32Array.from(keptRows), rejected };
}

const identity = (n: number) => {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i += 1) rows[i] = i;
  return rows;
};

function matrixTensor(
  feed: Extract<InputFeed, { source: 'transforms' }>,
  values: Float32Array,
  rows: readonly number[],
): InputTensor {
  const w = feed.width;
  const compacted = rows.length * w === values.length ? values : new Float32Array(rows.length * w);
  if (compacted !== values) rows.forEach((r, k) => compacted.set(values.subarray(r * w, (r + 1) * w), k * w));
  const rowShape = [w];
  if (feed.type === 'float32') return { name: feed.name, type: 'float32', rowShape, values: compacted };
  // A float64 input gets the same features the float32 pipeline computes, widened.
  return { name: feed.name, type: 'float64', rowShape, values: Float64Array.from(compacted) };
}

const FLOAT32_MAX = 3.4028234663852886e38;
const INT64_LIMIT = 2 ** 63;

/** Why a value cannot feed an input of this type, or undefined. NaN is a missing value. */
function unfit(type: ColumnInputType, v: number): string | undefined {
  if (type === 'float64') return undefined;
  if (type === 'float32')
    return v === v && !(v >= -FLOAT32_MAX && v <= FLOAT32_MAX) ? 'is outside the float32 range' : undefined;
  if (v !== v) return 'is empty';
  if (type === 'bool') return v === 0 || v === 1 ? undefined : 'is not 0 or 1';
  if (!Number.isInteger(v)) return 'is not a whole number';
  if (type === 'int32' && (v < -2147483648 || v > 2147483647)) return 'is outside the int32 range';
  if (type === 'int64' && (v < -INT64_LIMIT || v >= INT64_LIMIT)) return 'is outside the int64 range';
  return undefined;
}

function checkColumn(
  feed: Extract<InputFeed, { source: 'column' }>,
  batch: RowBatch,
  reasons: Map<number, string>,
): void {
  const name = feed.feature.name;
  const add = (row: number, what: string) => {
    if (!reasons.has(row))
      reasons.set(row, `'${name}' ${what}, which the model's ${feed.type} input '${feed.name}' cannot take`);
  };
  if (feed.type === 'string') {
    const values = batch.categorical[name]!;
    for (let r = 0; r < batch.rowCount; r += 1) if (values[r] === null) add(r, 'is empty');
    return;
  }
  const values = batch.numeric[name]!;
  for (let r = 0; r < batch.rowCount; r += 1) {
    const problem = unfit(feed.type, values[r]!);
    if (problem !== undefined) add(r, `${problem === 'is empty' ? problem : `= ${values[r]} ${problem}`}`);
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The column's values for the kept rows (all rows when `rows` is undefined) as the input's element type. */
function columnTensor(
  feed: Extract<InputFeed, { source: 'column' }>,
  batch: RowBatch,
  rows: readonly number[] | undefined,
): InputTensor {
  const { name, rowShape } = feed;
  const n = rows ? rows.length : batch.rowCount;
  const at = rows ? (k: number) => rows[k]! : (k: number) => k;
  if (feed.type === 'string') {
    const source = batch.categorical[feed.feature.name]! as readonly string[];
    return { name, rowShape, type: 'string', values: rows ? rows.map((r) => source[r]!) : source };
  }
  const source = batch.numeric[feed.feature.name]!;
  switch (feed.type) {
    case 'float32': {
      const values = new Float32Array(n);
      for (let k = 0; k < n; k += 1) values[k] = source[at(k)]!;
      return { name, rowShape, type: 'float32', values };
    }
    case 'float64':
      // The runtime only reads its inputs: all rows kept, the batch's own column goes as it is.
      return {
        name,
        rowShape,
        type: 'float64',
        values: rows ? Float64Array.from(rows, (r) => source[r]!) : source,
      };
    case 'int32':
      return {
        name,
        rowShape,
        type: 'int32',
        values: Int32Array.from({ length: n }, (_, k) => source[at(k)]!),
      };
    case 'bool':
      return {
        name,
        rowShape,
        type: 'bool',
        values: Uint8Array.from({ length: n }, (_, k) => source[at(k)]!),
      };
    case 'int64': {
      const values = new BigInt64Array(n);
      if (!littleEndian) {
        for (let k = 0; k < n; k += 1) values[k] = BigInt(source[at(k)]!);
        return { name, rowShape, type: 'int64', values };
      }
      // Two 32-bit words per value: no BigInt per row.
      const words = new Int32Array(values.buffer);
      for (let k = 0; k < n; k += 1) {
        const v = source[at(k)]!;
        const high = Math.floor(v / 4294967296);
        words[2 * k] = v - high * 4294967296;
        words[2 * k + 1] = high;
      }
      return { name, rowShape, type: 'int64', values };
    }
  }
}
