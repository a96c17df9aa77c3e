import { errors, isDomainError } from '../../domain/errors';
import { bucketOfHash, hashBytes, IdTable } from '../../domain/id-table';
import { lakePaths } from '../../domain/lake-paths';
import type { RawRows } from '../../domain/raw-rows';
import { headerIndex } from '../../domain/row-validation';
import { windowIdOf, windowLengthMs, windowStartOf } from '../../domain/windows';
import type { OutputColumn } from '../../ports/tabular-files';
import type { ActualsJoinPlan, BucketSummary } from '../../schemas/actuals';
import type { SegmentedMetricReport } from '../../schemas/metrics';
import type { ModelDefinition } from '../../schemas/model';
import type { ChunkPlan } from '../../schemas/scoring';
import { LakeLineSink } from '../line-sink';
import { OUTPUT_ROW_GROUP_ROWS, outputColumns } from '../score-chunk';
import { ACTUAL_COLUMN, ACTUALS_AT_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN, SlotColumns } from './columns';
import { type ActualsDeps, quarantinePath, readingUnchanged, readPlan, WHOLE_FILE, work } from './deps';
import { idCells } from './ids';
import { realisedMetrics, sampleEnd } from './labelled-metrics';

/** Milliseconds since the last call (the first: since the stopwatch was made), whole. */
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - last);
    last = now;
    return ms;
  };
}

/**
 * What matching reads of a plan: the join's own, or a late match's (one run, the unmatched actuals
 * read back from the join's quarantine).
 */
export type MatchPlan = Pick<ActualsJoinPlan, 'actualsId' | 'definition' | 'runs' | 'buckets' | 'window'> & { source: Pick<ActualsJoinPlan['source'], 'lastModified'> };

/** Why a row of the actuals file cannot be joined, in the quarantine's words. */
interface Rejection {
  code: string;
  reason: string;
}

/**
 * The usable actuals of one bucket (the ids whose hash falls in its range): one entry per id,
 * from the id's last usable row in the file. Everything else the bucket owns is counted and
 * quarantined: rejected rows by reason, rows a later row of the same id superseded.
 */
export class BucketActuals {
  readonly table: IdTable;
  /** Per id: the actual (a regression value, or a class index) and its row in the file. */
  values: Float64Array;
  rows: Int32Array;
  private duplicated: Uint8Array;
  ownedRows = 0;
  duplicateIds = 0;
  duplicateRows = 0;
  readonly rejectionReasons: Record<string, number> = {};

  constructor(
    readonly definition: ModelDefinition,
    expectedIds: number,
  ) {
    this.table = new IdTable(expectedIds);
    this.values = new Float64Array(expectedIds);
    this.rows = new Int32Array(expectedIds);
    this.duplicated = new Uint8Array(expectedIds);
  }

  /** The actual as the file would say it: a number, or a class label. */
  actualText(slot: number): string {
    const value = this.values[slot]!;
    return this.definition.task === 'regression' ? String(value) : this.definition.classLabels![value]!;
  }

  reject(code: string): void {
    this.rejectionReasons[code] = (this.rejectionReasons[code] ?? 0) + 1;
  }

  /** Records the id's actual; returns the row it superseded (0: none). */
  put(slot: number, isNew: boolean, value: number, row: number): number {
    if (slot >= this.rows.length) this.grow(2 * this.rows.length);
    const superseded = isNew ? 0 : this.rows[slot]!;
    if (superseded > 0) {
      this.duplicateRows += 1;
      if (this.duplicated[slot] === 0) this.duplicateIds += 1;
      this.duplicated[slot] = 1;
    }
    this.values[slot] = value;
    this.rows[slot] = row;
    return superseded;
  }

  private grow(n: number): void {
    const values = new Float64Array(n);
    values.set(this.values);
    const rows = new Int32Array(n);
    rows.set(this.rows);
    const duplicated = new Uint8Array(n);
    duplicated.set(this.duplicated);
    this.values = values;
    this.rows = rows;
    this.duplicated = duplicated;
  }
}

