/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import { actualsJoinStart } from '../../../functions/blob/actuals';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { actualsIdOf } from '../../../shared/domain/actuals';
import { errors, isDomainError } from '../../../shared/domain/errors';
import { lakePaths } from '../../../shared/domain/lake-paths';
import { computeMetricsByKeys } from '../../../shared/domain/metrics';
import type { ModelDefinition } from '../../../shared/schemas/model';
import type { MonitoringWindow } from '../../../shared/schemas/monitoring';
import { planActualsJoin } from '../../../shared/usecases/actuals/plan';
import { refreshWindowPerformance } from '../../../shared/usecases/actuals/window';
import {
  aChurnModel,
  actualsCsv,
  type ActualsWorld,
  actualsWorld,
  aDemandModel,
  BIAS,
  dropActuals,
  type DropRow,
  joinInProcess,
  scoredRun,
  WEIGHTS,
} from '../../support/actuals-kit';
import { anInferenceRun } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';
import { RecordingPublisher } from '../../support/recording-publisher';
import { parquetOf, readParquetRows, withFooterRows } from '../../support/scoring-fixtures';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const predictionOf = (x1: number, x2: number) => Math.fround(Math.fround(Math.fround(x1 * WEIGHTS[0]!) + Math.fround(x2 * WEIGHTS[1]!)) + BIAS);

async function world(definition: ModelDefinition = aDemandModel(), settings = {}) {
  const lake = new MemoryLake();
  const events = new RecordingPublisher();
  const w = await actualsWorld({ definition, lake, registry: new InMemoryModelRegistry(), runs: inMemoryRunStore(), events, runtime }, settings);
  return { w, lake, events };
}

/** Two days of a drop: ids d0..d5, north and south, three rows a day. */
const DAY1 = '20260301T0000Z';
const DAY2 = '20260302T0000Z';
const sixRows: DropRow[] = [
  { id: 'd0', ts: '2026-03-01T08:00:00Z', x1: 1, x2: 0.5, region: 'north' },
  { id: 'd1', ts: '2026-03-01T09:00:00Z', x1: 2, x2: -1, region: 'south' },
  { id: 'd2', ts: '2026-03-01T23:59:59Z', x1: -1, x2: 2, region: 'north' },
  { id: 'd3', ts: '2026-03-02T00:00:00Z', x1: 0, x2: 0, region: 'south' },
  { id: 'd4', ts: '2026-03-02T10:00:00Z', x1: 3, x2: 1, region: 'north' },
  { id: 'd5', ts: '2026-03-02T11:00:00Z', x1: 0.5, x2: 0.25, region: 'south' },
];
const sixActuals = [7, 1, 5, 2, 10, 3];

async function labelledRows(w: ActualsWorld, windowId: string, actualsId: string) {
  return readParquetRows(await w.lake.readBuffer(lakePaths.labelled(w.definition.name, windowId, actualsId)));
}

async function windowDoc(w: ActualsWorld, windowId: string): Promise<MonitoringWindow | undefined> {
  return (await w.runs.windows.get(w.definition.name, windowId))?.value;
}

