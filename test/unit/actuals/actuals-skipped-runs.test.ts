/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { isDomainError } from '../../../shared/domain/errors';
import { lakePaths } from '../../../shared/domain/lake-paths';
import type { InferenceRun } from '../../../shared/schemas/monitoring';
import { actualsCsv, type ActualsWorld, actualsWorld, aDemandModel, dropActuals, type DropRow, joinInProcess, scoredRun } from '../../support/actuals-kit';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';
import { RecordingPublisher } from '../../support/recording-publisher';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const row = (id: string): DropRow => ({ id, ts: '2026-03-01T08:00:00Z', x1: 1, x2: 0, region: 'north' });

/** Two completed runs: run-old scored a and b, run-new scored c. */
async function twoRuns(settings = {}) {
  const lake = new MemoryLake();
  const w = await actualsWorld({ definition: aDemandModel(), lake, registry: new InMemoryModelRegistry(), runs: inMemoryRunStore(), events: new RecordingPublisher(), runtime }, settings);
  await scoredRun(w, { runId: 'run-old', createdAt: '2026-03-02T00:00:00Z', rows: [row('a'), row('b')] });
  await scoredRun(w, { runId: 'run-new', createdAt: '2026-03-05T00:00:00Z', rows: [row('c')] });
  return { w, lake };
}

const manifestOf = (run: string) => lakePaths.predictionManifest('demand', 1, run);
const partsOf = (lake: MemoryLake, run: string) => [...lake.objects.keys()].filter((k) => k.startsWith(lakePaths.predictionsRunFolder('demand', 1, run)) && k.endsWith('.parquet'));
const joinAbc = async (w: ActualsWorld) => joinInProcess(w, await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['a', 1], ['b', 2], ['c', 3]])));
async function quarantined(w: ActualsWorld, actualsId: string) {
  const text = (await w.lake.readBuffer(`quarantine/demand/${actualsId}/bucket-00000.jsonl`)).toString().trim();
  return text.split('\n').map((l) => JSON.parse(l) as { code: string; reason: string; cells: string[] });
}