/** Reads an actual: a finite number for regression, a class label's index for classifiers. */
function actualReader(definition: ModelDefinition, raw: RawRows, column: number): (r: number) => number | Rejection {
  const target = definition.targetColumn;
  if (definition.task === 'regression') {
    // The whole column at once: the reader's own parse (CSV) or one bulk read (Parquet).
    let values = raw.takeNumbers?.(column);
    if (!values && raw.numbers) raw.numbers(column, (values = new Float64Array(raw.rowCount)));
    return (r) => {
      const value = values ? values[r]! : raw.number(column, r);
      if (value === value && value !== Infinity && value !== -Infinity) return value;
      if (raw.isEmpty(column, r)) return { code: 'missing_actual', reason: `the actual ('${target}') is empty` };
      return { code: `not_a_number:${target}`, reason: `the actual ('${target}') is ${JSON.stringify(raw.text(column, r))}, not a finite number` };
    };
  }
  const labels = new Map((definition.classLabels ?? []).map((label, i) => [label, i]));
  return (r) => {
    const text = (raw.symbol ? raw.symbol(column, r) : raw.text(column, r))?.trim();
    if (text === undefined || text === '') return { code: 'missing_actual', reason: `the actual ('${target}') is empty` };
    const index = labels.get(text);
    if (index !== undefined) return index;
    return { code: `unknown_class:${target}`, reason: `the actual ('${target}') is ${JSON.stringify(text)}, not one of the model's class labels` };
  };
}

function quarantined(raw: RawRows, r: number, problem: Rejection) {
  const rawBase64 = raw.rawBytes?.(r);
  return { row: raw.rowNumber(r), code: problem.code, reason: problem.reason, cells: raw.rawCells(r), ...(rawBase64 ? { rawBase64 } : {}) };
}

/**
 * Reads the actuals file, keeping the rows of this bucket. Rows that cannot be read or have no
 * id belong to bucket 0, so that every row is counted by exactly one bucket.
 */
async function readBucketActuals(deps: ActualsDeps, plan: ActualsJoinPlan, bucket: number, sink: LakeLineSink): Promise<BucketActuals> {
  const definition = plan.definition;
  const actuals = new BucketActuals(definition, Math.ceil((plan.rows / plan.buckets) * 1.1) + 16);
  const index = headerIndex(plan.actuals.columns);
  const idColumn = index.get(definition.idColumn)!;
  const targetColumn = index.get(definition.targetColumn)!;
  const numericColumns = definition.task === 'regression' ? [definition.targetColumn] : [];
  const { table } = actuals;
  for (const chunk of plan.actuals.chunks) {
    const opened = await deps.files.open(plan.source.path, chunk, { numericColumns, reuseBuffers: true });
    const width = opened.columns.length;
    for await (const raw of opened.batches) {
      const { bytes, starts, lengths } = idCells(raw, idColumn);
      const actualOf = actualReader(definition, raw, targetColumn);
      for (let r = 0; r < raw.rowCount; r += 1) {
        const fields = raw.fieldCount(r);
        const defect = raw.defect(r) ?? (fields !== width ? `the row has ${fields} fields, the header has ${width}` : undefined);
        const length = lengths[r]!;
        if (defect !== undefined || length < 0) {
          if (bucket !== 0) continue;
          actuals.ownedRows += 1;
          const problem = defect === undefined
            ? { code: 'missing_id', reason: `the id ('${definition.idColumn}') is empty` }
            : { code: raw.defect(r) ? 'unreadable_row' : 'ragged_row', reason: defect };
          actuals.reject(problem.code);
          await sink.write(quarantined(raw, r, problem));
          continue;
        }
        const start = starts[r]!;
        const hash = hashBytes(bytes, start, length);
        if (bucketOfHash(hash, plan.buckets) !== bucket) continue;
        actuals.ownedRows += 1;
        const actual = actualOf(r);
        if (typeof actual !== 'number') {
          actuals.reject(actual.code);
          await sink.write(quarantined(raw, r, actual));
          continue;
        }
        const before = table.size;
        const slot = table.add(bytes, start, length, hash);
        const isNew = table.size > before;
        const previous = isNew ? '' : actuals.actualText(slot);
        const superseded = actuals.put(slot, isNew, actual, raw.rowNumber(r));
        if (superseded > 0) {
          await sink.write({
            row: superseded,
            code: 'duplicate_id',
            reason: `the id appears again in row ${raw.rowNumber(r)}, whose actual counts`,
            cells: [table.text(slot), previous],
          });
        }
      }
    }
  }
  return actuals;
}

