/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import type { Readable } from 'node:stream';

import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { actualsIdOf } from '../../../shared/domain/actuals';
import { documentBytes, MAX_DOCUMENT_BYTES } from '../../../shared/domain/document-size';
import { isDomainError } from '../../../shared/domain/errors';
import type { ByteRange } from '../../../shared/domain/lake-objects';
import { lakePaths } from '../../../shared/domain/lake-paths';
import { computeMetricsByKeys } from '../../../shared/domain/metrics';
import type { DataLake } from '../../../shared/ports/data-lake';
import type { EventPublisher } from '../../../shared/ports/event-publisher';
import type { TabularFiles } from '../../../shared/ports/tabular-files';
import { MAX_EVENT_ID_LENGTH, type ModelEventInput, modelEventSchema } from '../../../shared/schemas/messages';
import type { ModelDefinition } from '../../../shared/schemas/model';
import type { ActualsDeps } from '../../../shared/usecases/actuals/deps';
import { lateMatchActuals, lateMatchEvent, lateMatchEventId, lateRecordsForRun, lateRunsForJoin, MAX_LATE_MATCH_EVENT_WINDOWS, recordedLateWindows, refreshLateWindow } from '../../../shared/usecases/actuals/late-match';
import { revalidationDataPath, type RevalidationDeps, revalidationFor, revalidationReason, writeRevalidationData } from '../../../shared/usecases/revalidation';
import { revalidationDataset, trainingSnapshot } from '../../../shared/usecases/training-data';
import { actualsCsv, type ActualsWorld, actualsWorld, aDemandModel, BIAS, dropActuals, type DropRow, joinInProcess, scoredRun, WEIGHTS } from '../../support/actuals-kit';
import { aModelVersion } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { type InMemoryActualsCollection, type InMemoryRunCollection, inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';
import { RecordingPublisher } from '../../support/recording-publisher';
import { readParquetRows } from '../../support/scoring-fixtures';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const predictionOf = (x1: number, x2: number) => Math.fround(Math.fround(Math.fround(x1 * WEIGHTS[0]!) + Math.fround(x2 * WEIGHTS[1]!)) + BIAS);

async function world(definition: ModelDefinition = aDemandModel(), settings = {}) {
  const lake = new MemoryLake();
  const w = await actualsWorld({ definition, lake, registry: new InMemoryModelRegistry(), runs: inMemoryRunStore(), events: new RecordingPublisher(), runtime }, settings);
  return { w, lake };
}

const DAY1 = '20260301T0000Z';
const DAY2 = '20260302T0000Z';
const rows: DropRow[] = [
  { id: 'd0', ts: '2026-03-01T08:00:00Z', x1: 1, x2: 0.5, region: 'north' },
  { id: 'd1', ts: '2026-03-01T09:00:00Z', x1: 2, x2: -1, region: 'south' },
  { id: 'd2', ts: '2026-03-02T10:00:00Z', x1: 3, x2: 1, region: 'north' },
  { id: 'd3', ts: '2026-03-02T11:00:00Z', x1: 0.5, x2: 0.25, region: 'south' },
];
const actualOf: Record<string, number> = { d0: 7, d1: 1, d2: 10, d3: 3 };
/** After the join (world.now, 2026-03-10T12:00Z): runs completing then were not in its plan. */
const LATER = '2026-03-10T13:00:00Z';

/** Actuals of d0..d3 and one id never scored, joined while no run exists: all unmatched. */
async function actualsFirst(w: ActualsWorld) {
  const input = await dropActuals(w, 'early.csv', actualsCsv(['id', 'sales'], [...rows.map((r) => [r.id, actualOf[r.id]!]), ['ghost', 4]]));
  const { record } = await joinInProcess(w, input);
  expect(record).toMatchObject({ state: 'completed', matched: 0, unmatched: 5, metrics: null, windows: [] });
  return { input, actualsId: actualsIdOf(input.path, input.etag) };
}

/** What the orchestrations do for a pair: the late match, then its windows. */
async function lateMatchInProcess(w: ActualsWorld, actualsId: string, runId: string) {
  const outcome = await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId });
  for (const windowId of outcome.windows) await refreshLateWindow(w.deps, { model: 'demand', windowId });
  return outcome;
}

const record = async (w: ActualsWorld, actualsId: string) => (await w.runs.actuals.get('demand', actualsId))!.value;
const lateRows = async (w: ActualsWorld, windowId: string, actualsId: string, runId: string) =>
  readParquetRows(await w.lake.readBuffer(lakePaths.lateLabelled('demand', windowId, actualsId, runId)));

