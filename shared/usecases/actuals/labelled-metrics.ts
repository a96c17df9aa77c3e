import { laterActuals } from '../../domain/actuals';
import { errors } from '../../domain/errors';
import { hashBytes, IdTable } from '../../domain/id-table';
import { computeMetricsByKeys, type MetricsData, MISSING_SEGMENT } from '../../domain/metrics';
import type { RawRows } from '../../domain/raw-rows';
import { DEFAULT_SEGMENT_MAX_VALUES } from '../../domain/segment-cap';
import type { TabularFiles } from '../../ports/tabular-files';
import type { SegmentedMetricReport } from '../../schemas/metrics';
import type { ModelDefinition } from '../../schemas/model';
import type { ChunkPlan } from '../../schemas/scoring';
import { MODEL_VERSION_COLUMN } from '../score-chunk';
import { ACTUAL_COLUMN, ACTUALS_AT_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN, Interner, timestampOf } from './columns';
import { WHOLE_FILE } from './deps';
import { idCells } from './ids';

const TWO_32 = 4294967296;

export interface LabelledSummary {
  /** Distinct ids with an actual. */
  labelled: number;
  /** The newest model version among the labelled rows. */
  version: number | null;
  /** Realised metrics, overall and per segment (`key=value`); null without labelled rows. */
  metrics: SegmentedMetricReport | null;
}

export interface LabelledOptions {
  /** Rows one pass holds at most: more make several passes, and the metrics use the first. */
  maxRows: number;
  bootstrapResamples: number;
  /** Values a segment key keeps by name (the rest are `key=__other__`); DEFAULT_SEGMENT_MAX_VALUES when absent. */
  maxSegmentValues?: number | undefined;
  /** The files hold each id once (one actuals file's labelled rows): nothing to deduplicate. */
  unique?: boolean;
}

function grown<T extends Float64Array | Int32Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
}

/**
 * The labelled rows of one hash range of ids, one per id: the actual of the latest actuals file
 * (then the later file id, then the later row) with the prediction it was joined to.
 */
class LatestLabels {
  /** Ids seen, unless they are known to be unique (then rows are simply counted). */
  private readonly table: IdTable | undefined;
  size = 0;
  private at = new Float64Array(1024);
  private source = new Int32Array(1024);
  private row = new Int32Array(1024);
  private version = new Int32Array(1024);
  private actual = new Float64Array(1024);
  /** Regression: the prediction; classifiers: `classCount` probabilities per id. */
  private predicted = new Float64Array(1024);
  private segments: Int32Array[];
  readonly sources = new Interner();
  readonly segmentValues: Interner[];
  private readonly width: number;
  private readonly labels: Map<string, number>;

  constructor(
    private readonly definition: ModelDefinition,
    expected: number,
    unique: boolean,
  ) {
    this.table = unique ? undefined : new IdTable(expected);
    this.width = definition.task === 'regression' ? 1 : definition.classLabels!.length;
    this.segments = definition.segmentKeys.map(() => new Int32Array(1024));
    this.segmentValues = definition.segmentKeys.map(() => new Interner());
    this.labels = new Map((definition.classLabels ?? []).map((label, i) => [label, i]));
    this.reserve(expected);
  }