/** The winning prediction of each id: the latest run's (plan order), the last row within it. */
export interface Matches {
  /** Per id: the rank (index in plan.runs) of the run it joined to, -1 when none. */
  rank: Int32Array;
  /** Per id: how many prediction rows carry it (saturating at 255). */
  carried: Uint8Array;
  predictions: SlotColumns;
}

/** A part's batches, every chunk in order. */
async function* partBatches(deps: ActualsDeps, part: string, partPlan: ChunkPlan): AsyncGenerator<RawRows> {
  // Matching copies out what it keeps: the reader may decode into the same memory batch after batch.
  for (const chunk of partPlan.chunks) yield* (await deps.files.open(part, chunk, { reuseBuffers: true })).batches;
}

/**
 * A part removed after the plan found it fails the join naming the run and the part. Every bucket
 * joins against the plan's runs, so one bucket cannot leave the run out alone (its ids would join
 * older predictions than the other buckets' ids); a new version of the actuals file is planned
 * again and leaves the run out from the start.
 */
function partGone(runId: string, part: string): Error {
  return errors.invalidInputFile(
    `the predictions part '${part}' of run '${runId}' was removed while the join read it (it was there when the join was planned); upload the actuals file again to join it without that run`,
    { runId, part },
  );
}

/**
 * A part that the plan could open but that fails to read (damaged since, or a page past its
 * footer) is named with its run, not reported as if the actuals file were unreadable.
 */
function partUnreadable(runId: string, part: string, message: string): Error {
  return errors.invalidInputFile(
    `the predictions part '${part}' of run '${runId}' cannot be read: ${message}; upload the actuals file again to join it without that run`,
    { runId, part },
  );
}

function namingPart(runId: string, part: string, error: unknown): unknown {
  if (!isDomainError(error)) return error;
  if (error.code === 'NOT_FOUND') return partGone(runId, part);
  return error.code === 'INVALID_INPUT_FILE' ? partUnreadable(runId, part, error.message) : error;
}

async function whilePartThere<T>(runId: string, part: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw namingPart(runId, part, error);
  }
}

async function* namingGonePart(runId: string, part: string, batches: AsyncGenerator<RawRows>): AsyncGenerator<RawRows> {
  try {
    yield* batches;
  } catch (error) {
    throw namingPart(runId, part, error);
  }
}

/** The generator, already reading its first batch (a part is fetched while the one before it is joined). */
function started(batches: AsyncGenerator<RawRows>): AsyncGenerator<RawRows> {
  const first = batches.next();
  // A read the join never awaits (it failed on the part before) must not be an unhandled rejection.
  first.catch(() => undefined);
  return (async function* () {
    try {
      const head = await first;
      if (head.done) return;
      yield head.value;
      yield* batches;
    } finally {
      await batches.return(undefined);
    }
  })();
}

interface OpenedPart {
  k: number;
  columns: readonly string[];
  idColumn: number;
  batches: AsyncGenerator<RawRows>;
}