describe('late matching of actuals joined before their predictions existed (use cases, in memory)', () => {
  it('when a run completes after actuals were joined all unmatched, then its predictions match them: labelled files under a name of their own, the record\'s counts and metrics, the windows\' performance', async () => {
    const { w } = await world();
    const { actualsId, input } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });

    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: [actualsId], waiting: 1 });
    const outcome = await lateMatchInProcess(w, actualsId, 'run-late');
    expect(outcome).toEqual({ outcome: 'matched', matched: 4, windows: [DAY1, DAY2] });

    const after = await record(w, actualsId);
    expect(after).toMatchObject({
      rows: 5,
      matched: 4,
      unmatched: 1,
      windows: [DAY1, DAY2],
      source: { lastModified: input.lastModified },
      lateMatches: [{ runId: 'run-late', matched: 4, at: w.now.toISOString(), windows: [DAY1, DAY2] }],
    });
    const predicted = Float64Array.from(rows, (r) => predictionOf(Number(r.x1), Number(r.x2)));
    const expected = computeMetricsByKeys('regression', { actual: Float64Array.from(rows, (r) => actualOf[r.id]!) , predicted }, ['region'], { region: rows.map((r) => r.region) }, { bootstrap: { resamples: 50 } });
    expect(after.metrics).toEqual(expected);

    const day1 = await lateRows(w, DAY1, actualsId, 'run-late');
    expect(day1.map((r) => [r.id, r.actual, r.run_id, r.actuals_id, r.actuals_row])).toEqual([
      ['d0', 7, 'run-late', actualsId, 1],
      ['d1', 1, 'run-late', actualsId, 2],
    ]);
    expect(day1[0]!.prediction).toBe(predictionOf(1, 0.5));
    expect(new Date(day1[0]!.actuals_at as Date).toISOString()).toBe(input.lastModified);
    // The join's own files are not written: it labelled nothing.
    expect(await w.lake.stat(lakePaths.labelled('demand', DAY1, actualsId))).toBeUndefined();

    const window = (await w.runs.windows.get('demand', DAY2))!.value;
    expect(window).toMatchObject({ labelled: 2, performance: { metrics: { overall: { rows: 2 } } } });
    // Matched now: the run and the record are no longer candidates for each other.
    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: [], waiting: 0 });
    expect(await lateRunsForJoin(w.deps, { model: 'demand', actualsId })).toEqual({ runIds: [] });
  });

  it('when the same late match is done twice (both sides of the race, or a retry), then the second changes nothing: no double count, same files, same windows', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    await lateMatchInProcess(w, actualsId, 'run-late');
    const once = { record: await record(w, actualsId), day1: await w.lake.readBuffer(lakePaths.lateLabelled('demand', DAY1, actualsId, 'run-late')), window: (await w.runs.windows.get('demand', DAY1))!.value };

    w.now = new Date('2026-03-10T14:00:00Z');
    expect(await lateMatchInProcess(w, actualsId, 'run-late')).toEqual({ outcome: 'done', matched: 4, windows: [DAY1, DAY2] });
    expect(await record(w, actualsId)).toEqual(once.record);
    expect(await w.lake.readBuffer(lakePaths.lateLabelled('demand', DAY1, actualsId, 'run-late'))).toEqual(once.day1);
    expect((await w.runs.windows.get('demand', DAY1))!.value).toMatchObject({ labelled: once.window.labelled, performance: { metrics: once.window.performance!.metrics } });
  });

  it('when the late match that took the last unmatched actuals is retried (its activity failed after the record was written), then it is done and still names its windows to refresh', async () => {
    const { w } = await world();
    const input = await dropActuals(w, 'early.csv', actualsCsv(['id', 'sales'], rows.map((r) => [r.id, actualOf[r.id]!])));
    const { record: joined } = await joinInProcess(w, input);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const first = await lateMatchActuals(w.deps, { model: 'demand', actualsId: joined!.actualsId, runId: 'run-late' });
    expect(first).toMatchObject({ outcome: 'matched', matched: 4 });
    expect(await record(w, joined!.actualsId)).toMatchObject({ matched: 4, unmatched: 0 });
    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId: joined!.actualsId, runId: 'run-late' })).toEqual({ ...first, outcome: 'done' });
  });

  it('when two late runs carry the same ids and are matched at the same time, then each id is matched once: the record counts it once and the files hold it once', async () => {
    const { w, lake } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-a', createdAt: LATER, rows: rows.slice(0, 3) });
    await scoredRun(w, { runId: 'run-b', createdAt: LATER, rows: rows.slice(1) });
    expect(await lateRunsForJoin(w.deps, { model: 'demand', actualsId })).toEqual({ runIds: ['run-a', 'run-b'] });

    // Both read the record before either writes it: one write meets the other's ETag and starts over.
    const store = w.deps.runs.actuals;
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const readByBoth = new Promise<void>((resolve) => (bothRead = resolve));
    let conflicts = 0;
    const racing = {
      ...store,
      get: async (model: string, id: string) => {
        const got = await store.get(model, id);
        if (++reads === 2) bothRead();
        if (reads <= 2) await readByBoth;
        return got;
      },
      replace: async (...args: Parameters<typeof store.replace>) => store.replace(...args).catch((error: unknown) => {
        conflicts += 1;
        throw error;
      }),
    };
    const deps = { ...w.deps, runs: { ...w.deps.runs, actuals: racing } };
    const outcomes = await Promise.all(['run-a', 'run-b'].map((runId) => lateMatchActuals(deps, { model: 'demand', actualsId, runId })));
    expect(conflicts).toBe(1);
    const after = await record(w, actualsId);
    expect(after).toMatchObject({ matched: 4, unmatched: 1 });
    expect(outcomes.reduce((sum, o) => sum + o.matched, 0)).toBe(4);
    const labelledIds: string[] = [];
    for (const match of after.lateMatches!) {
      for (const windowId of match.windows) labelledIds.push(...(await lateRows(w, windowId, actualsId, match.runId)).map((r) => r.id as string));
    }
    expect(labelledIds.sort()).toEqual(['d0', 'd1', 'd2', 'd3']);
    // No file of a run is left behind for a window it did not record.
    const files = [...lake.objects.keys()].filter((k) => k.includes(`/${actualsId}~`)).sort();
    const recorded = after.lateMatches!.flatMap((m) => m.windows.map((wid) => lakePaths.lateLabelled('demand', wid, actualsId, m.runId))).sort();
    expect(files).toEqual(recorded);
  });

  it('when the record is replaced by a newer version while a late match writes its files, then the late match withdraws them and names their windows to refresh', async () => {
    const { w, lake } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    // A newer version's completion marks the record replaced between the late match's read and its write.
    const store = w.deps.runs.actuals;
    let marked = false;
    const replacing = Object.assign(Object.create(store) as typeof store, {
      replace: async (...args: Parameters<typeof store.replace>) => {
        if (!marked) {
          marked = true;
          const current = (await store.get('demand', actualsId))!;
          await store.replace('demand', actualsId, { ...current.value, replacedBy: { actualsId: 'newer', at: LATER, labelledFolder: 'datasets/demand/replaced/x/' } }, current.etag);
        }
        return store.replace(...args);
      },
    });
    const outcome = await lateMatchActuals({ ...w.deps, runs: { ...w.deps.runs, actuals: replacing } }, { model: 'demand', actualsId, runId: 'run-late' });

    expect(marked).toBe(true);
    expect(outcome).toEqual({ outcome: 'none', matched: 0, windows: [DAY1, DAY2], reason: 'the record has no unmatched actuals to match' });
    expect([...lake.objects.keys()].filter((k) => k.includes(`/${actualsId}~`))).toEqual([]);
    for (const windowId of outcome.windows) await refreshLateWindow(w.deps, { model: 'demand', windowId });
    expect((await w.runs.windows.get('demand', DAY1))?.value.labelled ?? 0).toBe(0);
    expect(await record(w, actualsId)).toMatchObject({ matched: 0, unmatched: 5 });
  });

  it('when a run was in the join\'s plan, then it is not a late candidate; a run created before the lookback is not either', async () => {
    const { w } = await world(aDemandModel(), { lookback: 'P7D' });
    await scoredRun(w, { runId: 'run-before', createdAt: '2026-03-09T00:00:00Z', rows: rows.slice(0, 1) });
    const input = await dropActuals(w, 'early.csv', actualsCsv(['id', 'sales'], rows.map((r) => [r.id, actualOf[r.id]!])));
    const { record: joined } = await joinInProcess(w, input);
    expect(joined).toMatchObject({ matched: 1, unmatched: 3 });
    // Created long before, completed after the plan (it waited for a champion): outside the lookback.
    await scoredRun(w, { runId: 'run-old', createdAt: '2026-03-01T00:00:00Z', rows });
    const old = (await w.runs.runs.get('demand', 'run-old'))!;
    await w.runs.runs.replace('demand', 'run-old', { ...old.value, completedAt: LATER }, old.etag);
    expect(await lateRunsForJoin(w.deps, { model: 'demand', actualsId: joined!.actualsId })).toEqual({ runIds: [] });
    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-before' })).toEqual({ actualsIds: [], waiting: 0 });
    // Runs before the lookback are not even read: a damaged one there does not fail the listing.
    const damaged = (await w.runs.runs.get('demand', 'run-old'))!.value;
    (w.runs.runs as InMemoryRunCollection).storeUnchecked('demand', 'run-ancient', { ...damaged, runId: 'run-ancient', createdAt: '2025-01-01T00:00:00.000Z', rowsRead: -1 });
    expect(await lateRunsForJoin(w.deps, { model: 'demand', actualsId: joined!.actualsId })).toEqual({ runIds: [] });
  });

  it('when a model has 300 actuals records from before the lookback, then a completed run reads the records of its lookback only', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    const recent = await record(w, actualsId);
    const actuals = w.runs.actuals as InMemoryActualsCollection;
    // Waiting for matches as far as their fields go, but created a year before: outside the lookback (P90D).
    for (let i = 0; i < 300; i++) {
      const id = `old-${String(i).padStart(3, '0')}`;
      await actuals.create('demand', id, { ...recent, actualsId: id, instanceId: `actuals:demand:${id}`, createdAt: new Date(Date.parse('2025-03-01T00:00:00Z') + i * 3_600_000).toISOString() });
    }
    actuals.storeUnchecked('demand', 'old-damaged', { ...recent, actualsId: 'old-damaged', createdAt: '2025-03-01T00:00:00.000Z', rows: -1 });
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const before = actuals.listed;

    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: [actualsId], waiting: 1 });
    expect(actuals.listed - before).toBe(1);
  });

  it('when a record of the lookback no longer reads, then the run\'s late match still lists the others and names it with the reason, instead of leaving it out without a word', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    const recent = await record(w, actualsId);
    (w.runs.actuals as InMemoryActualsCollection).storeUnchecked('demand', 'recent-damaged', { ...recent, actualsId: 'recent-damaged', unmatched: -1 });
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });

    const found = await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-late' });
    expect(found).toMatchObject({ actualsIds: [actualsId], waiting: 1, unreadable: [{ id: 'recent-damaged', reason: expect.stringContaining('unmatched') }] });
    expect(found.unreadable).toHaveLength(1);
  });

  it('when the actuals file was replaced by a newer version, then the older record gets no late match', async () => {
    const { w } = await world();
    const { actualsId, input } = await actualsFirst(w);
    await w.lake.write(input.path, Buffer.from(actualsCsv(['id', 'sales'], [['d0', 1]])));
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' })).toEqual({
      outcome: 'skipped',
      matched: 0,
      windows: [],
      reason: 'the actuals file was replaced by a newer version',
    });
    expect(await record(w, actualsId)).toMatchObject({ matched: 0, unmatched: 5 });
  });

  it('when a late-matched version is replaced by a newer upload of its path, then its late files leave the windows too and it gets no more late matches', async () => {
    const { w, lake } = await world();
    const { actualsId, input } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    await lateMatchInProcess(w, actualsId, 'run-late');
    expect(lake.objects.has(lakePaths.lateLabelled('demand', DAY1, actualsId, 'run-late'))).toBe(true);

    // The corrected file: d0 only, joined (its completion replaces the older version).
    await w.lake.write(input.path, Buffer.from(actualsCsv(['id', 'sales'], [['d0', 8]])));
    const info = (await w.lake.stat(input.path))!;
    const { record: v2 } = await joinInProcess(w, { ...input, etag: info.etag, size: info.size, lastModified: info.lastModified.toISOString() });
    expect(v2).toMatchObject({ state: 'completed', matched: 1 });
    expect(await record(w, actualsId)).toMatchObject({ replacedBy: { actualsId: v2!.actualsId } });
    for (const day of [DAY1, DAY2]) {
      expect(lake.objects.has(lakePaths.lateLabelled('demand', day, actualsId, 'run-late'))).toBe(false);
      expect(lake.objects.has(`${lakePaths.replacedLabelledFolder('demand', actualsId)}${day}~run-late.parquet`)).toBe(true);
    }
    // Only v2's one row counts: d0 in day 1, nothing left in day 2.
    expect((await w.runs.windows.get('demand', DAY1))!.value).toMatchObject({ labelled: 1 });
    expect((await w.runs.windows.get('demand', DAY2))!.value).toMatchObject({ labelled: 0 });
    await scoredRun(w, { runId: 'run-later', createdAt: '2026-03-10T14:00:00Z', rows });
    expect((await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-later' })).actualsIds).not.toContain(actualsId);
  });

  it('when the run\'s predictions manifest was deleted, then the late match is skipped saying so and the record is left as it was', async () => {
    const { w, lake } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    await lake.delete(lakePaths.predictionManifest('demand', 1, 'run-late'));
    const outcome = await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' });
    expect(outcome).toMatchObject({ outcome: 'skipped', matched: 0, windows: [], reason: expect.stringMatching(/^run 'run-late' cannot be read: its predictions manifest '.*_manifest\.json' is gone$/) });
    expect(await record(w, actualsId)).toMatchObject({ matched: 0, unmatched: 5 });
    expect((await record(w, actualsId)).lateMatches).toBeUndefined();
  });

  it('when the record could not hold one more late match (Cosmos DB\'s document size), then it is skipped saying so and its labelled files are removed, so no window counts what the record does not', async () => {
    const { w, lake } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    // A record just within the limit (many rejection codes).
    const stored = (await w.runs.actuals.get('demand', actualsId))!;
    const padded = { ...stored.value, rejectionReasons: {} as Record<string, number> };
    // Measuring a 2 MB document per entry took half a minute: add as many ~216-byte entries as the
    // gap surely holds (250 bytes each), measure again; the last steps add one at a time as before.
    let i = 0;
    for (let gap = MAX_DOCUMENT_BYTES - 1200 - documentBytes(padded); gap > 0; gap = MAX_DOCUMENT_BYTES - 1200 - documentBytes(padded)) {
      for (const end = i + Math.max(1, Math.floor(gap / 250)); i < end; i += 1) padded.rejectionReasons[`code-${i}-${'x'.repeat(200)}`] = 0;
    }
    await w.runs.actuals.replace('demand', actualsId, padded, stored.etag);

    const outcome = await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' });
    expect(outcome).toMatchObject({ outcome: 'skipped', matched: 0, windows: [DAY1, DAY2], reason: expect.stringMatching(/^the record cannot hold this late match: .*bytes a stored document may hold/) });
    expect(await record(w, actualsId)).toEqual(padded);
    expect([...lake.objects.keys()].filter((k) => k.includes(`/${actualsId}~`))).toEqual([]);
  });

  it('when the join held its ids in several buckets, then each bucket\'s unmatched actuals are matched and the pieces make one file per window', async () => {
    const { w, lake } = await world(aDemandModel(), { bucketRows: 2 });
    const { actualsId } = await actualsFirst(w);
    expect([...lake.objects.keys()].filter((k) => k.startsWith(`quarantine/demand/${actualsId}/bucket-`)).length).toBeGreaterThan(1);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    expect(await lateMatchInProcess(w, actualsId, 'run-late')).toMatchObject({ outcome: 'matched', matched: 4, windows: [DAY1, DAY2] });
    expect((await lateRows(w, DAY1, actualsId, 'run-late')).map((r) => r.id).sort()).toEqual(['d0', 'd1']);
    expect((await lateRows(w, DAY2, actualsId, 'run-late')).map((r) => r.id).sort()).toEqual(['d2', 'd3']);
    expect([...lake.objects.keys()].filter((k) => k.startsWith('datasets/demand/actuals-work/'))).toEqual([]);
  });

  it('when an attempt of a late match over several buckets stopped after writing its pieces, before the record, then the next attempt puts together only its own pieces', async () => {
    const { w, lake } = await world(aDemandModel(), { bucketRows: 2 });
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const before = (await w.runs.actuals.get('demand', actualsId))!.value;
    await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' });
    // As if the record write never happened, and a piece of that attempt stayed in the work folder.
    const stale = lakePaths.actualsWork('demand', actualsId, `late/run-late/${DAY1}/bucket-00009.parquet`);
    await lake.write(stale, await lake.readBuffer(lakePaths.lateLabelled('demand', DAY1, actualsId, 'run-late')));
    const stored = (await w.runs.actuals.get('demand', actualsId))!;
    await w.runs.actuals.replace('demand', actualsId, before, stored.etag);

    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' })).toMatchObject({ outcome: 'matched', matched: 4 });
    expect((await lateRows(w, DAY1, actualsId, 'run-late')).map((r) => r.id).sort()).toEqual(['d0', 'd1']);
    expect([...lake.objects.keys()].filter((k) => k.startsWith('datasets/demand/actuals-work/'))).toEqual([]);
  });

  it('when a later actuals file labelled a prediction before the late match wrote the older file\'s actual for it, then the window and the trainer both take the later file\'s actual', async () => {
    const { w } = await world();
    const many: DropRow[] = Array.from({ length: 30 }, (_, i) => ({ id: `m${i}`, ts: '2026-03-01T08:00:00Z', x1: i / 10, x2: 1, region: i % 2 ? 'north' : 'south' }));
    // Sorted after the later file's id: when both files were written in the same millisecond, the trainer reads it first too.
    const early = await dropActuals(w, 'z-early.csv', actualsCsv(['id', 'sales'], many.map((r, i) => [r.id, i])));
    await joinInProcess(w, { ...early, lastModified: '2026-03-10T11:00:00.000Z' });
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows: many });
    // The correction arrives and joins after the run completed, before the late match of the early file.
    w.now = new Date('2026-03-10T14:30:00Z');
    const correction = await dropActuals(w, 'b-correction.csv', actualsCsv(['id', 'sales'], [['m0', 99]]));
    await joinInProcess(w, { ...correction, lastModified: '2026-03-10T14:00:00.000Z' });
    const earlyId = actualsIdOf(early.path, early.etag);
    expect(await lateMatchInProcess(w, earlyId, 'run-late')).toMatchObject({ outcome: 'matched', matched: 30 });

    const window = (await w.runs.windows.get('demand', DAY1))!.value;
    expect(window.labelled).toBe(30);
    const actual = Float64Array.from(many, (_, i) => (i === 0 ? 99 : i));
    const predicted = Float64Array.from(many, (r) => predictionOf(Number(r.x1), Number(r.x2)));
    expect(window.performance!.metrics).toEqual(computeMetricsByKeys('regression', { actual, predicted }, ['region'], { region: many.map((r) => r.region) }, { bootstrap: { resamples: 50 } }));

    const parent = (await w.registry.getModel('demand'))!;
    const snapshot = await trainingSnapshot(
      { lake: w.lake, files: w.files, runs: w.runs },
      { definition: w.definition, parent: parent as never, windowId: DAY1, limits: { windows: 1, maxRows: 1000, minRows: 1 } },
    );
    expect(snapshot).toMatchObject({ source: 'labelled', skipped: { superseded_actual: 1 } });
    expect(snapshot.trainRows + snapshot.validationRows).toBe(30);
    const csv = [snapshot.trainPath, snapshot.validationPath].map(async (p) => (await w.lake.readBuffer(p)).toString());
    const lines = (await Promise.all(csv)).flatMap((text) => text.trim().split('\n').slice(1));
    expect(lines.filter((l) => l.startsWith('m0,')).map((l) => l.split(',').at(-1))).toEqual(['99']);
  });
});