describe('actuals join (use cases, in memory)', () => {
  it('when actuals match stored predictions, then each window gets a labelled file of prediction columns plus the actual, the record counts add up and realised metrics are the rows\'', async () => {
    const { w, lake, events } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const input = await dropActuals(w, '2026/03/sales.csv', actualsCsv(['id', 'sales'], sixRows.map((r, i) => [r.id, sixActuals[i]!])));
    const { record, outcome } = await joinInProcess(w, input);

    const actualsId = actualsIdOf(input.path, input.etag);
    expect(record?.error).toBeUndefined();
    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ actualsId, state: 'completed', rows: 6, matched: 6, unmatched: 0, duplicateIds: 0, duplicateRows: 0, rescoredIds: 0, rejectionReasons: {}, windows: [DAY1, DAY2] });
    expect(actualsId).toMatch(/^2026_03_sales\.csv-[0-9a-f]{16}$/);

    const day1 = await labelledRows(w, DAY1, actualsId);
    expect(day1.map((r) => r.id)).toEqual(['d0', 'd1', 'd2']);
    expect(Object.keys(day1[0]!)).toEqual(['id', 'ts', 'region', 'prediction', 'model_version', 'run_id', 'source_row', 'source_file', 'actual', 'actuals_id', 'actuals_row', 'actuals_at']);
    expect(day1[0]).toMatchObject({ region: 'north', prediction: predictionOf(1, 0.5), model_version: 1, run_id: 'run-1', source_row: 1, source_file: expect.stringMatching(/^drops\/demand\/.+\.csv$/), actual: 7, actuals_id: actualsId, actuals_row: 1 });
    expect((await labelledRows(w, DAY2, actualsId)).map((r) => [r.id, r.actual])).toEqual([['d3', 2], ['d4', 10], ['d5', 3]]);

    // The record's metrics are computeMetricsByKeys over the six matched rows.
    const predicted = Float64Array.from(sixRows, (r) => predictionOf(Number(r.x1), Number(r.x2)));
    const expected = computeMetricsByKeys('regression', { actual: Float64Array.from(sixActuals), predicted }, ['region'], { region: sixRows.map((r) => r.region) }, { bootstrap: { resamples: 50 } });
    expect(record!.metrics).toEqual(expected);
    expect(record!.metrics!.segments.map((s) => s.segment)).toEqual(['region=north', 'region=south']);

    // Batch inference has not counted the window's predictions: coverage unknown (0), provisional.
    const w1 = await windowDoc(w, DAY1);
    expect(w1).toMatchObject({ modelName: 'demand', window: { id: DAY1, start: '2026-03-01T00:00:00.000Z' }, version: 1, predictions: 0, labelled: 3, labelCoverage: 0, drift: null });
    expect(w1!.performance).toMatchObject({ provisional: true, metrics: { overall: { rows: 3 } } });

    expect(events.ofType('run.completed')).toEqual([
      expect.objectContaining({ eventId: `actuals-join:${actualsId}:completed`, model: 'demand', data: { runId: actualsId, kind: 'actuals-join', rows: 6, quarantinedRows: 0 } }),
    ]);
    expect([...lake.objects.keys()].filter((k) => k.startsWith('datasets/demand/actuals-work/'))).toEqual([]);
    expect([...lake.objects.keys()].filter((k) => k.startsWith(`quarantine/demand/${actualsId}/`))).toEqual([]);
  });

  it('when the region column carries one value per row (a data bug), then the record and the window keep the 100 most frequent regions (SEGMENT_MAX_VALUES) and count the rest as region=__other__', async () => {
    const { w } = await world();
    // 40 rows of north, then 360 rows whose region is a value of its own.
    const rows: DropRow[] = Array.from({ length: 400 }, (_, i) => ({ id: `g${i}`, ts: '2026-03-01T08:00:00Z', x1: i / 100, x2: 1, region: i < 40 ? 'north' : `junk-${String(i).padStart(3, '0')}` }));
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows });
    const input = await dropActuals(w, 'junk.csv', actualsCsv(['id', 'sales'], rows.map((r, i) => [r.id, i % 7])));
    const { record } = await joinInProcess(w, input);
    expect(record).toMatchObject({ state: 'completed', matched: 400 });
    const capped = { region: { limit: 100, distinctValues: 361, foldedValues: 261, foldedRows: 261 } };
    for (const metrics of [record!.metrics!, (await windowDoc(w, DAY1))!.performance!.metrics]) {
      expect(metrics.segments).toHaveLength(101);
      expect(metrics.segments.find((s) => s.segment === 'region=north')?.rows).toBe(40);
      expect(metrics.segments.find((s) => s.segment === 'region=__other__')?.rows).toBe(261);
      expect(metrics.cappedSegments).toEqual(capped);
      expect(metrics.overall.rows).toBe(400);
    }
    // A lower setting holds fewer.
    const tight = await world(aDemandModel(), { segmentMaxValues: 3 });
    await scoredRun(tight.w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows });
    const joined = await joinInProcess(tight.w, await dropActuals(tight.w, 'junk.csv', actualsCsv(['id', 'sales'], rows.map((r, i) => [r.id, i % 7]))));
    expect(joined.record!.metrics!.segments.map((s) => s.segment)).toEqual(['region=__other__', 'region=junk-040', 'region=junk-041', 'region=north']);
    expect(joined.record!.metrics!.cappedSegments).toEqual({ region: { limit: 3, distinctValues: 361, foldedValues: 358, foldedRows: 358 } });
  });

  it('when ids repeat, have no stored prediction, or rows lack an id or a usable actual, then each is counted by reason and quarantined, none dropped', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const body = [
      'id,sales,note',
      'd0,7,first',
      'd1,1,',
      'd0,8,again', // d0 again: this row counts, row 1 is superseded
      ',4,no id',
      'd2,,no actual',
      'd3,abc,not a number',
      'zz,5,never scored',
      'd4,10',
      'd5,3,x',
    ].join('\n');
    const input = await dropActuals(w, 'mixed.csv', `${body}\n`);
    const { record } = await joinInProcess(w, input);
    const actualsId = actualsIdOf(input.path, input.etag);

    expect(record).toMatchObject({
      rows: 9,
      matched: 3, // d0 (row 3), d1, d5
      unmatched: 1, // zz
      duplicateIds: 1,
      duplicateRows: 1,
      rejectionReasons: { missing_id: 1, missing_actual: 1, 'not_a_number:sales': 1, ragged_row: 1 },
      quarantineFolder: `quarantine/demand/${actualsId}/`,
    });
    const r = record!;
    const rejected = Object.values(r.rejectionReasons).reduce((a, b) => a + b, 0);
    expect(rejected + r.matched + r.unmatched + r.duplicateRows!).toBe(r.rows);

    const lines = (await w.lake.readBuffer(`quarantine/demand/${actualsId}/bucket-00000.jsonl`)).toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.row, l.code])).toEqual([
      [1, 'duplicate_id'],
      [4, 'missing_id'],
      [5, 'missing_actual'],
      [6, 'not_a_number:sales'],
      [8, 'ragged_row'],
      [7, 'unmatched'],
    ]);
    expect(lines[0]).toMatchObject({ cells: ['d0', '7'], reason: expect.stringMatching(/appears again in row 3/) });
    expect(lines[1]).toMatchObject({ cells: ['', '4', 'no id'] });
    expect(lines[5]).toMatchObject({ cells: ['zz', '5'], reason: expect.stringMatching(/no stored prediction has this id/) });
    expect((await labelledRows(w, DAY1, actualsId)).map((row) => [row.id, row.actual, row.actuals_row])).toEqual([['d0', 8, 3], ['d1', 1, 2]]);
  });

  it('when an id was scored by several runs, then it joins the latest run\'s prediction and counts as rescored; runs older than the lookback are not searched', async () => {
    const { w } = await world(aDemandModel(), { lookback: 'P30D' });
    const row = (id: string, x1: number): DropRow => ({ id, ts: '2026-03-01T08:00:00Z', x1, x2: 0, region: 'north' });
    await scoredRun(w, { runId: 'run-old', createdAt: '2026-03-02T00:00:00Z', rows: [row('a', 1), row('b', 1)] });
    await scoredRun(w, { runId: 'run-new', createdAt: '2026-03-05T00:00:00Z', rows: [row('a', 5), row('a', 6)] });
    await scoredRun(w, { runId: 'run-ancient', createdAt: '2026-01-01T00:00:00Z', rows: [row('c', 1)] });
    const input = await dropActuals(w, 'late.csv', actualsCsv(['id', 'sales'], [['a', 1], ['b', 2], ['c', 3]]));
    const { record } = await joinInProcess(w, input);

    expect(record).toMatchObject({ matched: 2, unmatched: 1, rescoredIds: 1 });
    const rows = await labelledRows(w, DAY1, actualsIdOf(input.path, input.etag));
    // a: the newer run, and within it the later row; b: only the older run has it.
    expect(rows.map((r) => [r.id, r.run_id, r.source_row, r.prediction])).toEqual([
      ['a', 'run-new', 2, predictionOf(6, 0)],
      ['b', 'run-old', 2, predictionOf(1, 0)],
    ]);
  });

  it('when the model has a long history of runs, then the plan reads only the run documents created within the lookback', async () => {
    const { w } = await world(aDemandModel(), { lookback: 'P30D' });
    for (let n = 0; n < 500; n++) {
      const runId = `run-${String(n).padStart(3, '0')}`;
      await w.runs.runs.create(w.definition.name, runId, anInferenceRun(w.definition.name, runId, { state: 'completed', createdAt: new Date(Date.parse('2025-01-01T00:00:00Z') + n * 3_600_000).toISOString() }));
    }
    await scoredRun(w, { runId: 'run-recent', createdAt: '2026-03-05T00:00:00.000Z', rows: sixRows });
    let runDocumentsRead = 0;
    const runs = w.runs.runs;
    const [list, listReadable, listCreatedSince] = [runs.list.bind(runs), runs.listReadable.bind(runs), runs.listCreatedSince.bind(runs)];
    runs.list = async (model) => tally(await list(model));
    runs.listReadable = async (model) => {
      const listing = await listReadable(model);
      runDocumentsRead += listing.unreadable.length;
      return { ...listing, documents: tally(listing.documents) };
    };
    runs.listCreatedSince = async (model, since) => tally(await listCreatedSince(model, since));
    function tally<T>(documents: T[]): T[] {
      runDocumentsRead += documents.length;
      return documents;
    }

    const { record } = await joinInProcess(w, await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], sixRows.map((r, i) => [r.id, sixActuals[i]!]))));

    expect(record).toMatchObject({ state: 'completed', matched: 6, unmatched: 0 });
    expect(runDocumentsRead).toBe(1);
  });

  it('when a stored predictions part cannot be read (it is opened while the part before it is joined), then the join fails with the reason on its record', async () => {
    const { w } = await world();
    const row = (id: string): DropRow => ({ id, ts: '2026-03-01T08:00:00Z', x1: 1, x2: 0, region: 'north' });
    await scoredRun(w, { runId: 'run-old', createdAt: '2026-03-02T00:00:00Z', rows: [row('a'), row('b')] });
    await scoredRun(w, { runId: 'run-new', createdAt: '2026-03-05T00:00:00Z', rows: [row('a')] });
    // The older run's part is read second: it is the one opened ahead.
    const parts: string[] = [];
    for await (const o of w.lake.list(lakePaths.predictionsRunFolder(w.definition.name, 1, 'run-old'))) if (o.path.endsWith('.parquet')) parts.push(o.path);
    expect(parts).toHaveLength(1);
    const input = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['a', 1], ['b', 2]]));

    // Damaged after the plan opened it (a part damaged before is left out of the join by the plan).
    const { outcome, record } = await joinInProcess(w, input, { afterPlan: async () => void (await w.lake.write(parts[0]!, randomBytes(4096))) });

    expect(outcome).toBe('failed');
    expect(record).toMatchObject({ state: 'failed', error: expect.stringMatching(/not a readable Parquet file/) });
  });

  it('when a bucket fails after its quarantine upload began, then that upload is abandoned (settled, nothing stored) instead of left open for the worker\'s life', async () => {
    const { w, lake } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const damage = async () => {
      for await (const o of w.lake.list(lakePaths.predictionsRunFolder('demand', 1, 'run-1'))) if (o.path.endsWith('.parquet')) await w.lake.write(o.path, randomBytes(4096));
    };
    // Enough rejected rows that their quarantine lines are flushed (the upload starts) before matching fails.
    const rejected = Array.from({ length: 2000 }, (_, i) => [`r${i}`, `not a number ${'x'.repeat(40)}`]);
    const input = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [...rejected, ['d0', 7]]));
    const quarantineWrites: Promise<unknown>[] = [];
    const write = w.lake.write.bind(w.lake);
    w.deps.lake = Object.assign(Object.create(w.lake) as typeof w.lake, {
      write: (...args: Parameters<typeof w.lake.write>) => {
        const written = write(...args);
        if (args[0].startsWith('quarantine/')) quarantineWrites.push(written);
        return written;
      },
    });

    // Damaged after the plan opened it (a part damaged before is left out of the join by the plan).
    const { outcome, record } = await joinInProcess(w, input, { afterPlan: damage });
    expect(outcome).toBe('failed');
    expect(record).toMatchObject({ state: 'failed', error: expect.stringMatching(/not a readable Parquet file/) });
    expect(quarantineWrites).toHaveLength(1);
    const settled = await Promise.race([Promise.allSettled(quarantineWrites).then(() => 'settled'), new Promise((resolve) => setTimeout(resolve, 200, 'still open'))]);
    expect(settled).toBe('settled');
    expect([...lake.objects.keys()].filter((k) => k.startsWith('quarantine/'))).toEqual([]);
  });

  it('when late actuals arrive for a window, then its metrics are recomputed from all its labelled files, the later file wins for an id, and counts others wrote are kept', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    // Batch inference and the monitor wrote the window first.
    const day1Doc: MonitoringWindow = {
      modelName: 'demand',
      window: { id: DAY1, start: '2026-03-01T00:00:00.000Z', end: '2026-03-02T00:00:00.000Z' },
      version: 1,
      predictions: 4,
      labelled: 0,
      labelCoverage: 0,
      performance: null,
      drift: null,
      performanceVerdict: 'insufficient_data',
    };
    await w.runs.windows.create('demand', DAY1, day1Doc);

    const first = await dropActuals(w, 'first.csv', actualsCsv(['id', 'sales'], [['d0', 7], ['d1', 1]]));
    w.now = new Date('2026-03-10T12:00:00Z');
    await joinInProcess(w, { ...first, lastModified: '2026-03-10T12:00:00.000Z' });
    expect(await windowDoc(w, DAY1)).toMatchObject({ predictions: 4, labelled: 2, labelCoverage: 0.5, performance: { provisional: false } });

    // A week later: d1 corrected, d2 new (same window).
    w.now = new Date('2026-03-17T12:00:00Z');
    const late = await dropActuals(w, 'late.csv', actualsCsv(['id', 'sales'], [['d1', 2], ['d2', 5]]));
    const lateInput = { ...late, lastModified: '2026-03-17T12:00:00.000Z' };
    const { record } = await joinInProcess(w, lateInput);
    expect(record).toMatchObject({ matched: 2, windows: [DAY1] });

    const doc = (await windowDoc(w, DAY1))!;
    expect(doc).toMatchObject({ predictions: 4, labelled: 3, labelCoverage: 0.75, performanceVerdict: 'insufficient_data', drift: null, version: 1 });
    expect(doc.performance!.updatedAt).toBe('2026-03-17T12:00:00.000Z');
    const predicted = Float64Array.from(sixRows.slice(0, 3), (r) => predictionOf(Number(r.x1), Number(r.x2)));
    const expected = computeMetricsByKeys('regression', { actual: Float64Array.from([7, 2, 5]), predicted }, ['region'], { region: ['north', 'south', 'north'] }, { bootstrap: { resamples: 50 } });
    expect(doc.performance!.metrics).toEqual(expected);
    // Both files' labelled data stay: the window's history of actuals.
    expect((await labelledRows(w, DAY1, record!.actualsId)).map((r) => r.id)).toEqual(['d1', 'd2']);
  });

  it('when the window document changes on every write (a burst of files for one window), then its update fails as an outage the orchestration retries, not as the file\'s own failure', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    await joinInProcess(w, await dropActuals(w, 'first.csv', actualsCsv(['id', 'sales'], [['d0', 7]])));
    // Another writer lands between each read and write of the window.
    let writes = 0;
    const windows = w.runs.windows;
    w.deps.runs = {
      ...w.runs,
      windows: Object.assign(Object.create(windows) as typeof windows, {
        replace: async () => {
          writes += 1;
          throw errors.concurrencyConflict('the window changed');
        },
      }),
    };

    const { outcome, thrown } = await joinInProcess(w, await dropActuals(w, 'second.csv', actualsCsv(['id', 'sales'], [['d1', 1]])));
    expect(outcome).toBe('failed');
    expect(writes).toBe(20);
    // defineActivity returns a DomainError as the join's failure; anything else is retried with backoff.
    expect(isDomainError(thrown)).toBe(false);
    expect((thrown as Error).message).toBe(`window ${DAY1} of 'demand' changed on each of 20 writes (other joins, batch inference or the monitor writing it); retried later`);
  });

  it('when an actual is finite but so large that squared errors overflow, then the file still joins and the window\'s overflowing metrics are null with a reason, so later files of the window join too', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const huge = await dropActuals(w, 'huge.csv', actualsCsv(['id', 'sales'], [['d0', 1e308], ['d1', 1]]));
    const first = await joinInProcess(w, huge);
    expect(first.record?.error).toBeUndefined();
    expect(first.record).toMatchObject({ state: 'completed', rows: 2, matched: 2, windows: [DAY1] });
    expect(first.record!.metrics!.overall.metrics.rmse).toMatchObject({ value: null, reason: expect.stringMatching(/not a finite number/) });

    // Another file for the same window (d0 keeps its huge actual): the window is not stuck.
    const later = await dropActuals(w, 'later.csv', actualsCsv(['id', 'sales'], [['d2', 5]]));
    const second = await joinInProcess(w, later);
    expect(second.record?.error).toBeUndefined();
    expect(second.record).toMatchObject({ state: 'completed', matched: 1 });
    const doc = (await windowDoc(w, DAY1))!;
    expect(doc).toMatchObject({ labelled: 3 });
    expect(doc.performance!.metrics.overall.metrics.rmse).toMatchObject({ value: null, reason: expect.stringMatching(/not a finite number/) });
    expect(doc.performance!.metrics.overall.metrics.mean_error!.value).toBeCloseTo((predictionOf(1, 0.5) - 1e308 + predictionOf(2, -1) - 1 + predictionOf(-1, 2) - 5) / 3, 0);
  });

  it('when the upload of one window\'s labelled file fails while the next is uploading, then the join fails with that error once both have settled', async () => {
    const { w, lake } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const input = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], sixRows.map((r, i) => [r.id, sixActuals[i]!])));
    const write = lake.write.bind(lake);
    const settled: string[] = [];
    // DAY1's upload fails late, after DAY2's has been started: the join must not report before DAY2's ends.
    lake.write = async (path, body, options) => {
      if (!path.includes('/labelled/')) return write(path, body, options);
      await new Promise((resolve) => setTimeout(resolve, path.includes(DAY1) ? 20 : 60));
      settled.push(path.includes(DAY1) ? DAY1 : DAY2);
      if (path.includes(DAY1)) throw new Error('the lake refused the labelled file');
      return write(path, body, options);
    };
    const { record, outcome } = await joinInProcess(w, input);
    expect(outcome).toBe('failed');
    expect(record).toMatchObject({ state: 'failed', error: expect.stringMatching(/the lake refused the labelled file/) });
    expect(settled).toEqual([DAY1, DAY2]);
  });

  it('when the same actuals file version is joined twice, then there is one record and the second join does nothing', async () => {
    const { w, events } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const input = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['d0', 7]]));
    const first = await joinInProcess(w, input);
    const again = await joinInProcess(w, input);
    expect(first.outcome).toBe('completed');
    expect(again.outcome).toBe('done');
    expect(await w.runs.actuals.list('demand')).toHaveLength(1);
    expect(events.ofType('run.completed')).toHaveLength(1);

    // A new version of the same blob is a new file; the event of the old one finds it superseded.
    const replaced = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['d0', 8]]));
    expect((await joinInProcess(w, { ...input, etag: '"an-older-etag"' })).outcome).toBe('superseded');
    expect((await joinInProcess(w, replaced)).outcome).toBe('completed');
    expect(await w.runs.actuals.list('demand')).toHaveLength(2);
  });

  it('when the file is replaced while its join reads it, then that join fails saying so (nothing labelled under its id) and the new version joins on its own', async () => {
    const { w, lake } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const input = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['d0', 7], ['d1', 1]]));
    let replaced: Awaited<ReturnType<typeof dropActuals>> | undefined;
    const open = w.files.open.bind(w.files);
    // The join has opened the file (and reads its old bytes) when a new version is written.
    w.deps.files = Object.assign(Object.create(w.files) as typeof w.files, {
      open: async (...args: Parameters<typeof w.files.open>) => {
        const opened = await open(...args);
        if (args[0] === input.path && !replaced) replaced = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['d2', 5]]));
        return opened;
      },
    });

    const { record, outcome, thrown } = await joinInProcess(w, input);
    expect(outcome).toBe('failed');
    expect(record).toMatchObject({ state: 'failed', error: expect.stringMatching(/^the actuals file changed while it was joined/) });
    expect(isDomainError(thrown)).toBe(true);
    expect([...lake.objects.keys()].filter((k) => k.includes(record!.actualsId) && k.includes('/labelled/'))).toEqual([]);

    w.deps.files = w.files;
    expect((await joinInProcess(w, replaced!)).record).toMatchObject({ state: 'completed', rows: 1, matched: 1 });
  });

  it('when a file is replaced by one of another layout, or removed, while its join runs, then that join fails saying the file changed, not with what the reader throws on what is there now', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const oneRowGroupEach = parquetOf([{ name: 'id', type: 'STRING', data: ['d0', 'd1', 'd2'] }, { name: 'sales', type: 'DOUBLE', data: [7, 1, 5] }], 1);
    const corrected = parquetOf([{ name: 'id', type: 'STRING', data: ['d0'] }, { name: 'amount', type: 'DOUBLE', data: [8] }], 10);
    // The plan is written: the blob changes before any bucket reads it.
    const write = w.lake.write.bind(w.lake);
    w.deps.lake = Object.assign(Object.create(w.lake) as typeof w.lake, {
      write: async (...args: Parameters<typeof w.lake.write>) => {
        const written = await write(...args);
        if (args[0].endsWith('/plan.json')) await dropActuals(w, 'in-bucket.parquet', corrected);
        return written;
      },
    });
    const changed = /^the actuals file changed while it was joined \(replaced\): this version is not joined; the new version is joined on its own$/;

    // Between the plan and the bucket: the plan's third row group is not in the new version.
    const inBucket = await dropActuals(w, 'in-bucket.parquet', oneRowGroupEach);
    const bucketFailed = await joinInProcess(w, inBucket);
    expect(isDomainError(bucketFailed.thrown)).toBe(true);
    expect(bucketFailed.record).toMatchObject({ state: 'failed', error: expect.stringMatching(changed) });
    w.deps.lake = w.lake;

    // While the plan reads its layout: the new version's header is not this version's.
    const inPlan = await dropActuals(w, 'in-plan.csv', actualsCsv(['id', 'sales'], [['d0', 7]]));
    const plan = w.files.plan.bind(w.files);
    w.deps.files = Object.assign(Object.create(w.files) as typeof w.files, {
      plan: async (...args: Parameters<typeof w.files.plan>) => {
        if (args[0] === inPlan.path) await dropActuals(w, 'in-plan.csv', actualsCsv(['id', 'amount'], [['d0', 8]]));
        return plan(...args);
      },
    });
    const planFailed = await joinInProcess(w, inPlan);
    expect(isDomainError(planFailed.thrown)).toBe(true);
    expect(planFailed.record).toMatchObject({ state: 'failed', error: expect.stringMatching(changed) });
    w.deps.files = w.files;

    // Removed between the plan and the bucket: the bucket's read finds no object.
    const removed = await dropActuals(w, 'removed.csv', actualsCsv(['id', 'sales'], [['d0', 7]]));
    w.deps.lake = Object.assign(Object.create(w.lake) as typeof w.lake, {
      write: async (...args: Parameters<typeof w.lake.write>) => {
        const written = await write(...args);
        if (args[0].endsWith('/plan.json')) await w.lake.delete(removed.path);
        return written;
      },
    });
    const removedFailed = await joinInProcess(w, removed);
    expect(removedFailed.record).toMatchObject({ state: 'failed', error: 'the actuals file changed while it was joined (removed): this version is not joined' });
    w.deps.lake = w.lake;
  });

  it('when the blob\'s name is one the lake refuses (a folder starting with a space), then the trigger still starts its join, which fails with the reason on a record', async () => {
    const { w } = await world();
    const start = actualsJoinStart({ model: 'demand', name: ' 2026/sales.csv', properties: { eTag: '"0x1"', length: 12 } }, 0);
    if ('ignored' in start) throw new Error(`ignored: ${start.ignored}`);
    expect(start.input).toMatchObject({ model: 'demand', path: 'actuals/demand/ 2026/sales.csv', etag: '"0x1"', size: 12 });
    expect(start.instanceId).toBe(`actuals:demand:${actualsIdOf(start.input.path, '"0x1"')}`);

    const { record, outcome, thrown } = await joinInProcess(w, start.input);
    expect(outcome).toBe('failed');
    expect(isDomainError(thrown)).toBe(true);
    expect(record).toMatchObject({ state: 'failed', source: { path: 'actuals/demand/ 2026/sales.csv' }, error: expect.stringMatching(/cannot be joined under this name: path segments must not start or end with spaces/) });
    expect(await w.runs.actuals.list('demand')).toEqual([record]);
    // Metadata without a model names nothing a record could belong to: ignored, with the reason for the log.
    expect(actualsJoinStart({ name: 'x.csv', properties: { eTag: '"0x1"' } }, 0)).toEqual({ ignored: expect.stringMatching(/model/) });
    // Nor is a folder marker (an empty blob named 'folder/') a file whose join could fail.
    expect(actualsJoinStart({ model: 'demand', name: '2026/', properties: { eTag: '"0x1"' } }, 0)).toEqual({ ignored: "'2026/' is a folder marker, not an actuals file" });
  });

  it('when a Parquet footer claims a negative number of rows, then the join fails saying what the footer says', async () => {
    const { w } = await world();
    const file = parquetOf([{ name: 'id', type: 'STRING', data: ['d0', 'd1'] }, { name: 'sales', type: 'DOUBLE', data: [7, 1] }], 10);
    const { record, thrown } = await joinInProcess(w, await dropActuals(w, 'lying.parquet', withFooterRows(file, -5n)));
    expect(isDomainError(thrown)).toBe(true);
    expect(record).toMatchObject({ state: 'failed', error: 'not a readable Parquet file: its footer gives row group 0 -5 rows' });
  });

  it('when a Parquet footer claims fewer rows than its pages hold (none), then the join fails instead of completing with the rows left out', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const file = parquetOf([{ name: 'id', type: 'STRING', data: ['d0', 'd1'] }, { name: 'sales', type: 'DOUBLE', data: [7, 1] }], 10);
    const { record, thrown } = await joinInProcess(w, await dropActuals(w, 'lying.parquet', withFooterRows(file, 0n)));
    expect(isDomainError(thrown)).toBe(true);
    expect(record).toMatchObject({ state: 'failed', error: "row group 0 cannot be read (truncated or corrupt?): column 'id': the column chunk holds more than 0 rows" });
  });

  it('when a Parquet file lost its first bytes (its footer points past its pages), then the join fails with the reason instead of hanging the worker', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const file = parquetOf([{ name: 'id', type: 'STRING', data: ['d0', 'd1'] }, { name: 'sales', type: 'DOUBLE', data: [7, 1] }], 10);
    const { record, thrown } = await joinInProcess(w, await dropActuals(w, 'cut.parquet', file.subarray(10)));
    expect(isDomainError(thrown)).toBe(true);
    expect(record).toMatchObject({ state: 'failed', error: expect.stringMatching(/^row group 0 cannot be read \(truncated or corrupt\?\): column 'id': a page header is unreadable/) });
  });

  it('when a file would be split into more than 10,000 buckets, then the join fails saying so before any bucket is planned', async () => {
    const { w } = await world(aDemandModel(), { bucketRows: 100 });
    const file = parquetOf([{ name: 'id', type: 'STRING', data: ['d0', 'd1'] }, { name: 'sales', type: 'DOUBLE', data: [7, 1] }], 10);
    // A footer claims rows for free: 2M of them are 20,000 buckets of 100 ids, each reading the whole file.
    const { record, outcome, thrown } = await joinInProcess(w, await dropActuals(w, 'lying.parquet', withFooterRows(file, 2_000_000n)));
    expect(outcome).toBe('failed');
    expect(isDomainError(thrown)).toBe(true);
    expect(record).toMatchObject({ state: 'failed', error: 'the actuals file has 2,000,000 rows: more than 10,000 buckets of 100 ids (ACTUALS_BUCKET_ROWS) would join; split it into smaller files' });
  });

  it('when a file has more rows than actuals_row (int32) can number, then the plan refuses it, before any bucket would count rows past 2^31 wrongly', async () => {
    const { w } = await world();
    const file = parquetOf([{ name: 'id', type: 'STRING', data: ['d0', 'd1'] }, { name: 'sales', type: 'DOUBLE', data: [7, 1] }], 10);
    const input = await dropActuals(w, 'big.parquet', withFooterRows(file, 2n ** 31n));
    // Only the plan: 2^31 rows are 1,074 buckets, within their bound.
    const planning = planActualsJoin(w.deps, { ...input, instanceId: 'actuals:demand:big', at: w.now.toISOString() });
    await expect(planning).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE', message: 'the actuals file has 2,147,483,648 rows: more than 2,147,483,647, the most a join numbers; split it into smaller files' });
    // 2^50 rows would be 563 million buckets of 2M ids, which the orchestration would list in memory.
    const { record } = await joinInProcess(w, await dropActuals(w, 'bigger.parquet', withFooterRows(file, 2n ** 50n)));
    expect(record).toMatchObject({ state: 'failed', error: 'the actuals file has 1,125,899,906,842,624 rows: more than 2,147,483,647, the most a join numbers; split it into smaller files' });
  });

  it('when the file lacks the target column, then the join fails with the reason on its record and run.failed is published', async () => {
    const { w, events } = await world();
    const input = await dropActuals(w, 'wrong.csv', actualsCsv(['id', 'amount'], [['d0', 7]]));
    const { record, outcome } = await joinInProcess(w, input);
    expect(outcome).toBe('failed');
    expect(record).toMatchObject({ state: 'failed', error: `the actuals file lacks the column(s) 'sales' (the model's id and target columns); its header reads "id", "amount"` });
    expect(events.ofType('run.failed')).toEqual([expect.objectContaining({ data: { runId: record!.actualsId, error: record!.error } })]);
  });

  it('when the file is not comma-separated, then the failed record shows the header as it was read, so the cause is visible; lines ended by CR alone are named', async () => {
    const { w } = await world();
    const semicolons = await joinInProcess(w, await dropActuals(w, 'semicolons.csv', 'id;sales\nd0;7\n'));
    expect(semicolons.record).toMatchObject({
      state: 'failed',
      error: `the actuals file lacks the column(s) 'id', 'sales' (the model's id and target columns); its header is one column, "id;sales": the file looks separated by ';', and only comma-separated files are read; save it as comma-separated CSV`,
    });
    const classicMac = await joinInProcess(w, await dropActuals(w, 'cr.csv', 'id,sales\rd0,7\rd1,1\r'));
    // Lines ended by CR alone are named as such, not read as one header of whole lines.
    expect(classicMac.record).toMatchObject({ state: 'failed', error: expect.stringMatching(/^the file's lines end with a lone carriage return \(CR.*save it with LF or CRLF line ends$/) });
    const wide = await joinInProcess(w, await dropActuals(w, 'wide.csv', `${Array.from({ length: 12 }, (_, i) => `c${i}${'x'.repeat(50)}`).join(',')}\n`));
    expect(wide.record!.error).toMatch(/reads "c0x{38}…", .*"c9x{38}…", … \(12 columns\)$/);
  });

  it('when the header names the id or the target column twice, then the join fails naming them instead of joining one of the two', async () => {
    const { w } = await world();
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const csv = await joinInProcess(w, await dropActuals(w, 'twice.csv', 'id,sales,sales\nd0,7,70\n'));
    expect(csv.record).toMatchObject({ state: 'failed', error: "the actuals file's header names 'sales' more than once" });
    const parquet = parquetOf([{ name: 'id', type: 'STRING', data: ['d0'] }, { name: 'sales', type: 'DOUBLE', data: [7] }, { name: ' id ', type: 'STRING', data: ['d1'] }], 10);
    const pq = await joinInProcess(w, await dropActuals(w, 'twice.parquet', parquet));
    expect(pq.record).toMatchObject({ state: 'failed', error: "the actuals file's header names 'id' more than once" });
    expect(isDomainError(pq.thrown)).toBe(true);
  });

  it('when a classifier\'s actuals are class labels and the model has no timestamp column, then they join as classes in the run\'s arrival window with classification metrics', async () => {
    const definition = aChurnModel();
    const { w } = await world(definition);
    const rows: DropRow[] = [
      { id: 'c1', x1: 0, x2: 0, region: 'north' },
      { id: 'c2', x1: 1, x2: 0, region: 'north' },
      { id: 'c3', x1: 0.2, x2: 0, region: 'south' },
      { id: 'c4', x1: 0.9, x2: 0, region: 'south' },
    ];
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-04T15:00:00Z', rows });
    const input = await dropActuals(w, 'churn.csv', actualsCsv(['customer', 'actual'], [['c1', 'stay'], ['c2', 'leave'], ['c3', 'leave'], ['c4', 'leave'], ['c5', 'maybe']]));
    const { record } = await joinInProcess(w, input);

    expect(record).toMatchObject({ matched: 4, unmatched: 0, rejectionReasons: { 'unknown_class:actual': 1 }, windows: ['20260304T0000Z'] });
    expect(record!.metrics!.overall.metrics.accuracy!.value).toBeCloseTo(0.75, 10);
    expect(record!.metrics!.overall.confusionMatrix).toEqual([[1, 0], [1, 2]]);
    const labelled = await labelledRows(w, '20260304T0000Z', record!.actualsId);
    expect(labelled.map((r) => [r.customer, r.region, r.actual])).toEqual([['c1', 'north', 'stay'], ['c2', 'north', 'leave'], ['c3', 'south', 'leave'], ['c4', 'south', 'leave']]);
    expect(labelled[0]!.probability_leave).toBeCloseTo(0.2, 6);
  });
});

/** A lake that remembers the largest single read of each object (bytes). */
class ReadRecordingLake extends MemoryLake {
  readonly largestRead = new Map<string, number>();

  private note(path: string, bytes: number): void {
    this.largestRead.set(path, Math.max(this.largestRead.get(path) ?? 0, bytes));
  }

  override async readBuffer(path: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    const buf = await super.readBuffer(path, range);
    this.note(path, buf.length);
    return buf;
  }

  override async read(path: string, range?: { offset: number; length?: number }) {
    const stream = await super.read(path, range);
    this.note(path, range?.length ?? this.body(path).length);
    return stream;
  }
}

describe('actuals join of files larger than one bucket', () => {
  it('when the actuals outnumber a bucket, then each join activity holds one hash range of the ids, files are read in ranges, and windows count exactly while metrics use a bounded sample', async () => {
    const lake = new ReadRecordingLake();
    const w = await actualsWorld(
      { definition: aDemandModel(), lake, registry: new InMemoryModelRegistry(), runs: inMemoryRunStore(), events: new RecordingPublisher(), runtime },
      { bucketRows: 100, metricsMaxRows: 200 },
    );
    const rows: DropRow[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `p${i}`,
      ts: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 172_800).toISOString(),
      x1: i % 10,
      x2: (i % 7) / 2,
      region: i % 2 ? 'north' : 'south',
    }));
    await scoredRun(w, { runId: 'run-big', createdAt: '2026-03-03T00:00:00Z', rows, chunkBytes: 8_000 });
    const ids = [...rows.map((r) => r.id), ...Array.from({ length: 10 }, (_, i) => `extra${i}`)];
    const sales = ids.map((_, i) => (i < 1000 ? predictionOf(i % 10, (i % 7) / 2) + ((i % 5) - 2) : 1));
    // About 3 MB (hex notes), well above what one ranged read of the reader fetches (its footer read, 512 KiB).
    const notes = ids.map(() => randomBytes(1500).toString('hex'));
    const file = parquetOf([{ name: 'id', type: 'STRING', data: ids }, { name: 'sales', type: 'DOUBLE', data: sales }, { name: 'note', type: 'STRING', data: notes }], 100);
    const input = await dropActuals(w, 'big.parquet', file);

    const { record, summaries } = await joinInProcess(w, input);
    expect(summaries).toHaveLength(11);
    for (const s of summaries) expect(s.rows).toBeLessThanOrEqual(200);
    expect(summaries.reduce((a, s) => a + s.rows, 0)).toBe(1010);
    // Each bucket says where its time went, phase by phase, in whole milliseconds.
    const phase = expect.any(Number);
    for (const s of summaries) {
      expect(s.durationsMs).toEqual({ readActuals: phase, matchPredictions: phase, writeLabelled: phase, quarantineUnmatched: phase, metrics: phase });
      for (const ms of Object.values(s.durationsMs!)) expect(Number.isInteger(ms) && ms >= 0).toBe(true);
    }
    expect(record).toMatchObject({ rows: 1010, matched: 1000, unmatched: 10, windows: [DAY1, DAY2] });
    // Every bucket read the file, each time in ranges (row groups), never whole.
    expect(file.length).toBeGreaterThan(2_500_000);
    expect(lake.largestRead.get(input.path)).toBeLessThanOrEqual(512 * 1024);

    // One labelled file per window, made of the buckets' pieces.
    const day1 = await labelledRows(w, DAY1, record!.actualsId);
    expect(day1).toHaveLength(500);
    expect(new Set(day1.map((r) => r.id)).size).toBe(500);
    for (const r of day1) expect(r.actual).toBeCloseTo(Number(r.prediction) + ((Number(String(r.id).slice(1)) % 5) - 2), 6);

    const doc = (await windowDoc(w, DAY1))!;
    expect(doc.labelled).toBe(500);
    const sampled = doc.performance!.metrics.overall.rows;
    expect(sampled).toBeGreaterThan(100);
    expect(sampled).toBeLessThanOrEqual(260);
    expect(record!.metrics!.overall.rows).toBeLessThanOrEqual(260);
    // The sample is the same ids every time: recomputing gives the same figures.
    const again = await refreshWindowPerformance(w.deps, w.definition, DAY1);
    expect(again.labelled).toBe(500);
    expect((await windowDoc(w, DAY1))!.performance!.metrics).toEqual(doc.performance!.metrics);
  });

  it('when actuals come as CSV.gz, then the rows are counted before planning and the file joins like any other', async () => {
    const { w } = await world(aDemandModel(), { bucketRows: 2 });
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-03T00:00:00Z', rows: sixRows });
    const input = await dropActuals(w, 'sales.csv.gz', gzipSync(actualsCsv(['id', 'sales'], sixRows.map((r, i) => [r.id, sixActuals[i]!]))));
    const { record, summaries } = await joinInProcess(w, input);
    expect(summaries).toHaveLength(3);
    expect(record).toMatchObject({ state: 'completed', rows: 6, matched: 6 });
  });
});