/** The parts of the plan's runs, newest run first, each opened while the one before it is read. */
async function* partsAhead(deps: ActualsDeps, plan: MatchPlan): AsyncGenerator<OpenedPart> {
  const parts = plan.runs.flatMap((run, k) => run.parts.map((part) => ({ part, k })));
  const open = async ({ part, k }: { part: string; k: number }): Promise<OpenedPart> => {
    const partPlan = await whilePartThere(plan.runs[k]!.runId, part, () => deps.files.plan(part, WHOLE_FILE));
    const idColumn = partPlan.columns.indexOf(plan.definition.idColumn);
    if (idColumn < 0) throw errors.invalidInputFile(`the predictions part '${part}' has no id column '${plan.definition.idColumn}'`, { part });
    const batches = partBatches(deps, part, partPlan);
    return { k, columns: partPlan.columns, idColumn, batches: started(namingGonePart(plan.runs[k]!.runId, part, batches)) };
  };
  let next = parts.length > 0 ? open(parts[0]!) : undefined;
  try {
    for (let i = 0; i < parts.length; i += 1) {
      const current = await next!;
      next = i + 1 < parts.length ? open(parts[i + 1]!) : undefined;
      // A part opened ahead that fails is reported when its turn comes, not as an unhandled rejection.
      next?.catch(() => undefined);
      try {
        yield current;
      } finally {
        await current.batches.return(undefined);
      }
    }
  } finally {
    // Stopped early (a failure, or the consumer broke off): the part opened ahead is closed too.
    if (next) await (await next.catch(() => undefined))?.batches.return(undefined);
  }
}

/** Streams the plan's predictions parts once, keeping the winning prediction of each of the bucket's ids. */
export async function matchPredictions(deps: ActualsDeps, plan: MatchPlan, bucket: number, actuals: BucketActuals): Promise<Matches> {
  const definition = plan.definition;
  const { table } = actuals;
  const n = table.size;
  const rank = new Int32Array(n).fill(-1);
  const carried = new Uint8Array(n);
  const predictions = new SlotColumns(outputColumns(definition).slice(1), n);
  let rows = new Int32Array(0);
  let slots = new Int32Array(0);
  if (n === 0) return { rank, carried, predictions };
  for await (const { k, columns, idColumn, batches } of partsAhead(deps, plan)) {
    const copy = predictions.copier(columns);
    for await (const raw of batches) {
      if (rows.length < raw.rowCount) {
        rows = new Int32Array(raw.rowCount);
        slots = new Int32Array(raw.rowCount);
      }
      const { bytes, starts, lengths } = idCells(raw, idColumn);
      let found = 0;
      for (let r = 0; r < raw.rowCount; r += 1) {
        const length = lengths[r]!;
        if (length < 0) continue;
        const start = starts[r]!;
        const hash = hashBytes(bytes, start, length);
        if (plan.buckets > 1 && bucketOfHash(hash, plan.buckets) !== bucket) continue;
        const slot = table.find(bytes, start, length, hash);
        if (slot < 0) continue;
        if (carried[slot]! < 255) carried[slot] = carried[slot]! + 1;
        const was = rank[slot]!;
        // Runs are read newest first: a match in an older run never replaces one.
        if (was !== -1 && was !== k) continue;
        rank[slot] = k;
        rows[found] = r;
        slots[found] = slot;
        found += 1;
      }
      copy(raw, rows, slots, found);
    }
  }
  return { rank, carried, predictions };
}

/** Matched ids grouped by the window of their prediction (its timestamp, else its run's arrival). */
export function byWindow(plan: MatchPlan, matches: Matches): Map<string, Int32Array> {
  const definition = plan.definition;
  const length = windowLengthMs(plan.window);
  const timestamps = definition.timestampColumn ? matches.predictions.numbers(definition.timestampColumn) : undefined;
  const arrival = plan.runs.map((run) => Date.parse(run.arrivalWindow.start));
  const starts = new Float64Array(matches.rank.length);
  const counts = new Map<number, number>();
  matches.rank.forEach((k, slot) => {
    if (k < 0) return;
    const t = timestamps?.[slot] ?? NaN;
    const start = t === t ? windowStartOf(t, length) : arrival[k]!;
    starts[slot] = start;
    counts.set(start, (counts.get(start) ?? 0) + 1);
  });
  const lists = new Map<number, { slots: Int32Array; filled: number }>();
  for (const [start, count] of counts) lists.set(start, { slots: new Int32Array(count), filled: 0 });
  matches.rank.forEach((k, slot) => {
    if (k < 0) return;
    const list = lists.get(starts[slot]!)!;
    list.slots[list.filled++] = slot;
  });
  return new Map([...lists].sort(([a], [b]) => a - b).map(([start, list]) => [windowIdOf(start), list.slots]));
}