/** The world's publisher, keeping every event handed to it (duplicates included) and whether the record held the match by then. */
function watchedEvents(w: ActualsWorld) {
  const sent: { event: ModelEventInput; recorded: boolean }[] = [];
  const inner = w.deps.events;
  const events: EventPublisher = {
    publish: async (event) => {
      const stored = (await w.runs.actuals.get('demand', (event.data as { actualsId: string }).actualsId))?.value;
      sent.push({ event, recorded: (stored?.lateMatches ?? []).some((m) => m.runId === (event.data as { runId: string }).runId) });
      await inner.publish(event);
    },
    publishAll: async (events) => {
      for (const event of events) await inner.publish(event);
    },
  };
  const lateEvents = () => sent.filter((s) => s.event.type === 'actuals.late_matched');
  return { deps: { ...w.deps, events }, lateEvents };
}

describe('late matching: the actuals.late_matched event', () => {
  const publisher = (w: ActualsWorld) => w.events as RecordingPublisher;

  it('when a late match labels rows, then actuals.late_matched is published once the record holds the match: the file, the run, the rows and windows, under an id of the pair', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const { deps, lateEvents } = watchedEvents(w);
    await lateMatchActuals(deps, { model: 'demand', actualsId, runId: 'run-late' });

    expect(lateEvents()).toEqual([
      {
        recorded: true,
        event: {
          type: 'actuals.late_matched',
          eventId: `actuals-late-match:${actualsId}:run-late`,
          model: 'demand',
          occurredAt: w.now.toISOString(),
          data: { actualsId, runId: 'run-late', matched: 4, windows: [DAY1, DAY2] },
        },
      },
    ]);
    expect(publisher(w).ofType('actuals.late_matched')).toHaveLength(1);
  });

  it('when a late match labels rows in more windows than a message holds (a year of hourly windows and more), then the event names the first MAX_LATE_MATCH_EVENT_WINDOWS and counts the rest, within 256 KB with ids at their longest', () => {
    const hours = 20_000;
    const windows = Array.from({ length: hours }, (_, i) => new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString().replace(/[-:]/g, '').replace(/\d{2}\.\d{3}Z$/, 'Z'));
    const match = { runId: 'r'.repeat(128), matched: 1_000_000, at: LATER, windows };
    const event = modelEventSchema.parse({ ...lateMatchEvent({ modelName: 'demand', actualsId: 'a'.repeat(200) }, match), correlationId: 'c'.repeat(128) });

    expect(event.type === 'actuals.late_matched' && event.data).toEqual(expect.objectContaining({ windows: windows.slice(0, MAX_LATE_MATCH_EVENT_WINDOWS), omittedWindows: hours - MAX_LATE_MATCH_EVENT_WINDOWS }));
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(256 * 1024);
    const few = lateMatchEvent({ modelName: 'demand', actualsId: 'a1' }, { ...match, windows: windows.slice(0, MAX_LATE_MATCH_EVENT_WINDOWS) });
    expect(few.type === 'actuals.late_matched' && few.data).toEqual({ actualsId: 'a1', runId: match.runId, matched: match.matched, windows: windows.slice(0, MAX_LATE_MATCH_EVENT_WINDOWS) });
  });

  it('when the same pair is matched again (the other side of the race, a retry, a replay), then the same event goes out again under the same id and the topic drops it: nothing new', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const { deps, lateEvents } = watchedEvents(w);
    await lateMatchActuals(deps, { model: 'demand', actualsId, runId: 'run-late' });
    w.now = new Date('2026-03-10T14:00:00Z');
    expect(await lateMatchActuals(deps, { model: 'demand', actualsId, runId: 'run-late' })).toMatchObject({ outcome: 'done' });

    const [first, again] = lateEvents();
    expect(again).toEqual(first);
    expect(publisher(w).ofType('actuals.late_matched')).toHaveLength(1);
  });

  it('when a late match matches nothing, or is skipped, then nothing is published', async () => {
    const { w } = await world();
    const { actualsId, input } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-other', createdAt: LATER, rows: [{ id: 'x9', ts: '2026-03-01T08:00:00Z', x1: 1, x2: 1, region: 'north' }] });
    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-other' })).toMatchObject({ outcome: 'none', matched: 0 });
    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'no-such-run' })).toMatchObject({ outcome: 'skipped' });
    await w.lake.write(input.path, Buffer.from(actualsCsv(['id', 'sales'], [['d0', 1]])));
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' })).toMatchObject({ outcome: 'skipped' });
    expect(publisher(w).ofType('actuals.late_matched')).toEqual([]);
  });

  it('when the publish fails after the record was written, then the late match fails (the activity is retried) and its retry, finding the pair done, publishes the event', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    publisher(w).failNext = true;
    await expect(lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' })).rejects.toThrow('the broker is unreachable');
    expect(await record(w, actualsId)).toMatchObject({ matched: 4, lateMatches: [{ runId: 'run-late', matched: 4 }] });
    expect(publisher(w).ofType('actuals.late_matched')).toEqual([]);

    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' })).toEqual({ outcome: 'done', matched: 4, windows: [DAY1, DAY2] });
    expect(publisher(w).ofType('actuals.late_matched')).toEqual([
      expect.objectContaining({ eventId: lateMatchEventId(actualsId, 'run-late'), occurredAt: (await record(w, actualsId)).lateMatches![0]!.at, data: { actualsId, runId: 'run-late', matched: 4, windows: [DAY1, DAY2] } }),
    ]);
  });

  it('when the publish fails for good after the record was written, then the windows the record holds for the pair are what the orchestration refreshes at the end; a pair the record does not hold has none', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    await scoredRun(w, { runId: 'run-none', createdAt: LATER, rows: [{ id: 'zz', ts: '2026-03-01T08:00:00Z', x1: 1, x2: 1, region: 'north' }] });
    publisher(w).failNext = true;
    await expect(lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-late' })).rejects.toThrow('the broker is unreachable');
    // Its rows are recorded and written, but no window counts them yet.
    expect((await w.runs.windows.get('demand', DAY1))?.value.labelled ?? 0).toBe(0);

    const recorded = await recordedLateWindows(w.deps, { model: 'demand', actualsId, runId: 'run-late' });
    expect(recorded).toEqual({ windows: [DAY1, DAY2] });
    for (const windowId of recorded.windows) await refreshLateWindow(w.deps, { model: 'demand', windowId });
    expect((await w.runs.windows.get('demand', DAY1))!.value).toMatchObject({ labelled: 2 });
    expect((await w.runs.windows.get('demand', DAY2))!.value).toMatchObject({ labelled: 2 });

    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-none' })).toMatchObject({ outcome: 'none' });
    expect(await recordedLateWindows(w.deps, { model: 'demand', actualsId, runId: 'run-none' })).toEqual({ windows: [] });
    expect(await recordedLateWindows(w.deps, { model: 'demand', actualsId: 'no-such-record', runId: 'run-late' })).toEqual({ windows: [] });
  });

  it('when two runs late-match the same file, then each pair publishes its own event with the rows it recorded (ids the first took are not the second\'s)', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-a', createdAt: LATER, rows: rows.slice(0, 3) });
    await scoredRun(w, { runId: 'run-b', createdAt: LATER, rows: rows.slice(1) });
    await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-a' });
    await lateMatchActuals(w.deps, { model: 'demand', actualsId, runId: 'run-b' });
    const events = publisher(w).ofType('actuals.late_matched');
    expect(events.map((e) => [e.eventId, e.data.runId, e.data.matched, e.data.windows])).toEqual([
      [`actuals-late-match:${actualsId}:run-a`, 'run-a', 3, [DAY1, DAY2]],
      [`actuals-late-match:${actualsId}:run-b`, 'run-b', 1, [DAY2]],
    ]);
  });

  it('when the actuals id and the run id are long, then the event id fits a Service Bus message id and still tells the pairs apart', () => {
    const actualsId = `${'a'.repeat(60)}-0123456789abcdef`;
    const [one, two] = [`${'r'.repeat(100)}-1`, `${'r'.repeat(100)}-2`].map((runId) => lateMatchEventId(actualsId, runId));
    expect(one!.length).toBe(MAX_EVENT_ID_LENGTH);
    expect(one).not.toEqual(two);
    expect(lateMatchEventId(actualsId, `${'r'.repeat(100)}-1`)).toBe(one);
  });
});

