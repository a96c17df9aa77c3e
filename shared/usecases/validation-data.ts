import { errors } from '../domain/errors';
import type { MetricsData } from '../domain/metrics';
import type { RawRows } from '../domain/raw-rows';
import { headerIndex, layoutColumns, validateRows } from '../domain/row-validation';
import { DEFAULT_SEGMENT_MAX_VALUES } from '../domain/segment-cap';
import type { RowBatch } from '../domain/tabular';
import type { Predictions } from '../ports/model-runtime';
import type { TabularFiles } from '../ports/tabular-files';
import type { ModelDefinition } from '../schemas/model';
import type { ChunkPlan } from '../schemas/scoring';
import { MODEL_OUTPUT_REJECTION } from './finite-predictions';
import { concatBatches, monitoredBatch, referenceProfileOf, type SegmentedProfile } from './profiling';
import { type ScoredBatch, type ScoringVersion, transformAndPredict } from './score-chunk';

/**
 * A validation dataset scored by the challenger and (when there is one) the champion: only rows
 * both scored and whose actual is usable, so the two are measured on exactly the same rows.
 */
export interface ScoredValidationData {
  rowsRead: number;
  rowsRejected: number;
  rowsWithoutActual: number;
  rejectionReasons: Record<string, number>;
  challenger: MetricsData;
  champion: MetricsData | null;
  /** Epoch ms per evaluated row (NaN without a timestamp column). */
  timestamps: Float64Array;
  /** Segment keys' and other categorical columns' values per evaluated row. */
  columns: Record<string, (string | null)[]>;
  /** Every row the challenger scored (with or without an actual), profiled: the version's reference for monitoring. */
  reference: SegmentedProfile;
  /** Rows the challenger answered with NaN or an infinity (left out, `model_output`), and the first of them. */
  modelOutput: LeftOutRows;
  /** Rows the champion answered so (left out of both versions' metrics, `champion_output`). */
  championOutput: LeftOutRows;
  /** Rows the challenger scored and the champion's transforms rejected (left out of both, `champion_transform`). */
  championTransform: LeftOutRows;
  /** Rows (among `rowsWithoutActual`) whose target cell is not empty but no actual: not a number, not a class label. */
  unusableActuals: LeftOutRows;
}

/** Rows left out for one reason: how many, and the first with what was wrong (`row 7: the model's prediction is NaN`). */
export interface LeftOutRows {
  rows: number;
  example?: string;
}

/** Rejection code of a row the champion answered with NaN or an infinity (the challenger's is MODEL_OUTPUT_REJECTION). */
export const CHAMPION_OUTPUT = 'champion_output';

/** Rejection code of a row the champion's transforms rejected (the challenger's is `transform`). */
export const CHAMPION_TRANSFORM = 'champion_transform';

/**
 * A validation dataset over VALIDATION_MAX_ROWS: refused (as evidence) before validation holds its
 * rows and bootstraps over them. `rows` when known up front; else it was stopped while read.
 */
export function tooManyValidationRows(source: string, maxRows: number, rows?: number) {
  const n = (x: number) => x.toLocaleString('en-US');
  const size = rows === undefined ? `more than ${n(maxRows)} rows` : `${n(rows)} rows, more than ${n(maxRows)}`;
  return errors.invalidInputFile(
    `the validation dataset ${source} has ${size} (VALIDATION_MAX_ROWS): validation holds every row in memory and bootstraps over them; validate on a sample of it, or raise the setting`,
    { source, maxRows, ...(rows === undefined ? {} : { rows }) },
  );
}

/** The batch rows a version rejected after validation for one reason, with why. */
const rejectionsOf = (scored: ScoredBatch, code: ScoredBatch['rejected'][number]['code']): Map<number, string> =>
  new Map(scored.rejected.filter((r) => r.code === code).map((r) => [r.row, r.reason]));

/** Growable per-row outputs of one model (regression values or class probabilities). */
class PredictionColumn {
  readonly values: number[] = [];
  constructor(readonly classCount: number) {}
}