describe('the file\'s realised metrics', () => {
  it('when the same file is joined in one bucket and in several, then its metrics are the same rows\' (the one bucket computes them without reading back)', async () => {
    const rows: DropRow[] = Array.from({ length: 300 }, (_, i) => ({ id: `m${i}`, ts: `2026-03-0${1 + (i % 3)}T10:00:00Z`, x1: i % 7, x2: (i % 5) / 2, region: i % 4 ? 'north' : 'south' }));
    const body = actualsCsv(['id', 'sales'], rows.map((r, i) => [r.id, i % 13]));
    const metricsWith = async (bucketRows: number) => {
      const { w } = await world(aDemandModel(), { bucketRows, metricsMaxRows: 120 });
      await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-05T00:00:00Z', rows });
      const { record, summaries } = await joinInProcess(w, await dropActuals(w, 'm.csv', body));
      return { metrics: record!.metrics!, buckets: summaries.length };
    };
    const one = await metricsWith(10_000);
    const several = await metricsWith(40);
    expect([one.buckets, several.buckets]).toEqual([1, 8]);
    expect(one.metrics.overall.rows).toBe(several.metrics.overall.rows);
    expect(one.metrics.overall.rows).toBeLessThan(300);
    expect(one.metrics.segments.map((s) => [s.segment, s.rows])).toEqual(several.metrics.segments.map((s) => [s.segment, s.rows]));
    for (const name of ['mae', 'rmse', 'r2'] as const) expect(one.metrics.overall.metrics[name]!.value).toBeCloseTo(several.metrics.overall.metrics[name]!.value!, 9);
  });
});