/**
 * The file's realised metrics from a single bucket's rows (every matched row of the file): the
 * rows summarizeLabelled would read from its labelled files, in the same order (window, then
 * file order) and with the same sample, without reading them back.
 */
function fileMetrics(deps: ActualsDeps, plan: ActualsJoinPlan, actuals: BucketActuals, matches: Matches, windows: Map<string, Int32Array>): SegmentedMetricReport | null {
  const def = plan.definition;
  const matched = [...windows.values()].reduce((sum, slots) => sum + slots.length, 0);
  const end = sampleEnd(Math.max(1, Math.ceil(matched / deps.settings.metricsMaxRows)));
  const slots = [...windows.values()].flatMap((list) => [...list].filter((slot) => actuals.table.hash(slot) < end));
  const columns =
    def.task === 'regression' ? [def.predictionColumns.prediction] : def.classLabels!.map((label) => `${def.predictionColumns.probabilityPrefix}${label}`);
  const values = columns.map((name) => matches.predictions.numbers(name)!);
  const predicted = new Float64Array(slots.length * columns.length);
  slots.forEach((slot, i) => values.forEach((v, c) => (predicted[i * columns.length + c] = v[slot]!)));
  const actual = Float64Array.from(slots, (slot) => actuals.values[slot]!);
  const segments = def.segmentKeys.map((key) => slots.map((slot) => matches.predictions.text(key, slot)));
  return realisedMetrics(def, actual, predicted, segments, deps.settings.bootstrapResamples, deps.settings.segmentMaxValues);
}

/** Labelled pieces held at once: one uploading while the next is encoded. */
const PIECES_IN_FLIGHT = 2;

/** Writes one window's labelled rows of this bucket as a Parquet piece, in file order of the actuals. */
export async function writePiece(deps: ActualsDeps, plan: MatchPlan, actuals: BucketActuals, matches: Matches, slots: Int32Array, path: string): Promise<void> {
  const definition = plan.definition;
  const sink = deps.files.parquetSink();
  const arrivedAt = Date.parse(plan.source.lastModified);
  for (let from = 0; from < slots.length; from += OUTPUT_ROW_GROUP_ROWS) {
    const to = Math.min(slots.length, from + OUTPUT_ROW_GROUP_ROWS);
    const n = to - from;
    const ids = new Array<string>(n);
    const actual = definition.task === 'regression' ? new Float64Array(n) : new Array<string>(n);
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i += 1) {
      const slot = slots[from + i]!;
      ids[i] = actuals.table.text(slot);
      if (actual instanceof Float64Array) actual[i] = actuals.values[slot]!;
      else actual[i] = actuals.actualText(slot);
      rows[i] = actuals.rows[slot]!;
    }
    const group: OutputColumn[] = [
      { name: definition.idColumn, type: 'string', values: ids },
      ...matches.predictions.gather(slots, from, to),
      { name: ACTUAL_COLUMN, type: actual instanceof Float64Array ? 'double' : 'string', values: actual },
      { name: ACTUALS_ID_COLUMN, type: 'string', values: new Array<string>(n).fill(plan.actualsId) },
      { name: ACTUALS_ROW_COLUMN, type: 'int32', values: rows },
      { name: ACTUALS_AT_COLUMN, type: 'timestamp', values: new Float64Array(n).fill(arrivedAt) },
    ];
    sink.writeRowGroup(group);
  }
  await deps.lake.write(path, sink.finish(), { contentType: 'application/vnd.apache.parquet' });
}

/**
 * Joins one bucket of an actuals file (the ids in one hash range) to the stored predictions of
 * the plan's runs: reads the file keeping this bucket's ids (memory bounded by the bucket size),
 * streams every predictions part once keeping each id's winning prediction, then writes the
 * labelled rows per window (into place when it is the only bucket, else into the join's work
 * folder) and every row it cannot join to quarantine with its reason. Its outputs depend only
 * on the plan and the bucket, so a retry overwrites them.
 */
