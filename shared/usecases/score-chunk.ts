import { errors } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { type FedBatch, type InputFeed, modelInputsBuilder, planModelInputs } from '../domain/model-inputs';
import type { RawRows } from '../domain/raw-rows';
import { layoutColumns, type ValidatedRows, validateRows } from '../domain/row-validation';
import type { RowBatch } from '../domain/tabular';
import type { DataLake } from '../ports/data-lake';
import type { LoadedModel, Predictions } from '../ports/model-runtime';
import type { OutputColumn, OutputColumnType, ParquetSink, TabularFiles } from '../ports/tabular-files';
import type { ModelDefinition } from '../schemas/model';
import type { Chunk, ChunkSummary, QuarantineRecord } from '../schemas/scoring';
import type { ModelSignature } from '../schemas/signature';
import type { FittedTransforms } from '../schemas/transforms';
import { MODEL_OUTPUT_REJECTION, withFiniteOutputs } from './finite-predictions';

/**
 * A validated batch made into the model's inputs: the fitted transforms' matrix and/or raw
 * columns, one tensor per graph input (see shared/domain/model-inputs.ts). `keptRows[k]` is the
 * batch row of input row k; every other batch row is in `rejected` with the reason.
 */
export type ApplyTransform = (batch: RowBatch) => FedBatch;

/** A version ready to score: its definition, how its inputs are fed, and its loaded model. */
export interface ScoringVersion {
  definition: ModelDefinition;
  version: number;
  transform: ApplyTransform;
  model: LoadedModel;
  /** Input values one row takes (the transforms' width plus one per raw column); rows are fed in passes by it. */
  valuesPerRow?: number;
}

/** Input values per row of the feeds: the transforms' width, one per raw column. */
export const valuesPerRow = (feeds: readonly InputFeed[]) => feeds.reduce((n, f) => n + (f.source === 'transforms' ? f.width : 1), 0);

/**
 * Model input values built at a time (16 MB of float32). A read batch holds up to about a million
 * cells of the file, so a wide feature vector (a one-hot of a thousand categories) would make its
 * matrix gigabytes: such a batch is transformed and scored in passes of rows instead.
 */
export const MAX_INPUT_VALUES = 1 << 22;

/** Rows `[start, end)` of a batch, without copying numeric columns. */
function sliceBatch(batch: RowBatch, start: number, end: number): RowBatch {
  const numeric = Object.create(null) as Record<string, Float64Array>;
  const categorical = Object.create(null) as Record<string, (string | null)[]>;
  for (const [name, values] of Object.entries(batch.numeric)) numeric[name] = values.subarray(start, end);
  for (const [name, values] of Object.entries(batch.categorical)) categorical[name] = values.slice(start, end);
  return { rowCount: end - start, numeric, categorical };
}