  /** A reader of one labelled file's batches into the set, for ids whose hash is in [low, high). */
  reader(columns: readonly string[], path: string, low: number, high: number): (raw: RawRows) => void {
    const def = this.definition;
    const at = (name: string) => {
      const i = columns.indexOf(name);
      if (i < 0) throw errors.invalidInputFile(`the labelled file '${path}' has no column '${name}'`, { path });
      return i;
    };
    const idColumn = at(def.idColumn);
    const actualColumn = at(ACTUAL_COLUMN);
    const atColumn = at(ACTUALS_AT_COLUMN);
    const sourceColumn = at(ACTUALS_ID_COLUMN);
    const rowColumn = at(ACTUALS_ROW_COLUMN);
    const versionColumn = at(MODEL_VERSION_COLUMN);
    const predictionColumns =
      def.task === 'regression'
        ? [at(def.predictionColumns.prediction)]
        : def.classLabels!.map((label) => at(`${def.predictionColumns.probabilityPrefix}${label}`));
    const segmentColumns = def.segmentKeys.map((key) => columns.indexOf(key));
    return (raw) => {
      const { bytes, starts, lengths } = idCells(raw, idColumn);
      const table = this.table;
      const everyId = low === 0 && high === TWO_32;
      for (let r = 0; r < raw.rowCount; r += 1) {
        const length = lengths[r]!;
        if (length < 0) continue;
        const start = starts[r]!;
        const hash = table || !everyId ? hashBytes(bytes, start, length) : 0;
        if (hash < low || hash >= high) continue;
        const arrived = timestampOf(raw, atColumn, r);
        const source = this.sources.code(raw.symbol ? raw.symbol(sourceColumn, r) : raw.text(sourceColumn, r));
        const row = raw.number(rowColumn, r);
        const slot = table ? table.add(bytes, start, length, hash) : this.size;
        if (slot === this.size) {
          this.size += 1;
          this.reserve(this.size);
        } else if (!this.later(slot, arrived, source, row)) continue;
        this.at[slot] = arrived;
        this.source[slot] = source;
        this.row[slot] = row;
        this.version[slot] = raw.number(versionColumn, r);
        this.actual[slot] = this.actualOf(raw, actualColumn, r, path);
        predictionColumns.forEach((c, k) => (this.predicted[slot * this.width + k] = raw.number(c, r)));
        segmentColumns.forEach((c, k) => {
          this.segments[k]![slot] = c < 0 ? -1 : this.segmentValues[k]!.code(raw.symbol ? raw.symbol(c, r) : raw.text(c, r));
        });
      }
    };
  }

  /** Whether an actual (arrived, source, row) beats the one held for the slot. */
  private later(slot: number, arrived: number, source: number, row: number): boolean {
    const held = this.source[slot]!;
    if (source === held) return row > this.row[slot]!;
    return laterActuals(arrived, this.sources.value(source)!, this.at[slot]!, this.sources.value(held)!);
  }

  private actualOf(raw: RawRows, column: number, r: number, path: string): number {
    if (this.definition.task === 'regression') return raw.number(column, r);
    const label = raw.text(column, r);
    const index = label === null ? undefined : this.labels.get(label);
    if (index === undefined) throw errors.invalidInputFile(`the labelled file '${path}' has the actual ${JSON.stringify(label)}, not a class label of the model`, { path });
    return index;
  }

  private reserve(n: number): void {
    if (n <= this.at.length) return;
    this.at = grown(this.at, n);
    this.source = grown(this.source, n);
    this.row = grown(this.row, n);
    this.version = grown(this.version, n);
    this.actual = grown(this.actual, n);
    this.predicted = grown(this.predicted, n * this.width);
    this.segments = this.segments.map((s) => grown(s, n));
  }

  newestVersion(): number | null {
    let newest = 0;
    for (let i = 0; i < this.size; i += 1) newest = Math.max(newest, this.version[i]!);
    return newest > 0 ? newest : null;
  }

  metrics(options: LabelledOptions): SegmentedMetricReport | null {
    const n = this.size;
    const segments = this.definition.segmentKeys.map((_, k) => Array.from(this.segments[k]!.subarray(0, n), (code) => this.segmentValues[k]!.value(code)));
    return realisedMetrics(this.definition, this.actual.subarray(0, n), this.predicted.subarray(0, n * this.width), segments, options.bootstrapResamples, options.maxSegmentValues);
  }
}

/**
 * Realised metrics of labelled rows, overall and per segment (`key=value`): `actual` per row (a
 * value, or a class index), `predicted` per row (a value, or the class probabilities), and each
 * segment key's value per row, in the model's key order. A key with more than `maxSegmentValues`
 * values keeps the most frequent; the rest are `key=__other__` (the report's `cappedSegments`), so
 * a record or window document does not grow with the rows. Null without rows.
 */