export async function joinActualsBucket(deps: ActualsDeps, input: { model: string; actualsId: string; bucket: number }): Promise<BucketSummary> {
  const plan = await readPlan(deps.lake, input.model, input.actualsId);
  if (input.bucket >= plan.buckets) throw errors.validation(`bucket ${input.bucket} of a join planned with ${plan.buckets}`);
  const sink = new LakeLineSink(deps.lake, quarantinePath(plan.model, plan.actualsId, input.bucket));
  try {
    return await joinBucket(deps, plan, input.bucket, sink);
  } catch (error) {
    // A failed attempt's quarantine upload, open since its first line, would hold its buffers for the worker's life.
    await sink.abort();
    throw error;
  }
}

async function joinBucket(deps: ActualsDeps, plan: ActualsJoinPlan, bucket: number, sink: LakeLineSink): Promise<BucketSummary> {
  const lap = stopwatch();
  const actuals = await readingUnchanged(deps.lake, plan.source, () => readBucketActuals(deps, plan, bucket, sink));
  const readActuals = lap();
  const matches = await matchPredictions(deps, plan, bucket, actuals);
  const matchPredictionsMs = lap();
  const windows: BucketSummary['windows'] = [];
  const grouped = byWindow(plan, matches);
  const uploads: Promise<void>[] = [];
  try {
    for (const [windowId, slots] of grouped) {
      // A single bucket's piece is the window's labelled file itself: nothing to put together later.
      const path =
        plan.buckets === 1 ? lakePaths.labelled(plan.model, windowId, plan.actualsId) : work.labelledPiece(plan.model, plan.actualsId, windowId, bucket);
      if (uploads.length === PIECES_IN_FLIGHT) await uploads.shift();
      // Encoded now, uploaded while the next piece is encoded; a failure is thrown when awaited.
      const upload = writePiece(deps, plan, actuals, matches, slots, path);
      upload.catch(() => undefined);
      uploads.push(upload);
      windows.push({ windowId, rows: slots.length });
    }
    await Promise.all(uploads);
  } catch (error) {
    // Nothing of this attempt is left writing when the activity reports its failure.
    await Promise.allSettled(uploads);
    throw error;
  }
  const writeLabelled = lap();
  let unmatched = 0;
  let rescoredIds = 0;
  const since = plan.lookbackFrom;
  const skipped = plan.skippedRuns?.length ?? 0;
  const leftOut = skipped > 0 ? `; ${skipped} run(s) left out, their predictions gone or damaged: see the record's skippedRuns` : '';
  for (let slot = 0; slot < actuals.table.size; slot += 1) {
    if (matches.carried[slot]! > 1) rescoredIds += 1;
    if (matches.rank[slot]! >= 0) continue;
    unmatched += 1;
    await sink.write({
      row: actuals.rows[slot]!,
      code: 'unmatched',
      reason: `no stored prediction has this id (completed runs created since ${since}${leftOut})`,
      cells: [actuals.table.text(slot), actuals.actualText(slot)],
    });
  }
  const wroteQuarantine = await sink.close();
  const quarantineUnmatched = lap();
  const metrics = plan.buckets === 1 ? fileMetrics(deps, plan, actuals, matches, grouped) : undefined;
  return {
    bucket,
    rows: actuals.ownedRows,
    rejectionReasons: actuals.rejectionReasons,
    matched: actuals.table.size - unmatched,
    unmatched,
    duplicateIds: actuals.duplicateIds,
    duplicateRows: actuals.duplicateRows,
    rescoredIds,
    windows,
    ...(wroteQuarantine ? { quarantinePath: sink.path } : {}),
    ...(metrics !== undefined ? { metrics } : {}),
    durationsMs: { readActuals, matchPredictions: matchPredictionsMs, writeLabelled, quarantineUnmatched, metrics: lap() },
  };
}