describe('late matching: the champion revalidated on new segment values it labelled', () => {
  const profile = { schemaVersion: 1 as const, rowCount: 10, columns: {} };

  /** v1 the champion, its reference profile knowing north and south only. */
  async function withChampion(w: ActualsWorld): Promise<RevalidationDeps> {
    await w.registry.registerVersion('demand', (n) => aModelVersion({ modelName: 'demand', version: n, datasets: [] }));
    await w.registry.swapChampion({ modelName: 'demand', version: 1, previous: [], epoch: 1, since: '2026-03-01T00:00:00.000Z' }, undefined);
    const reference = { schemaVersion: 1, model: 'demand', version: 1, source: 'datasets/demand/validation.csv', overall: profile, segments: { 'region=north': profile, 'region=south': profile } };
    await w.lake.write(lakePaths.referenceProfile('demand', 1), Buffer.from(JSON.stringify(reference)));
    return { registry: w.registry, runs: w.runs, lake: w.lake, files: w.files };
  }

  const east: DropRow = { id: 'e0', ts: '2026-03-01T07:00:00Z', x1: 1, x2: 1, region: 'east' };
  const west: DropRow[] = [
    { id: 'w0', ts: '2026-03-02T08:00:00Z', x1: 1, x2: 2, region: 'west' },
    { id: 'w1', ts: '2026-03-02T09:00:00Z', x1: 2, x2: 1, region: 'west' },
  ];

  it('when a late match labels rows of a segment value the champion\'s reference lacks, then that pair asks for a revalidation on its windows, whose data holds its late-labelled rows; a pair of known values and the join\'s own new value do not count for it', async () => {
    const { w } = await world();
    const deps = await withChampion(w);
    // The join matches e0 (east, new) against a run it planned; the rest waits for later runs.
    await scoredRun(w, { runId: 'run-early', createdAt: '2026-03-09T00:00:00Z', rows: [east] });
    const input = await dropActuals(w, 'mixed.csv', actualsCsv(['id', 'sales'], [['e0', 5], ...rows.map((r) => [r.id, actualOf[r.id]!]), ['w0', 8], ['w1', 9]]));
    const { record: joined } = await joinInProcess(w, input);
    const actualsId = joined!.actualsId;
    expect(joined).toMatchObject({ matched: 1, unmatched: 6 });
    expect(await revalidationFor(deps, { model: 'demand', actualsId })).toMatchObject({ newSegments: ['region=east'] });

    // north and south only: nothing new in these rows, though the file's metrics still have east.
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    await lateMatchInProcess(w, actualsId, 'run-late');
    expect((await record(w, actualsId)).metrics!.segments.map((x) => x.segment)).toContain('region=east');
    expect(await revalidationFor(deps, { model: 'demand', actualsId, runId: 'run-late' })).toBeNull();

    await scoredRun(w, { runId: 'run-west', createdAt: LATER, rows: west });
    expect(await lateMatchInProcess(w, actualsId, 'run-west')).toMatchObject({ outcome: 'matched', matched: 2, windows: [DAY2] });
    const found = await revalidationFor(deps, { model: 'demand', actualsId, runId: 'run-west' });
    expect(found).toEqual({ model: 'demand', version: 1, actualsId, runId: 'run-west', windows: [DAY2], newSegments: ['region=west'] });
    expect(revalidationReason(found!)).toBe(`new segment value(s) region=west labelled by actuals ${actualsId} matched late with run run-west`);

    // Its data: every labelled file of the pair's window, the late one included, joined back to the drops; beside the join's own revalidation data.
    const path = await writeRevalidationData(deps, found!, 1000);
    expect(path).toBe(lakePaths.lateRevalidationDataset('demand', actualsId, 'run-west'));
    expect(path).not.toBe(revalidationDataPath({ model: 'demand', actualsId }));
    const [header, ...lines] = (await w.lake.readBuffer(path)).toString().trim().split('\n');
    const region = header!.split(',').indexOf('region');
    expect(lines.map((l) => l.split(',')[region]).sort()).toEqual(['north', 'south', 'west', 'west']);
  });

  it('when a late match labels more new values of a key than SEGMENT_MAX_VALUES, then its revalidation names the first values up to the cap (its files are read as written, not folded)', async () => {
    const { w } = await world();
    const many: DropRow[] = ['west', 'alpha', 'zulu'].map((region, i) => ({ id: `m${i}`, ts: '2026-03-02T08:00:00Z', x1: 1, x2: 1, region }));
    const early = await dropActuals(w, 'many.csv', actualsCsv(['id', 'sales'], many.map((r) => [r.id, 5])));
    const actualsId = (await joinInProcess(w, early)).record!.actualsId;
    await scoredRun(w, { runId: 'run-many', createdAt: LATER, rows: many });
    expect(await lateMatchInProcess(w, actualsId, 'run-many')).toMatchObject({ outcome: 'matched', matched: 3 });
    const deps = await withChampion(w);
    const pair = { model: 'demand', actualsId, runId: 'run-many' };
    expect(await revalidationFor(deps, pair)).toMatchObject({ newSegments: ['region=alpha', 'region=west', 'region=zulu'] });
    expect(await revalidationFor({ ...deps, segmentMaxValues: 2 }, pair)).toMatchObject({ newSegments: ['region=alpha', 'region=west'] });
  });

  it('when there is no champion or no reference, the pair is not recorded (it matched nothing), or the record was replaced, then nothing is revalidated', async () => {
    const { w } = await world();
    const early = await dropActuals(w, 'west.csv', actualsCsv(['id', 'sales'], [['w0', 8], ['w1', 9]]));
    const westId = (await joinInProcess(w, early)).record!.actualsId;
    await scoredRun(w, { runId: 'run-west', createdAt: LATER, rows: west });
    await lateMatchInProcess(w, westId, 'run-west');
    const pair = { model: 'demand', actualsId: westId, runId: 'run-west' };
    expect(await revalidationFor({ registry: w.registry, runs: w.runs, lake: w.lake, files: w.files }, pair)).toBeNull();

    const deps = await withChampion(w);
    expect(await revalidationFor(deps, pair)).toMatchObject({ runId: 'run-west', newSegments: ['region=west'] });
    const reference = await w.lake.readBuffer(lakePaths.referenceProfile('demand', 1));
    await w.lake.delete(lakePaths.referenceProfile('demand', 1));
    expect(await revalidationFor(deps, pair)).toBeNull();
    await w.lake.write(lakePaths.referenceProfile('demand', 1), reference);

    expect(await revalidationFor(deps, { ...pair, runId: 'no-such-run' })).toBeNull();
    const { actualsId: otherId } = await actualsFirst(w);
    expect(await lateMatchActuals(w.deps, { model: 'demand', actualsId: otherId, runId: 'run-west' })).toMatchObject({ outcome: 'none' });
    expect(await revalidationFor(deps, { ...pair, actualsId: otherId })).toBeNull();

    // A version being replaced by a newer upload of its path: its late files leave the windows first, the record is marked last.
    const late = lakePaths.lateLabelled('demand', DAY2, westId, 'run-west');
    const moved = await w.lake.readBuffer(late);
    await w.lake.delete(late);
    expect(await revalidationFor(deps, pair)).toBeNull();
    await w.lake.write(late, moved);
    expect(await revalidationFor(deps, pair)).toMatchObject({ newSegments: ['region=west'] });
    const stored = (await w.runs.actuals.get('demand', westId))!;
    await w.runs.actuals.replace('demand', westId, { ...stored.value, replacedBy: { actualsId: 'newer', at: LATER, labelledFolder: 'datasets/demand/replaced/x/' } }, stored.etag);
    expect(await revalidationFor(deps, pair)).toBeNull();
  });

  /** A file of west actuals joined before its run existed (all unmatched), then that run scored: the pair to late-match. */
  async function westJoinedBeforeItsRun() {
    const { w } = await world();
    const deps = await withChampion(w);
    const early = await dropActuals(w, 'west.csv', actualsCsv(['id', 'sales'], [['w0', 8], ['w1', 9]]));
    const actualsId = (await joinInProcess(w, early)).record!.actualsId;
    await scoredRun(w, { runId: 'run-west', createdAt: LATER, rows: west });
    return { w, deps, actualsId, pair: { model: 'demand', actualsId, runId: 'run-west' } };
  }

  it('when the run and the join late-match the same pair at the same moment, then the record keeps the side whose write landed and only that side is answered: the revalidation\'s instance is started once; both publish the one event under one id', async () => {
    const { w, deps, actualsId, pair } = await westJoinedBeforeItsRun();

    const events = w.events as RecordingPublisher;
    const sentBefore = events.attempts;
    const [byRun, byJoin] = await Promise.all([lateMatchActuals(w.deps, { ...pair, side: 'run' }), lateMatchActuals(w.deps, { ...pair, side: 'join' })]);
    expect([byRun.outcome, byJoin.outcome].sort()).toEqual(['done', 'matched']);
    const recorder = byRun.outcome === 'matched' ? 'run' : 'join';
    const other = recorder === 'run' ? 'join' : 'run';
    const entry = (await record(w, actualsId)).lateMatches!;
    expect(entry).toEqual([expect.objectContaining({ runId: 'run-west', matched: 2, recordedBy: recorder })]);

    expect(await revalidationFor(deps, { ...pair, side: recorder })).toMatchObject({ runId: 'run-west', newSegments: ['region=west'] });
    expect(await revalidationFor(deps, { ...pair, side: other })).toBeNull();
    // Both sides sent it (each publish is its own attempt), under one id: the topic keeps one.
    expect(events.attempts - sentBefore).toBe(2);
    expect(events.ofType('actuals.late_matched')).toEqual([expect.objectContaining({ eventId: lateMatchEventId(actualsId, 'run-west'), data: expect.objectContaining({ matched: 2 }) })]);
  });

  it('when a pair was recorded before the recording side was kept, then either side asking is answered, as before', async () => {
    const { w, deps, actualsId, pair } = await westJoinedBeforeItsRun();
    expect(await lateMatchActuals(w.deps, pair)).toMatchObject({ outcome: 'matched' });
    expect((await record(w, actualsId)).lateMatches![0]!.recordedBy).toBeUndefined();
    for (const side of ['run', 'join'] as const) expect(await revalidationFor(deps, { ...pair, side })).toMatchObject({ newSegments: ['region=west'] });
  });
});

