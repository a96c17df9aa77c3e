/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { randomBytes } from 'node:crypto';

import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { cosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime';
import { lakePaths } from '../../shared/domain/lake-paths';
import { LakeLineSink } from '../../shared/usecases/line-sink';
import { actualsCsv, actualsWorld, aDemandModel, dropActuals, type DropRow, joinInProcess, scoredRun } from '../support/actuals-kit';
import { RecordingPublisher } from '../support/recording-publisher';
import { readParquetRows } from '../support/scoring-fixtures';

const runtime = new OnnxModelRuntime();
let container: ContainerClient;

beforeAll(async () => {
  container = BlobServiceClient.fromConnectionString(process.env.STORAGE_CONNECTION_STRING!).getContainerClient(`actuals-${Date.now()}`);
  await container.create();
});

afterAll(async () => {
  await container.delete();
  await runtime.close();
});

const DAY = '20260301T0000Z';
const rows: DropRow[] = Array.from({ length: 40 }, (_, i) => ({ id: `k${i}`, ts: `2026-03-01T${String(i % 24).padStart(2, '0')}:00:00Z`, x1: i % 5, x2: i % 3, region: i % 2 ? 'north' : 'south' }));

describe('actuals join on Blob Storage (Azurite) and Cosmos DB (local server)', () => {
  it('when two actuals files of one window are joined at the same time, then both land, the window counts every id once and the records are in Cosmos', async () => {
    const name = `act-${randomBytes(4).toString('hex')}`;
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const runs = cosmosRunStore();
    const events = new RecordingPublisher();
    const w = await actualsWorld({ definition: aDemandModel({ name }), lake, registry: cosmosModelRegistry(), runs, events, runtime }, { bucketRows: 7 });
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-02T00:00:00Z', rows, chunkBytes: 300 });
    // The window as batch inference left it: 40 predictions counted.
    await runs.windows.create(name, DAY, {
      modelName: name,
      window: { id: DAY, start: '2026-03-01T00:00:00.000Z', end: '2026-03-02T00:00:00.000Z' },
      version: 1,
      predictions: 40,
      labelled: 0,
      labelCoverage: 0,
      performance: null,
      drift: null,
    });

    const first = await dropActuals(w, 'a.csv', actualsCsv(['id', 'sales'], rows.slice(0, 25).map((r, i) => [r.id, i])));
    const second = await dropActuals(w, 'b.csv', actualsCsv(['id', 'sales'], rows.slice(15).map((r, i) => [r.id, 100 + i])));
    const [a, b] = await Promise.all([joinInProcess(w, first), joinInProcess(w, second)]);

    expect(a.record).toMatchObject({ state: 'completed', matched: 25, windows: [DAY] });
    expect(b.record).toMatchObject({ state: 'completed', matched: 25, windows: [DAY] });
    expect(a.summaries.length).toBeGreaterThan(2);
    const stored = await runs.actuals.list(name);
    expect(stored.map((r) => r.state)).toEqual(['completed', 'completed']);
    const doc = (await runs.windows.get(name, DAY))!.value;
    expect(doc).toMatchObject({ predictions: 40, labelled: 40, labelCoverage: 1, performance: { provisional: false } });
    expect(doc.performance!.metrics.overall.rows).toBe(40);

    const labelled = await readParquetRows(await lake.readBuffer(lakePaths.labelled(name, DAY, a.record!.actualsId)));
    expect(labelled).toHaveLength(25);
    expect(labelled.map((r) => r.id).sort()).toEqual(rows.slice(0, 25).map((r) => r.id).sort());
    expect(events.ofType('run.completed')).toHaveLength(2);
  });

  it('when a corrected file is uploaded over an older one (v1 ids A, B, C; v2 A, B), then the window counts v2\'s 2 rows only and v1\'s record says v2 replaced it', async () => {
    const name = `act-${randomBytes(4).toString('hex')}`;
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const runs = cosmosRunStore();
    const w = await actualsWorld({ definition: aDemandModel({ name }), lake, registry: cosmosModelRegistry(), runs, events: new RecordingPublisher(), runtime });
    await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-02T00:00:00Z', rows });
    const [a, b, c] = rows;
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [[a!.id, 1], [b!.id, 2], [c!.id, 300]])));
    expect(v1.record).toMatchObject({ state: 'completed', matched: 3 });
    expect((await runs.windows.get(name, DAY))!.value).toMatchObject({ labelled: 3 });

    // Same path, same second perhaps (Blob Storage stamps whole seconds): the blob's current version is the newest.
    const v2 = await joinInProcess(w, await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [[a!.id, 1], [b!.id, 2]])));
    expect(v2.record).toMatchObject({ state: 'completed', matched: 2 });

    const doc = (await runs.windows.get(name, DAY))!.value;
    expect(doc.labelled).toBe(2);
    expect(doc.performance!.metrics.overall.rows).toBe(2);
    expect(doc.performance!.metrics.overall).toEqual(v2.record!.metrics!.overall);
    expect((await runs.actuals.get(name, v1.record!.actualsId))!.value).toMatchObject({
      state: 'completed',
      matched: 3,
      replacedBy: { actualsId: v2.record!.actualsId, labelledFolder: lakePaths.replacedLabelledFolder(name, v1.record!.actualsId) },
    });
    const inWindow: string[] = [];
    for await (const o of lake.list(lakePaths.labelledFolder(name, DAY))) inWindow.push(o.path);
    expect(inWindow).toEqual([lakePaths.labelled(name, DAY, v2.record!.actualsId)]);
    expect(await readParquetRows(await lake.readBuffer(lakePaths.replacedLabelled(name, v1.record!.actualsId, DAY)))).toHaveLength(3);
  });

  it('when one of two completed runs lost its predictions manifest, then the join completes with the other run\'s ids and the record names the skipped run and why', async () => {
    const name = `act-${randomBytes(4).toString('hex')}`;
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const runs = cosmosRunStore();
    const w = await actualsWorld({ definition: aDemandModel({ name }), lake, registry: cosmosModelRegistry(), runs, events: new RecordingPublisher(), runtime });
    await scoredRun(w, { runId: 'run-kept', createdAt: '2026-03-02T00:00:00Z', rows: rows.slice(0, 20) });
    await scoredRun(w, { runId: 'run-cleaned', createdAt: '2026-03-03T00:00:00Z', rows: rows.slice(20) });
    const manifest = lakePaths.predictionManifest(name, 1, 'run-cleaned');
    await lake.delete(manifest);

    const { outcome, record } = await joinInProcess(w, await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], rows.map((r, i) => [r.id, i]))));

    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ state: 'completed', rows: 40, matched: 20, unmatched: 20, windows: [DAY] });
    const stored = (await runs.actuals.get(name, record!.actualsId))!.value;
    expect(stored.skippedRuns).toEqual([{ runId: 'run-cleaned', reason: `its predictions manifest '${manifest}' is gone` }]);
    const labelled = await readParquetRows(await lake.readBuffer(lakePaths.labelled(name, DAY, record!.actualsId)));
    expect(labelled.map((r) => r.id).sort()).toEqual(rows.slice(0, 20).map((r) => r.id).sort());
  });

  it('when a bucket gives up its quarantine lines after their upload began, then the upload ends at once and no object is stored', async () => {
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const path = lakePaths.quarantine(`act-${randomBytes(4).toString('hex')}`, 'x', 'bucket-00000.jsonl');
    const sink = new LakeLineSink(lake, path);
    for (let row = 1; row <= 3000; row += 1) await sink.write({ row, code: 'not_a_number:sales', reason: 'x'.repeat(50), cells: [`r${row}`, 'x'] });
    await sink.abort();
    expect(await lake.stat(path)).toBeUndefined();
  });
});