export function realisedMetrics(
  definition: ModelDefinition,
  actual: Float64Array,
  predicted: Float64Array,
  segments: readonly (string | null)[][],
  bootstrapResamples: number,
  maxSegmentValues: number = DEFAULT_SEGMENT_MAX_VALUES,
): SegmentedMetricReport | null {
  const n = actual.length;
  if (n === 0) return null;
  const data: MetricsData =
    definition.task === 'regression'
      ? { actual: actual.slice(), predicted: predicted.slice() }
      : { actual: Int32Array.from(actual), probabilities: predicted.slice(), classCount: predicted.length / n };
  const columns = Object.fromEntries(definition.segmentKeys.map((key, k) => [key, segments[k]!]));
  return computeMetricsByKeys(definition.task, data, definition.segmentKeys, columns, { bootstrap: { resamples: bootstrapResamples }, maxSegmentValues });
}

/**
 * The segments (`key=value`, named as realised metrics name them) that rows of the labelled files
 * hold, sorted; only the segment columns are read.
 */
export async function labelledSegments(deps: { files: TabularFiles }, definition: ModelDefinition, paths: readonly string[]): Promise<string[]> {
  const keys = definition.segmentKeys;
  const found = new Set<string>();
  if (keys.length === 0) return [];
  for (const path of paths) {
    const plan = await deps.files.plan(path, WHOLE_FILE);
    for (const chunk of plan.chunks) {
      const opened = await deps.files.open(path, chunk, { columns: keys });
      const columns = keys.map((key) => opened.columns.indexOf(key));
      for await (const raw of opened.batches) {
        for (let r = 0; r < raw.rowCount; r += 1) {
          columns.forEach((c, k) => found.add(`${keys[k]}=${(c < 0 ? null : raw.symbol ? raw.symbol(c, r) : raw.text(c, r)) ?? MISSING_SEGMENT}`));
        }
      }
    }
  }
  return [...found].sort();
}

/** Where the first of `passes` hash ranges of ids ends: the deterministic sample realised metrics use. */
export const sampleEnd = (passes: number): number => (passes === 1 ? TWO_32 : Math.floor(TWO_32 / passes));

/** The columns realised performance reads from labelled files. */
function labelledReadColumns(def: ModelDefinition): string[] {
  const predictions =
    def.task === 'regression' ? [def.predictionColumns.prediction] : def.classLabels!.map((label) => `${def.predictionColumns.probabilityPrefix}${label}`);
  return [def.idColumn, ACTUAL_COLUMN, ACTUALS_AT_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN, MODEL_VERSION_COLUMN, ...predictions, ...def.segmentKeys];
}

/**
 * Realised performance of labelled files (one window's, or one actuals file's): each id once,
 * with the latest actual. Memory holds at most about `maxRows` ids: a larger set is read in
 * several passes over hash ranges of the ids, each counted exactly, and the metrics are those of
 * the first range, a deterministic sample (the same ids every time; `rows` in the report says
 * how many).
 */
export async function summarizeLabelled(
  deps: { files: TabularFiles },
  definition: ModelDefinition,
  paths: readonly string[],
  options: LabelledOptions,
): Promise<LabelledSummary> {
  const plans: ChunkPlan[] = [];
  for (const path of paths) plans.push(await deps.files.plan(path, WHOLE_FILE));
  const total = plans.reduce((sum, p) => sum + (p.rows ?? 0), 0);
  const passes = Math.max(1, Math.ceil(total / options.maxRows));
  const wanted = labelledReadColumns(definition);
  let labelled = 0;
  let version: number | null = null;
  let metrics: SegmentedMetricReport | null = null;
  for (let pass = 0; pass < passes; pass += 1) {
    const labels = new LatestLabels(definition, Math.ceil((total / passes) * 1.1) + 16, options.unique === true);
    const low = pass === 0 ? 0 : Math.floor((pass * TWO_32) / passes);
    const high = pass === 0 ? sampleEnd(passes) : pass === passes - 1 ? TWO_32 : Math.floor(((pass + 1) * TWO_32) / passes);
    for (const plan of plans) {
      for (const chunk of plan.chunks) {
        const opened = await deps.files.open(plan.source, chunk, { columns: wanted });
        const read = labels.reader(opened.columns, plan.source, low, high);
        for await (const raw of opened.batches) read(raw);
      }
    }
    labelled += labels.size;
    const newest = labels.newestVersion();
    if (newest !== null) version = Math.max(version ?? 0, newest);
    if (pass === 0) metrics = labels.metrics(options);
  }
  return { labelled, version, metrics };
}