/** The TabularFiles port, counting each chunk opened: one open of a predictions part is one read of it. */
function countingOpens(files: TabularFiles) {
  const opens: { path: string; columns?: readonly string[] }[] = [];
  const counting: TabularFiles = {
    plan: (path, options) => files.plan(path, options),
    open: (path, chunk, hints) => {
      opens.push({ path, ...(hints?.columns ? { columns: hints.columns } : {}) });
      return files.open(path, chunk, hints);
    },
    parquetSink: () => files.parquetSink(),
    concatParquet: (parts, output) => files.concatParquet(parts, output),
  };
  const partReads = () => opens.filter((o) => o.path.startsWith('predictions/'));
  return { files: counting, partReads };
}

/** An actuals file of ids no run scores (`never` in every one of them), joined: a record waiting for late matches. */
async function waitingFile(w: ActualsWorld, i: number) {
  const input = await dropActuals(w, `ghosts-${String(i).padStart(2, '0')}.csv`, actualsCsv(['id', 'sales'], [[`ghost-${i}-a`, 1], [`ghost-${i}-b`, 2], ['never', 3]]));
  const { record: joined } = await joinInProcess(w, input);
  expect(joined).toMatchObject({ state: 'completed', matched: 0, unmatched: 3 });
  return joined!.actualsId;
}