function concatPredictions(parts: readonly Predictions[]): Predictions {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const first = parts[0]!;
  if (first.kind === 'regression') {
    const values = new Float64Array(rows);
    let at = 0;
    for (const p of parts as Extract<Predictions, { kind: 'regression' }>[]) {
      values.set(p.values, at);
      at += p.rows;
    }
    return { kind: 'regression', rows, values };
  }
  const all = parts as Extract<Predictions, { kind: 'classification' }>[];
  const probabilities = new (first.probabilities.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(rows * first.classCount);
  let at = 0;
  for (const p of all) {
    probabilities.set(p.probabilities, at);
    at += p.probabilities.length;
  }
  return { kind: 'classification', rows, labels: all.flatMap((p) => p.labels), probabilities, classCount: first.classCount };
}

/** A row of a validated batch rejected after validation: by the transforms (`transform`) or for its model output (`model_output`). */
export interface LaterRejection {
  row: number;
  reason: string;
  code: 'transform' | typeof MODEL_OUTPUT_REJECTION;
}

/** What a validated batch gave: the rows scored (batch rows) with their finite predictions, and the rows rejected after validation. */
export interface ScoredBatch {
  keptRows: ArrayLike<number>;
  rejected: readonly LaterRejection[];
  /** Undefined when no row was kept. */
  predictions: Predictions | undefined;
}

/**
 * Transforms a validated batch and runs the model on the rows kept, in passes of rows whose
 * inputs take at most MAX_INPUT_VALUES values (one pass for all but very wide inputs). Rows the
 * model answers with NaN or an infinity are taken out with their reason (`model_output`).
 */
export async function transformAndPredict(version: ScoringVersion, batch: RowBatch): Promise<ScoredBatch> {
  const { keptRows, rejected, predictions } = await predictInPasses(version, batch);
  const transformRejections = rejected.map((r): LaterRejection => ({ ...r, code: 'transform' }));
  if (!predictions) return { keptRows, rejected: transformRejections, predictions };
  const finite = withFiniteOutputs(keptRows, predictions, version.definition.classLabels ?? []);
  const outputRejections = finite.rejected.map((r): LaterRejection => ({ ...r, code: MODEL_OUTPUT_REJECTION }));
  return { keptRows: finite.keptRows, rejected: [...transformRejections, ...outputRejections], predictions: finite.predictions };
}

async function predictInPasses(
  version: ScoringVersion,
  batch: RowBatch,
): Promise<{ keptRows: ArrayLike<number>; rejected: readonly { row: number; reason: string }[]; predictions: Predictions | undefined }> {
  const rowsPerPass = Math.max(1, Math.floor(MAX_INPUT_VALUES / Math.max(1, version.valuesPerRow ?? 1)));
  if (batch.rowCount <= rowsPerPass) {
    const fed = version.transform(batch);
    const predictions = fed.keptRows.length > 0 ? await version.model.predict(fed.inputs) : undefined;
    return { keptRows: fed.keptRows, rejected: fed.rejected, predictions };
  }
  const keptRows: number[] = [];
  const rejected: { row: number; reason: string }[] = [];
  const parts: Predictions[] = [];
  for (let start = 0; start < batch.rowCount; start += rowsPerPass) {
    const fed = version.transform(sliceBatch(batch, start, Math.min(start + rowsPerPass, batch.rowCount)));
    for (const r of fed.rejected) rejected.push({ row: start + r.row, reason: r.reason });
    if (fed.keptRows.length === 0) continue;
    for (let k = 0; k < fed.keptRows.length; k += 1) keptRows.push(start + fed.keptRows[k]!);
    parts.push(await version.model.predict(fed.inputs));
  }
  return { keptRows: Int32Array.from(keptRows), rejected, predictions: parts.length > 0 ? concatPredictions(parts) : undefined };
}

/**
 * The ScoringVersion of a loaded model: plans its inputs from the signature, the feature schema
 * and the fitted transforms (if any), SIGNATURE_MISMATCH naming every input that cannot be fed.
 */
export function scoringVersion(
  definition: ModelDefinition,
  version: number,
  signature: ModelSignature,
  transforms: FittedTransforms | undefined,
  model: LoadedModel,
): ScoringVersion {
  const feeds = planModelInputs(signature, definition.features, transforms);
  return { definition, version, transform: modelInputsBuilder(feeds, transforms), model, valuesPerRow: valuesPerRow(feeds) };
}

export interface ScoreChunkDeps {
  lake: DataLake;
  files: TabularFiles;
}

export interface ScoreChunkInput {
  source: string;
  runId: string;
  chunk: Chunk;
  /** Output locations; by default the lake's predictions/ and quarantine/ paths. */
  output?: { partPath: string; quarantinePath: string };
  /**
   * Called when every row was read, before any output is written: throwing here leaves the
   * outputs as they were (batch inference checks that the file is still the version it planned).
   */
  beforeWrite?: () => Promise<void>;
  /**
   * Sees each batch's validated rows, the rows of them scored and their predictions (none when no
   * row was scored): monitoring profiles the data as it arrived, predictions where there are some.
   */
  observe?: (valid: ValidatedRows, keptRows: ArrayLike<number>, predictions: Predictions | undefined) => void;
}

/** `quarantine/{model}/{runId}/chunk-NNNNN.jsonl`: the rejected rows of one chunk. */
export const quarantineChunkPath = (model: string, runId: string, chunk: number) =>
  lakePaths.quarantine(model, runId, `chunk-${String(chunk).padStart(5, '0')}.jsonl`);

/**
 * Rows per output row group. Fixed, so that the output depends only on the chunk's rows and not
 * on how the network delivered its bytes: a retried chunk writes a byte-identical part.
 */
export const OUTPUT_ROW_GROUP_ROWS = 65_536;

export const MODEL_VERSION_COLUMN = 'model_version';
export const RUN_ID_COLUMN = 'run_id';
export const SOURCE_ROW_COLUMN = 'source_row';
/** The file the row was read from (its path): a scheduled run scores several drops, and `source_row` counts within one. */
export const SOURCE_FILE_COLUMN = 'source_file';

interface ColumnSpec {
  name: string;
  type: OutputColumnType;
}

/** The columns batch inference adds to every prediction row. */
export const ADDED_COLUMNS: readonly string[] = [MODEL_VERSION_COLUMN, RUN_ID_COLUMN, SOURCE_ROW_COLUMN, SOURCE_FILE_COLUMN];

/** The columns of a predictions part, in order. */
export function outputColumns(definition: ModelDefinition): ColumnSpec[] {
  const specs: ColumnSpec[] = [{ name: definition.idColumn, type: 'string' }];
  if (definition.timestampColumn) specs.push({ name: definition.timestampColumn, type: 'timestamp' });
  for (const key of definition.segmentKeys) specs.push({ name: key, type: 'string' });
  const names = definition.predictionColumns;
  specs.push({ name: names.prediction, type: definition.task === 'regression' ? 'double' : 'string' });
  for (const label of definition.classLabels ?? []) specs.push({ name: `${names.probabilityPrefix}${label}`, type: 'double' });
  specs.push({ name: MODEL_VERSION_COLUMN, type: 'int32' }, { name: RUN_ID_COLUMN, type: 'string' }, { name: SOURCE_ROW_COLUMN, type: 'int32' }, { name: SOURCE_FILE_COLUMN, type: 'string' });
  const seen = new Set<string>();
  return specs.filter((s) => !seen.has(s.name) && seen.add(s.name));
}

type ColumnValues = Float64Array | Int32Array | (string | null)[];

function columnStorage(type: OutputColumnType, rows: number): ColumnValues {
  if (type === 'string') return new Array<string | null>(rows).fill(null);
  return type === 'int32' ? new Int32Array(rows) : new Float64Array(rows);
}

/**
 * Output rows stored column by column in typed arrays sized for one row group (no boxed numbers,
 * no per-row array growth), flushed to the sink each time a group is full.
 */
class OutputBuffer {
  private readonly values: ColumnValues[];
  /** Rows filled in the current group. */
  rows = 0;
  written = 0;

  constructor(
    private readonly specs: ColumnSpec[],
    private readonly sink: ParquetSink,
  ) {
    this.values = specs.map((s) => columnStorage(s.type, OUTPUT_ROW_GROUP_ROWS));
  }

  column<T extends ColumnValues>(name: string): T | undefined {
    const i = this.specs.findIndex((s) => s.name === name);
    return i < 0 ? undefined : (this.values[i] as T);
  }

  /** Marks row `rows` as filled; a full group goes to the sink. */
  next(): void {
    this.rows += 1;
    if (this.rows === OUTPUT_ROW_GROUP_ROWS) this.flush();
  }

  private flush(): void {
    const n = this.rows;
    const group: OutputColumn[] = this.specs.map((s, i) => {
      const v = this.values[i]!;
      return { ...s, values: Array.isArray(v) ? v.slice(0, n) : v.subarray(0, n) };
    });
    this.sink.writeRowGroup(group);
    this.rows = 0;
    this.written += n;
  }

  finish(): Buffer {
    if (this.rows > 0 || this.written === 0) this.flush();
    return this.sink.finish();
  }
}

/**
 * The predictions part of no rows: the output columns and no row group, as a chunk whose rows
 * are all rejected writes it. A reader of an input with no data rows then finds the columns.
 */
export const emptyPredictionsPart = (definition: ModelDefinition, sink: ParquetSink): Buffer =>
  new OutputBuffer(outputColumns(definition), sink).finish();

function appendPredictions(
  out: OutputBuffer,
  version: ScoringVersion,
  runId: string,
  source: string,
  valid: ValidatedRows,
  keptRows: ArrayLike<number>,
  predictions: Predictions,
): void {
  const def = version.definition;
  const n = keptRows.length;
  if (predictions.rows !== n) throw errors.signatureMismatch(`the model returned ${predictions.rows} rows for ${n}`);
  const id = out.column<(string | null)[]>(def.idColumn)!;
  const ts = def.timestampColumn ? out.column<Float64Array>(def.timestampColumn) : undefined;
  const segments = def.segmentKeys.map((k) => [out.column<(string | null)[]>(k), valid.segments[k]!] as const);
  const labels = def.classLabels ?? [];
  const probabilities = labels.map((l) => out.column<Float64Array>(`${def.predictionColumns.probabilityPrefix}${l}`));
  const versionCol = out.column<Int32Array>(MODEL_VERSION_COLUMN)!;
  const runCol = out.column<(string | null)[]>(RUN_ID_COLUMN)!;
  const rowCol = out.column<Int32Array>(SOURCE_ROW_COLUMN)!;
  const fileCol = out.column<(string | null)[]>(SOURCE_FILE_COLUMN)!;
  if (predictions.kind === 'classification' && predictions.classCount !== labels.length)
    throw errors.signatureMismatch(`the model gives ${predictions.classCount} class probabilities, the definition names ${labels.length} classes`);
  const regression = predictions.kind === 'regression' ? out.column<Float64Array>(def.predictionColumns.prediction)! : undefined;
  const label = predictions.kind === 'classification' ? out.column<(string | null)[]>(def.predictionColumns.prediction)! : undefined;
  for (let k = 0; k < n; k += 1) {
    const r = keptRows[k]!;
    const o = out.rows;
    id[o] = valid.ids[r]!;
    if (ts) ts[o] = valid.timestamps ? valid.timestamps[r]! : NaN;
    for (const [col, values] of segments) if (col) col[o] = values[r] ?? null;
    if (predictions.kind === 'regression') regression![o] = predictions.values[k]!;
    else {
      label![o] = predictions.labels[k]!;
      const base = k * predictions.classCount;
      probabilities.forEach((col, c) => {
        if (col) col[o] = predictions.probabilities[base + c]!;
      });
    }
    versionCol[o] = version.version;
    runCol[o] = runId;
    rowCol[o] = valid.rowNumbers[r]!;
    fileCol[o] = source;
    out.next();
  }
}

function quarantineLines(raw: RawRows, valid: ValidatedRows, later: readonly LaterRejection[]) {
  const records: (QuarantineRecord & { code: string })[] = valid.rejected.map((r) => ({
    row: r.row,
    code: r.code,
    reason: r.reason,
    cells: r.cells,
    ...(r.rawBase64 ? { rawBase64: r.rawBase64 } : {}),
  }));
  for (const t of later) {
    records.push({
      row: valid.rowNumbers[t.row]!,
      code: t.code,
      reason: t.reason,
      cells: raw.rawCells(valid.sourceRows[t.row]!),
    });
  }
  return records.sort((a, b) => a.row - b.row);
}

/**
 * Scores one planned chunk: reads it batch by batch (bounded memory), validates rows against the
 * feature schema, applies the version's fitted transforms, runs the model, and writes one
 * Parquet part plus, when rows were rejected, one quarantine JSONL (row number, reason, cells).
 * Every row read is either scored or quarantined. The outputs depend only on the chunk and the
 * version, so a retry overwrites them byte for byte instead of duplicating rows.
 */
export async function scoreChunk(deps: ScoreChunkDeps, version: ScoringVersion, input: ScoreChunkInput): Promise<ChunkSummary> {
  const def = version.definition;
  const index = input.chunk.index;
  const partPath = input.output?.partPath ?? lakePaths.predictionPart(def.name, version.version, input.runId, index);
  const quarantinePath = input.output?.quarantinePath ?? quarantineChunkPath(def.name, input.runId, index);
  const numericColumns = def.features.filter((f) => f.type === 'numeric').map((f) => f.name);
  const opened = await deps.files.open(input.source, input.chunk, { numericColumns });
  const layout = layoutColumns(def, opened.columns);
  const out = new OutputBuffer(outputColumns(def), deps.files.parquetSink());
  const quarantine: string[] = [];
  const reasons: Record<string, number> = {};
  let rowsRead = 0;
  let rowsScored = 0;

  for await (const raw of opened.batches) {
    rowsRead += raw.rowCount;
    const valid = validateRows(raw, layout);
    const scored = valid.batch.rowCount > 0 ? await transformAndPredict(version, valid.batch) : undefined;
    for (const record of quarantineLines(raw, valid, scored?.rejected ?? [])) {
      const { code, ...line } = record;
      reasons[code] = (reasons[code] ?? 0) + 1;
      quarantine.push(JSON.stringify(line));
    }
    if (!scored?.predictions || scored.keptRows.length === 0) {
      if (valid.batch.rowCount > 0) input.observe?.(valid, [], undefined);
      continue;
    }
    appendPredictions(out, version, input.runId, input.source, valid, scored.keptRows, scored.predictions);
    input.observe?.(valid, scored.keptRows, scored.predictions);
    rowsScored += scored.keptRows.length;
  }

  await input.beforeWrite?.();
  await deps.lake.write(partPath, out.finish(), { contentType: 'application/vnd.apache.parquet' });
  const rowsRejected = quarantine.length;
  if (rowsRejected > 0)
    await deps.lake.write(quarantinePath, Buffer.from(`${quarantine.join('\n')}\n`), { contentType: 'application/x-ndjson' });
  if (rowsScored + rowsRejected !== rowsRead)
    throw new Error(`chunk ${index}: ${rowsRead} rows read but ${rowsScored} scored and ${rowsRejected} rejected`);
  return {
    model: def.name,
    version: version.version,
    runId: input.runId,
    chunkIndex: index,
    rowsRead,
    rowsScored,
    rowsRejected,
    partPath,
    ...(rowsRejected > 0 ? { quarantinePath } : {}),
    rejectionReasons: reasons,
  };
}