/** Where each batch row's prediction sits (-1: the model's transforms rejected the row). */
function predictionIndex(rowCount: number, keptRows: ArrayLike<number>): Int32Array {
  const at = new Int32Array(rowCount).fill(-1);
  for (let k = 0; k < keptRows.length; k++) at[keptRows[k]!] = k;
  return at;
}

function pushPrediction(out: PredictionColumn, predictions: Predictions, k: number): void {
  if (predictions.kind === 'regression') out.values.push(predictions.values[k]!);
  else for (let c = 0; c < predictions.classCount; c++) out.values.push(predictions.probabilities[k * predictions.classCount + c]!);
}

function metricsData(definition: ModelDefinition, actuals: number[], out: PredictionColumn): MetricsData {
  if (definition.task === 'regression') return { actual: Float64Array.from(actuals), predicted: Float64Array.from(out.values) };
  return { actual: Int32Array.from(actuals), probabilities: Float64Array.from(out.values), classCount: out.classCount };
}

/** The actual of a raw row as a number (regression) or class index; undefined when unusable. */
function actualOf(definition: ModelDefinition, raw: RawRows, column: number, row: number): number | undefined {
  if (definition.task === 'regression') {
    const value = raw.number(column, row);
    return Number.isFinite(value) ? value : undefined;
  }
  const text = raw.text(column, row)?.trim();
  if (text === undefined || text === '') return undefined;
  const index = (definition.classLabels ?? []).indexOf(text);
  return index < 0 ? undefined : index;
}

/** Why a non-empty target cell gives no actual (actualOf was undefined); undefined when the cell is empty (an unlabelled row). */
function unusableActual(definition: ModelDefinition, raw: RawRows, column: number, row: number): string | undefined {
  const text = raw.text(column, row)?.trim();
  if (text === undefined || text === '') return undefined;
  if (definition.task === 'regression') return `'${text}' is not a finite number`;
  return `'${text}' is not one of the class labels (${(definition.classLabels ?? []).join(', ')})`;
}

/**
 * Scores every row of a validation dataset with both versions (same row validation, each
 * version's own transforms and model) and keeps the rows both scored that have an actual in the
 * model's target column. `extraColumns` are categorical columns kept per row (group splits); one
 * the file lacks is not in `columns`.
 */