describe('late matching: which waiting records a completed run is matched with (one read of its ids)', () => {
  it('when 20 records wait for late matches and one of them has ids in the new run, then the run\'s parts are read once to find it and once to match it; it is matched as before, the others are untouched', async () => {
    const { w, lake } = await world();
    const ghosts: string[] = [];
    for (let i = 0; i < 19; i += 1) ghosts.push(await waitingFile(w, i));
    const { actualsId, input } = await actualsFirst(w);
    // Several parts, so a part read twice as often is seen per part.
    const run = await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows, chunkBytes: 40 });
    const parts = (JSON.parse((await lake.readBuffer(lakePaths.predictionManifest('demand', 1, 'run-late'))).toString()) as { parts: unknown[] }).parts;
    expect(run.chunks).toBeGreaterThan(1);
    expect(parts.length).toBe(run.chunks);
    const before = new Map(await Promise.all(ghosts.map(async (id) => [id, await record(w, id)] as const)));
    const { files, partReads } = countingOpens(w.deps.files);
    const deps = { ...w.deps, files };

    expect(await lateRecordsForRun(deps, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: [actualsId], waiting: 20 });
    // The prefilter reads each part once, its id column only.
    expect(partReads()).toHaveLength(parts.length);
    expect(partReads().every((o) => JSON.stringify(o.columns) === '["id"]')).toBe(true);
    const outcome = await lateMatchActuals(deps, { model: 'demand', actualsId, runId: 'run-late' });
    for (const windowId of outcome.windows) await refreshLateWindow(deps, { model: 'demand', windowId });
    const perPart = new Map<string, number>();
    for (const o of partReads()) perPart.set(o.path, (perPart.get(o.path) ?? 0) + 1);
    expect([...perPart.values()]).toEqual(new Array<number>(parts.length).fill(2));

    // Matched as without the prefilter (the first test above).
    expect(outcome).toEqual({ outcome: 'matched', matched: 4, windows: [DAY1, DAY2] });
    expect(await record(w, actualsId)).toMatchObject({
      matched: 4,
      unmatched: 1,
      windows: [DAY1, DAY2],
      source: { lastModified: input.lastModified },
      lateMatches: [{ runId: 'run-late', matched: 4, at: w.now.toISOString(), windows: [DAY1, DAY2] }],
    });
    expect((await lateRows(w, DAY1, actualsId, 'run-late')).map((r) => [r.id, r.actual, r.actuals_row])).toEqual([
      ['d0', 7, 1],
      ['d1', 1, 2],
    ]);
    expect((await w.runs.windows.get('demand', DAY2))!.value).toMatchObject({ labelled: 2 });
    // The others: their records as they were, no late file, still waiting for later runs.
    for (const id of ghosts) expect(await record(w, id)).toEqual(before.get(id));
    expect([...lake.objects.keys()].filter((k) => ghosts.some((id) => k.includes(`/${id}~`)))).toEqual([]);
    await scoredRun(w, { runId: 'run-later', createdAt: '2026-03-10T14:00:00Z', rows: [{ id: 'never', ts: '2026-03-02T10:00:00Z', x1: 1, x2: 1, region: 'north' }] });
    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-later' })).toEqual({ actualsIds: ghosts, waiting: 20 });
  });

  it('when the waiting records\' unmatched ids pass ACTUALS_BUCKET_ROWS, then they are held in groups, each one read of the run, and the records with ids in the run are all found', async () => {
    const { w } = await world(aDemandModel(), { bucketRows: 4 });
    const ghosts: string[] = [];
    for (let i = 0; i < 6; i += 1) ghosts.push(await waitingFile(w, i));
    // ghosts-03 holds an id of the run; so does the file of d0..d3 (several buckets of the join).
    const hitting = await dropActuals(w, 'ghosts-03b.csv', actualsCsv(['id', 'sales'], [['ghost-x', 1], ['d2', 5]]));
    const { record: hit } = await joinInProcess(w, hitting);
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const { files, partReads } = countingOpens(w.deps.files);

    const found = await lateRecordsForRun({ ...w.deps, files }, { model: 'demand', runId: 'run-late' });
    expect(found).toEqual({ actualsIds: [actualsId, hit!.actualsId].sort(), waiting: 8 });
    // Groups of 4 (id, record) pairs, each one read of the run's one part: the d0..d3 file's first 4
    // ids (a hit: its fifth id is not held), then 6 x 3 + 2 ids of the others: 6 reads in all.
    expect(partReads()).toHaveLength(6);
    for (const id of ghosts) expect((await record(w, id)).lateMatches).toBeUndefined();
  });

  it('when an id is unmatched in several records, then the one read of the run finds each of them', async () => {
    const { w } = await world();
    const ghosts: string[] = [];
    for (let i = 0; i < 3; i += 1) ghosts.push(await waitingFile(w, i));
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows: [{ id: 'never', ts: '2026-03-02T10:00:00Z', x1: 1, x2: 1, region: 'north' }] });
    const { files, partReads } = countingOpens(w.deps.files);
    expect(await lateRecordsForRun({ ...w.deps, files }, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: ghosts, waiting: 3 });
    expect(partReads()).toHaveLength(1);
  });

  it('when a waiting record\'s quarantine is damaged, then it is still listed (its own late match says what is wrong) and the others are filtered as usual', async () => {
    const { w, lake } = await world();
    await waitingFile(w, 0);
    const damaged = await waitingFile(w, 1);
    await lake.write(lakePaths.quarantine('demand', damaged, 'bucket-00000.jsonl'), Buffer.from('{"row": 1, "code": "unmatched", "cells": [\n'));
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: [damaged, actualsId].sort(), waiting: 3 });
  });

  it('when every record of a group is listed already (its quarantine damaged after some good lines), then the run is not read for that group', async () => {
    const { w, lake } = await world();
    const damaged = await waitingFile(w, 0);
    const good = '{"row":1,"code":"unmatched","reason":"no stored prediction has this id","cells":["ghost-0-a","1"]}';
    await lake.write(lakePaths.quarantine('demand', damaged, 'bucket-00000.jsonl'), Buffer.from(`${good}\n{"row": 2, "code": "unmatched", "cells": [\n`));
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const { files, partReads } = countingOpens(w.deps.files);
    expect(await lateRecordsForRun({ ...w.deps, files }, { model: 'demand', runId: 'run-late' })).toEqual({ actualsIds: [damaged], waiting: 1 });
    expect(partReads()).toEqual([]);
  });

  it('when reading the run fails on an outage while a record\'s ids are held, then the error is thrown (the activity is retried) and no quarantine download is left open', async () => {
    const { w } = await world(aDemandModel(), { bucketRows: 1 });
    await waitingFile(w, 0);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const streams: Readable[] = [];
    const lake = w.deps.lake;
    const tracking: DataLake = Object.assign(Object.create(lake) as DataLake, {
      read: async (path: string, range?: ByteRange) => {
        const stream = await lake.read(path, range);
        if (path.startsWith('quarantine/')) streams.push(stream);
        return stream;
      },
    });
    const files: TabularFiles = Object.assign(Object.create(w.deps.files) as TabularFiles, {
      open: (path: string) => Promise.reject(new Error(`connection reset reading ${path}`)),
    });
    await expect(lateRecordsForRun({ ...w.deps, lake: tracking, files }, { model: 'demand', runId: 'run-late' })).rejects.toThrow(/^connection reset reading predictions\//);
    expect(streams).toHaveLength(1);
    expect(streams[0]!.destroyed).toBe(true);
  });

  it('when the run\'s predictions cannot be read, then no record is listed (each late match would be skipped), with the reason', async () => {
    const { w, lake } = await world();
    await waitingFile(w, 0);
    await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    await lake.delete(lakePaths.predictionManifest('demand', 1, 'run-late'));
    expect(await lateRecordsForRun(w.deps, { model: 'demand', runId: 'run-late' })).toEqual({
      actualsIds: [],
      waiting: 2,
      reason: expect.stringMatching(/^run 'run-late' cannot be read: its predictions manifest '.*_manifest\.json' is gone$/),
    });
  });
});