describe('a completed run whose predictions are gone or damaged', () => {
  it('when its manifest was deleted, then the join completes with the other run\'s ids, its ids are quarantined as unmatched, and the record names the run and why', async () => {
    const { w, lake } = await twoRuns();
    lake.objects.delete(manifestOf('run-old'));

    const { outcome, record } = await joinAbc(w);

    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ state: 'completed', rows: 3, matched: 1, unmatched: 2 });
    expect(record!.skippedRuns).toEqual([{ runId: 'run-old', reason: `its predictions manifest '${manifestOf('run-old')}' is gone` }]);
    expect(record!.skippedRunsOmitted).toBeUndefined();
    const lines = await quarantined(w, record!.actualsId);
    expect(lines.map((l) => [l.code, l.cells[0]])).toEqual([['unmatched', 'a'], ['unmatched', 'b']]);
    expect(lines[0]!.reason).toMatch(/1 run\(s\) left out, their predictions gone or damaged: see the record's skippedRuns/);
  });

  it('when a part its manifest lists is gone, then the run is left out the same way, naming the part', async () => {
    const { w, lake } = await twoRuns();
    const [part] = partsOf(lake, 'run-old');
    lake.objects.delete(part!);

    const { outcome, record } = await joinAbc(w);

    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ matched: 1, unmatched: 2, skippedRuns: [{ runId: 'run-old', reason: `1 of its 1 predictions part(s) are gone, the first '${part}'` }] });
  });

  it('when its manifest is damaged (not JSON, or not a manifest), then the run is left out with that reason rather than failing every join of the model', async () => {
    const { w, lake } = await twoRuns();
    await lake.write(manifestOf('run-old'), Buffer.from('{"schemaVersion": 1, "parts": ['));
    await lake.write(manifestOf('run-new'), Buffer.from(JSON.stringify({ schemaVersion: 1, parts: 'none' })));

    const { outcome, record } = await joinAbc(w);

    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ matched: 0, unmatched: 3 });
    expect(record!.skippedRuns).toEqual([
      { runId: 'run-new', reason: expect.stringMatching(new RegExp(`^invalid predictions manifest ${manifestOf('run-new')}:`)) },
      { runId: 'run-old', reason: `its predictions manifest '${manifestOf('run-old')}' is not JSON` },
    ]);
  });

  it('when reading a manifest fails with an outage, then the plan throws it to be retried instead of leaving the run out', async () => {
    const { w } = await twoRuns();
    const readBuffer = w.lake.readBuffer.bind(w.lake);
    w.deps.lake = Object.assign(Object.create(w.lake) as typeof w.lake, {
      readBuffer: (path: string) => (path === manifestOf('run-old') ? Promise.reject(new Error('503 Server Busy')) : readBuffer(path)),
    });

    const { outcome, thrown, record } = await joinAbc(w);

    expect(outcome).toBe('failed');
    expect(isDomainError(thrown)).toBe(false);
    expect(record!.error).toBe('503 Server Busy');
    expect(record!.skippedRuns).toBeUndefined();
  });

  it('when many runs are gone, then the record lists the newest 20 and counts the others', async () => {
    const { w } = await twoRuns();
    for (let i = 0; i < 23; i += 1) {
      const runId = `gone-${String(i).padStart(2, '0')}`;
      const run: InferenceRun = {
        runId,
        modelName: 'demand',
        kind: 'batch',
        state: 'completed',
        sources: [{ path: `drops/demand/${runId}.csv`, etag: '"1"', size: 1 }],
        instanceId: runId,
        version: 1,
        chunks: 1,
        rowsRead: 1,
        rowsScored: 1,
        rowsQuarantined: 0,
        rejectionReasons: {},
        windows: ['20260301T0000Z'],
        createdAt: `2026-03-06T00:${String(i).padStart(2, '0')}:00.000Z`,
      };
      await w.runs.runs.create('demand', runId, run);
    }

    const { outcome, record } = await joinAbc(w);

    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ matched: 3, skippedRunsOmitted: 3 });
    expect(record!.skippedRuns!.map((r) => r.runId)).toEqual(Array.from({ length: 20 }, (_, i) => `gone-${String(22 - i).padStart(2, '0')}`));
  });

  it('when a part is removed after the plan found it, then the join fails naming the run and the part (every bucket must join the same runs)', async () => {
    const { w, lake } = await twoRuns();
    const [part] = partsOf(lake, 'run-old');
    // The plan opens each part's footer too: the part goes when a bucket reads its rows.
    const open = w.files.open.bind(w.files);
    w.deps.files = Object.assign(Object.create(w.files) as typeof w.files, {
      open: async (...args: Parameters<typeof w.files.open>) => {
        if (args[0] === part) lake.objects.delete(part);
        return open(...args);
      },
    });

    const { outcome, record, thrown } = await joinAbc(w);

    expect(outcome).toBe('failed');
    expect(isDomainError(thrown)).toBe(true);
    expect(record!.error).toBe(
      `the predictions part '${part}' of run 'run-old' was removed while the join read it (it was there when the join was planned); upload the actuals file again to join it without that run`,
    );
  });

  it('when a part its manifest lists is damaged (not Parquet, or cut short), then the run is left out naming the part, instead of failing every join of the model as if the actuals file were unreadable', async () => {
    const { w, lake } = await twoRuns();
    const [oldPart] = partsOf(lake, 'run-old');
    const [newPart] = partsOf(lake, 'run-new');
    await lake.write(oldPart!, Buffer.from('not parquet at all'));
    const bytes = lake.objects.get(newPart!)!.body;
    await lake.write(newPart!, bytes.subarray(0, Math.floor(bytes.length / 2)));

    const { outcome, record } = await joinAbc(w);

    expect(outcome).toBe('completed');
    expect(record).toMatchObject({ matched: 0, unmatched: 3 });
    expect(record!.skippedRuns).toEqual([
      { runId: 'run-new', reason: expect.stringMatching(new RegExp(`^its predictions part '${newPart}' is damaged: not a readable Parquet file`)) },
      { runId: 'run-old', reason: expect.stringMatching(new RegExp(`^its predictions part '${oldPart}' is damaged: not a readable Parquet file`)) },
    ]);
  });

  it('when a part is damaged after the plan read it, then the join fails naming the run and the part, not the actuals file', async () => {
    const { w, lake } = await twoRuns();
    const [part] = partsOf(lake, 'run-old');
    const input = await dropActuals(w, 'sales.csv', actualsCsv(['id', 'sales'], [['a', 1], ['b', 2], ['c', 3]]));

    const { outcome, record, thrown } = await joinInProcess(w, input, { afterPlan: async () => void (await lake.write(part!, Buffer.from('not parquet at all'))) });

    expect(outcome).toBe('failed');
    expect(isDomainError(thrown)).toBe(true);
    expect(record!.error).toMatch(
      new RegExp(`^the predictions part '${part}' of run 'run-old' cannot be read: not a readable Parquet file .*; upload the actuals file again to join it without that run$`),
    );
  });
});