export async function scoreValidationData(
  deps: { files: TabularFiles; maxRows?: number | undefined; segmentMaxValues?: number | undefined },
  plan: ChunkPlan,
  challenger: ScoringVersion,
  champion: ScoringVersion | null,
  extraColumns: readonly string[] = [],
): Promise<ScoredValidationData> {
  const definition = challenger.definition;
  const classCount = definition.task === 'regression' ? 1 : (definition.classLabels ?? []).length;
  const target = headerIndex(plan.columns).get(definition.targetColumn);
  if (target === undefined) {
    throw errors.invalidInputFile(`the validation dataset has no target column '${definition.targetColumn}'`, {
      column: definition.targetColumn,
    });
  }
  const layout = layoutColumns(definition, plan.columns);
  // Segment keys are in the file (layoutColumns demands them); an extra column it lacks is left out, not read as all empty.
  const header = headerIndex(plan.columns);
  const kept = [...new Set([...definition.segmentKeys, ...extraColumns])].filter((name) => header.has(name));
  const keptIndex = kept.map((name) => header.get(name));
  const numericColumns = definition.features.filter((f) => f.type === 'numeric').map((f) => f.name);
  const actuals: number[] = [];
  const mine = new PredictionColumn(classCount);
  const theirs = new PredictionColumn(classCount);
  const timestamps: number[] = [];
  const columns: Record<string, (string | null)[]> = Object.fromEntries(kept.map((k) => [k, []]));
  const reasons: Record<string, number> = {};
  const scored: RowBatch[] = [];
  let rowsRead = 0;
  let rowsRejected = 0;
  let rowsWithoutActual = 0;
  const modelOutput: LeftOutRows = { rows: 0 };
  const championOutput: LeftOutRows = { rows: 0 };
  const championTransform: LeftOutRows = { rows: 0 };
  const unusableActuals: LeftOutRows = { rows: 0 };

  for (const chunk of plan.chunks) {
    const opened = await deps.files.open(plan.source, chunk, { numericColumns });
    for await (const raw of opened.batches) {
      rowsRead += raw.rowCount;
      if (deps.maxRows !== undefined && rowsRead > deps.maxRows) throw tooManyValidationRows(plan.source, deps.maxRows);
      const valid = validateRows(raw, layout);
      for (const r of valid.rejected) reasons[r.code] = (reasons[r.code] ?? 0) + 1;
      rowsRejected += valid.rejected.length;
      const n = valid.batch.rowCount;
      if (n === 0) continue;
      // Each version as scoring runs it: transforms and model in passes, rows answered with NaN or an infinity taken out.
      const a = await transformAndPredict(challenger, valid.batch);
      const aAt = predictionIndex(n, a.keptRows);
      const aOut = a.predictions;
      scored.push(monitoredBatch(definition, valid, a.keptRows, aOut));
      const b = champion ? await transformAndPredict(champion, valid.batch) : undefined;
      const bAt = b ? predictionIndex(n, b.keptRows) : undefined;
      const bOut = b?.predictions;
      const aOutput = rejectionsOf(a, MODEL_OUTPUT_REJECTION);
      const bOutput = b ? rejectionsOf(b, MODEL_OUTPUT_REJECTION) : new Map<number, string>();
      const bTransform = b ? rejectionsOf(b, 'transform') : new Map<number, string>();
      for (let r = 0; r < n; r++) {
        const k = aAt[r]!;
        const j = bAt ? bAt[r]! : 0;
        if (k < 0 || j < 0) {
          // The challenger's reason first: a row it could not score is its fact, whatever the champion did.
          const [reason, tally, why] =
            k < 0
              ? aOutput.has(r)
                ? [MODEL_OUTPUT_REJECTION, modelOutput, aOutput.get(r)]
                : ['transform', undefined, undefined]
              : bOutput.has(r)
                ? [CHAMPION_OUTPUT, championOutput, bOutput.get(r)]
                : [CHAMPION_TRANSFORM, championTransform, bTransform.get(r)];
          if (tally) {
            tally.rows += 1;
            tally.example ??= `row ${valid.rowNumbers[r]!}: ${why}`;
          }
          reasons[reason] = (reasons[reason] ?? 0) + 1;
          rowsRejected += 1;
          continue;
        }
        const source = valid.sourceRows[r]!;
        const actual = actualOf(definition, raw, target, source);
        if (actual === undefined) {
          rowsWithoutActual += 1;
          const why = unusableActual(definition, raw, target, source);
          if (why !== undefined) {
            unusableActuals.rows += 1;
            unusableActuals.example ??= `row ${valid.rowNumbers[r]!}: ${why}`;
          }
          continue;
        }
        actuals.push(actual);
        pushPrediction(mine, aOut!, k);
        if (bOut) pushPrediction(theirs, bOut, j);
        timestamps.push(valid.timestamps ? valid.timestamps[r]! : NaN);
        kept.forEach((name, c) => {
          const column = keptIndex[c];
          columns[name]!.push(column === undefined ? null : (raw.symbol?.(column, source) ?? raw.text(column, source)));
        });
      }
    }
  }
  return {
    rowsRead,
    rowsRejected,
    rowsWithoutActual,
    rejectionReasons: reasons,
    challenger: metricsData(definition, actuals, mine),
    champion: champion ? metricsData(definition, actuals, theirs) : null,
    timestamps: Float64Array.from(timestamps),
    columns,
    reference: referenceProfileOf(definition, concatBatches(scored), deps.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES),
    modelOutput,
    championOutput,
    championTransform,
    unusableActuals,
  };
}