/** A promise and the function that settles it: one step of a test waits for another's. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The world's deps with every write of an actuals record failing, as a Cosmos DB outage past the retries does. */
function recordWritesDown(w: ActualsWorld): ActualsDeps {
  const store = w.deps.runs.actuals;
  const down = Object.assign(Object.create(store) as typeof store, {
    replace: () => Promise.reject(new Error('Cosmos DB is unavailable (503)')),
  });
  return { ...w.deps, runs: { ...w.deps.runs, actuals: down } };
}

describe('late matching: the files of a late match whose record write failed for good', () => {
  const lateFiles = (lake: MemoryLake, actualsId: string) => [...lake.objects.keys()].filter((k) => k.includes(`/${actualsId}~`)).sort();
  const labelledIn = async (w: ActualsWorld, windowId: string) => (await w.runs.windows.get('demand', windowId))?.value.labelled ?? 0;
  const aVersion = () => aModelVersion({ modelName: 'demand', version: 1, datasets: [] });

  /** The ids of a training snapshot's rows (train and validation). */
  async function trainedIds(w: ActualsWorld, windowId: string): Promise<string[]> {
    const snapshot = await trainingSnapshot({ lake: w.lake, files: w.files, runs: w.runs }, { definition: w.definition, parent: aVersion(), windowId, limits: { windows: 2, maxRows: 1000, minRows: 1 } });
    expect(snapshot).toMatchObject({ source: 'labelled', from: [DAY1] });
    const csv = await Promise.all([snapshot.trainPath, snapshot.validationPath].map(async (p) => (await w.lake.readBuffer(p)).toString()));
    return csv.flatMap((text) => text.trim().split('\n').slice(1).map((line) => line.split(',')[0]!)).sort();
  }

  const revalidationRows = async (w: ActualsWorld, name: string) =>
    (await revalidationDataset({ lake: w.lake, files: w.files, runs: w.runs }, { definition: w.definition, version: aVersion(), windows: [DAY1], path: lakePaths.revalidationDataset('demand', name), maxRows: 1000 })).labelledRows;

  const early: DropRow[] = Array.from({ length: 30 }, (_, i) => ({ id: `m${i}`, ts: '2026-03-01T08:00:00Z', x1: i / 10, x2: 1, region: i % 2 ? 'north' : 'south' }));
  const others: DropRow[] = Array.from({ length: 10 }, (_, i) => ({ id: `o${i}`, ts: '2026-03-01T09:00:00Z', x1: i / 5, x2: 2, region: 'north' }));
  const ids = (of: readonly DropRow[]) => of.map((r) => r.id).sort();

  it('when a late match wrote its labelled files and its record write then failed for good, then no window, trainer or revalidation data counts them; its retry then counts them exactly once', async () => {
    const { w, lake } = await world();
    const input = await dropActuals(w, 'early.csv', actualsCsv(['id', 'sales'], [...early.map((r, i) => [r.id, i]), ['ghost', 4]]));
    const actualsId = (await joinInProcess(w, input)).record!.actualsId;
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows: [...early, ...others] });

    await expect(lateMatchActuals(recordWritesDown(w), { model: 'demand', actualsId, runId: 'run-late' })).rejects.toThrow('Cosmos DB is unavailable');
    // Written, and not recorded: the pair is unmatched as far as the record goes.
    expect(lateFiles(lake, actualsId)).toEqual([lakePaths.lateLabelled('demand', DAY1, actualsId, 'run-late')]);
    expect(await record(w, actualsId)).toMatchObject({ matched: 0, unmatched: 31 });
    expect((await record(w, actualsId)).lateMatches).toBeUndefined();

    // A later file labels o0..o9 of the same window: its join recomputes the window without the 30 rows.
    w.now = new Date('2026-03-10T14:30:00Z');
    const later = await dropActuals(w, 'later.csv', actualsCsv(['id', 'sales'], others.map((r, i) => [r.id, 100 + i])));
    expect((await joinInProcess(w, later)).record).toMatchObject({ state: 'completed', matched: 10 });
    expect((await w.runs.windows.get('demand', DAY1))!.value).toMatchObject({ labelled: 10, performance: { metrics: { overall: { rows: 10 } } } });
    expect(await trainedIds(w, DAY1)).toEqual(ids(others));
    expect(await revalidationRows(w, 'before-retry')).toBe(10);

    // The retry of the pair (a later attempt of the activity) rewrites the file and records it: counted once.
    w.now = new Date('2026-03-10T15:00:00Z');
    expect(await lateMatchInProcess(w, actualsId, 'run-late')).toEqual({ outcome: 'matched', matched: 30, windows: [DAY1] });
    expect(await record(w, actualsId)).toMatchObject({ matched: 30, unmatched: 1, lateMatches: [{ runId: 'run-late', matched: 30, windows: [DAY1] }] });
    expect(lateFiles(lake, actualsId)).toEqual([lakePaths.lateLabelled('demand', DAY1, actualsId, 'run-late')]);
    expect(await labelledIn(w, DAY1)).toBe(40);
    expect(await lateMatchInProcess(w, actualsId, 'run-late')).toMatchObject({ outcome: 'done', matched: 30 });
    expect(await record(w, actualsId)).toMatchObject({ matched: 30, unmatched: 1 });
    expect(await labelledIn(w, DAY1)).toBe(40);
    // A request of the next window reads DAY1 afresh (the first snapshot is kept under DAY1's name).
    expect(await trainedIds(w, DAY2)).toEqual(ids([...early, ...others]));
    expect(await revalidationRows(w, 'after-retry')).toBe(40);
  });

  it('when the retry labels fewer windows than the failed attempt (another run took some ids meanwhile), then the failed attempt\'s file of the other window is not counted, though its ids are labelled nowhere else there', async () => {
    const { w, lake } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    // d2 and d3 scored again by another run, under day 1's timestamps.
    await scoredRun(w, { runId: 'run-b', createdAt: LATER, rows: rows.slice(2).map((r) => ({ ...r, ts: '2026-03-01T10:00:00Z' })) });

    await expect(lateMatchActuals(recordWritesDown(w), { model: 'demand', actualsId, runId: 'run-late' })).rejects.toThrow('Cosmos DB is unavailable');
    expect(lateFiles(lake, actualsId)).toEqual([DAY1, DAY2].map((day) => lakePaths.lateLabelled('demand', day, actualsId, 'run-late')));
    expect(await lateMatchInProcess(w, actualsId, 'run-b')).toEqual({ outcome: 'matched', matched: 2, windows: [DAY1] });
    // d2 and d3 by run-b; run-late's d0 and d1 are not recorded.
    expect(await labelledIn(w, DAY1)).toBe(2);

    expect(await lateMatchInProcess(w, actualsId, 'run-late')).toEqual({ outcome: 'matched', matched: 2, windows: [DAY1] });
    expect(await record(w, actualsId)).toMatchObject({ matched: 4, unmatched: 1, windows: [DAY1], lateMatches: [{ runId: 'run-b', windows: [DAY1] }, { runId: 'run-late', windows: [DAY1] }] });
    expect(await labelledIn(w, DAY1)).toBe(4);
    // The first attempt's day-2 file (d2, d3 by run-late) stays in the folder, outside what the record holds.
    expect(lake.objects.has(lakePaths.lateLabelled('demand', DAY2, actualsId, 'run-late'))).toBe(true);
    await refreshLateWindow(w.deps, { model: 'demand', windowId: DAY2 });
    expect(await labelledIn(w, DAY2)).toBe(0);
  });

  it('when a window holds late files of one actuals file from several runs and a join\'s own file, then its refresh reads that one record once', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-a', createdAt: LATER, rows: rows.slice(0, 1) });
    await scoredRun(w, { runId: 'run-b', createdAt: LATER, rows: rows.slice(1, 2) });
    await lateMatchInProcess(w, actualsId, 'run-a');
    await lateMatchInProcess(w, actualsId, 'run-b');
    w.now = new Date('2026-03-10T14:30:00Z');
    await joinInProcess(w, await dropActuals(w, 'second.csv', actualsCsv(['id', 'sales'], [['d0', 70]])));

    const store = w.deps.runs.actuals;
    const read: string[] = [];
    const counting = Object.assign(Object.create(store) as typeof store, {
      get: (model: string, id: string) => {
        read.push(id);
        return store.get(model, id);
      },
    });
    expect(await refreshLateWindow({ ...w.deps, runs: { ...w.deps.runs, actuals: counting } }, { model: 'demand', windowId: DAY1 })).toMatchObject({ labelled: 2 });
    expect(read).toEqual([actualsId]);
  });

  it('when a refresh read the record before a late match\'s entry landed and its write then meets the late match\'s own refresh, then it reads the record again and keeps the late rows counted', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });

    const recordRead = deferred();
    const refreshed = deferred();
    // The other refresh: it reads the record, then waits to write until the late match's refresh wrote.
    const store = w.deps.runs.actuals;
    const windows = w.deps.runs.windows;
    let held = false;
    const holdFirstWrite = async () => {
      if (!held) {
        held = true;
        await refreshed.promise;
      }
    };
    const other = {
      ...w.deps,
      runs: {
        ...w.deps.runs,
        actuals: Object.assign(Object.create(store) as typeof store, {
          get: async (model: string, id: string) => {
            const got = await store.get(model, id);
            recordRead.resolve();
            return got;
          },
        }),
        windows: Object.assign(Object.create(windows) as typeof windows, {
          replace: async (...args: Parameters<typeof windows.replace>) => (await holdFirstWrite(), windows.replace(...args)),
          create: async (...args: Parameters<typeof windows.create>) => (await holdFirstWrite(), windows.create(...args)),
        }),
      },
    };
    // The late match: its files are written, then the other refresh starts and reads the record before the entry lands.
    let otherRefresh: Promise<unknown> | undefined;
    const lateMatch = {
      ...w.deps,
      runs: {
        ...w.deps.runs,
        actuals: Object.assign(Object.create(store) as typeof store, {
          replace: async (...args: Parameters<typeof store.replace>) => {
            otherRefresh = refreshLateWindow(other, { model: 'demand', windowId: DAY1 });
            await recordRead.promise;
            return store.replace(...args);
          },
        }),
      },
    };
    const outcome = await lateMatchActuals(lateMatch, { model: 'demand', actualsId, runId: 'run-late' });
    expect(outcome).toMatchObject({ outcome: 'matched', windows: [DAY1, DAY2] });
    expect(await refreshLateWindow(w.deps, { model: 'demand', windowId: DAY1 })).toMatchObject({ labelled: 2 });
    refreshed.resolve();
    expect(await otherRefresh).toMatchObject({ labelled: 2 });
    expect(await labelledIn(w, DAY1)).toBe(2);
  });

  /** The early file's 30 ids late-matched into DAY1 and the later file's 10 joined there on their own; then, with `damaged`, the early record is damaged in the store. */
  async function lateMatchedEarly({ damaged }: { damaged: boolean }) {
    const { w } = await world();
    const input = await dropActuals(w, 'early.csv', actualsCsv(['id', 'sales'], [...early.map((r, i) => [r.id, i]), ['ghost', 4]]));
    const actualsId = (await joinInProcess(w, input)).record!.actualsId;
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows: [...early, ...others] });
    w.now = new Date('2026-03-10T14:30:00Z');
    expect((await joinInProcess(w, await dropActuals(w, 'later.csv', actualsCsv(['id', 'sales'], others.map((r, i) => [r.id, 100 + i]))))).record).toMatchObject({ matched: 10 });
    expect(await lateMatchInProcess(w, actualsId, 'run-late')).toMatchObject({ outcome: 'matched', matched: 30 });
    expect(await labelledIn(w, DAY1)).toBe(40);
    if (damaged) (w.runs.actuals as InMemoryActualsCollection).storeUnchecked('demand', actualsId, { ...(await record(w, actualsId)), unmatched: -1 });
    return { w, actualsId };
  }

  it('when an actuals record with late files in a window no longer reads, then the window is refreshed without them (the other files count), and the update names the record and why', async () => {
    const { w, actualsId } = await lateMatchedEarly({ damaged: true });

    const update = await refreshLateWindow(w.deps, { model: 'demand', windowId: DAY1 });
    expect(update).toMatchObject({ windowId: DAY1, labelled: 10, uncountedRecords: [{ actualsId, reason: expect.stringMatching(/^its stored actuals document is invalid: [\s\S]*unmatched/), files: 1 }] });
    expect((await w.runs.windows.get('demand', DAY1))!.value).toMatchObject({ labelled: 10, performance: { metrics: { overall: { rows: 10 } } } });
    // A window with no late file of it reads no record and names none.
    expect(await refreshLateWindow(w.deps, { model: 'demand', windowId: DAY2 })).not.toHaveProperty('uncountedRecords');
  });

  it('when an actuals record with late files no longer reads, then the trainer\'s snapshot and a revalidation\'s data leave those files out and count them as skipped', async () => {
    const { w } = await lateMatchedEarly({ damaged: true });

    const snapshot = await trainingSnapshot({ lake: w.lake, files: w.files, runs: w.runs }, { definition: w.definition, parent: aVersion(), windowId: DAY2, limits: { windows: 2, maxRows: 1000, minRows: 1 } });
    expect(snapshot).toMatchObject({ source: 'labelled', from: [DAY1], trainRows: expect.any(Number), skipped: { late_file_of_unreadable_record: 1 } });
    expect(snapshot.trainRows + snapshot.validationRows).toBe(10);
    const data = await revalidationDataset({ lake: w.lake, files: w.files, runs: w.runs }, { definition: w.definition, version: aVersion(), windows: [DAY1], path: lakePaths.revalidationDataset('demand', 'damaged'), maxRows: 1000 });
    expect(data).toMatchObject({ labelledRows: 10, skipped: { late_file_of_unreadable_record: 1 } });
  });

  it('when the records cannot be read for an outage, then the window refresh fails, to be retried, and the stored figures stay as they were', async () => {
    const { w } = await lateMatchedEarly({ damaged: false });
    const store = w.deps.runs.actuals;
    const down = Object.assign(Object.create(store) as typeof store, { get: () => Promise.reject(new Error('Cosmos DB is unavailable (503)')) });

    await expect(refreshLateWindow({ ...w.deps, runs: { ...w.deps.runs, actuals: down } }, { model: 'demand', windowId: DAY1 })).rejects.toThrow('Cosmos DB is unavailable (503)');
    expect(await labelledIn(w, DAY1)).toBe(40);
  });
});

describe('late matching: a pair whose own actuals record no longer reads', () => {
  /** Actuals joined all unmatched and a run that carries their ids; then the record damaged in the store (`unmatched` below zero). */
  async function damagedRecord() {
    const { w, lake } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    (w.runs.actuals as InMemoryActualsCollection).storeUnchecked('demand', actualsId, { ...(await record(w, actualsId)), unmatched: -1 });
    return { w, lake, actualsId };
  }

  /** DOCUMENT_UNREADABLE naming the record and why: the expected failure the orchestration gives up on at once. */
  const unreadable = (actualsId: string) => ({
    code: 'DOCUMENT_UNREADABLE',
    message: expect.stringMatching(new RegExp(`^the stored actuals record '${actualsId}' of 'demand' cannot be read: its stored actuals document is invalid: [\\s\\S]*unmatched`)),
  });

  it('when the record of a pair no longer reads, then its late match, the join\'s listing of runs, its recorded windows and its revalidation question fail with DOCUMENT_UNREADABLE naming the record, and nothing is written or published', async () => {
    const { w, lake, actualsId } = await damagedRecord();
    const pair = { model: 'demand', actualsId, runId: 'run-late' };
    const before = new Set(lake.objects.keys());

    await expect(lateMatchActuals(w.deps, { ...pair, side: 'run' })).rejects.toMatchObject(unreadable(actualsId));
    await expect(lateRunsForJoin(w.deps, { model: 'demand', actualsId })).rejects.toMatchObject(unreadable(actualsId));
    await expect(recordedLateWindows(w.deps, pair)).rejects.toMatchObject(unreadable(actualsId));
    await expect(revalidationFor({ registry: w.registry, runs: w.runs, lake: w.lake, files: w.files }, { ...pair, side: 'run' })).rejects.toMatchObject(unreadable(actualsId));
    expect([...lake.objects.keys()].filter((path) => !before.has(path))).toEqual([]);
    expect((w.events as RecordingPublisher).ofType('actuals.late_matched')).toEqual([]);
  });

  it('when the record cannot be read for an outage, then the late match fails with the outage as it came (no DomainError), so the orchestration\'s retry rounds still try it', async () => {
    const { w } = await world();
    const { actualsId } = await actualsFirst(w);
    await scoredRun(w, { runId: 'run-late', createdAt: LATER, rows });
    const store = w.deps.runs.actuals;
    const down = Object.assign(Object.create(store) as typeof store, { get: () => Promise.reject(new Error('Cosmos DB is unavailable (503)')) });
    const deps = { ...w.deps, runs: { ...w.deps.runs, actuals: down } };

    const failed = await lateMatchActuals(deps, { model: 'demand', actualsId, runId: 'run-late' }).catch((error: unknown) => error);
    expect(failed).toEqual(new Error('Cosmos DB is unavailable (503)'));
    expect(isDomainError(failed)).toBe(false);
    await expect(lateRunsForJoin(deps, { model: 'demand', actualsId })).rejects.toThrow('Cosmos DB is unavailable (503)');
  });
});
