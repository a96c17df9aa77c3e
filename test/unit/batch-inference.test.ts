/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { Readable } from 'node:stream';

import { dropRunStart } from '../../functions/blob/drops';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import type { JsonCell } from '../../shared/domain/json-rows';
import { parseSentJson } from '../../shared/domain/json-text';
import type { Clock } from '../../shared/ports/clock';
import { modelEventSchema } from '../../shared/schemas/messages';
import { modelInputSchema } from '../../shared/schemas/model';
import { windowProfileSchema } from '../../shared/schemas/monitoring';
import {
  type BatchDeps,
  completeRun,
  dueScheduledRun,
  hasNewSegments,
  planRun,
  quarantinedCopyName,
  resumeWaitingRuns,
  runIdFor,
  type ScoredChunk,
  scoreRunChunk,
  startRun,
  VersionCache,
  waitingRuns,
} from '../../shared/usecases/batch-inference';
import { defaultChunkTargets } from '../../shared/usecases/plan-chunks';
import { registerPackage, stageUpload } from '../../shared/usecases/register-package';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { flavourEventOf } from '../../shared/usecases/run-events';
import { rowsAsRead, scoreRows } from '../../shared/usecases/score-rows';
import { validateVersion } from '../../shared/usecases/validate-version';
import { anActor, anApprover, anInferenceRun } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { inMemoryRunStore } from '../support/in-memory-run-store';
import { MemoryLake } from '../support/memory-lake';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';

const clock: Clock = { now: () => new Date('2026-06-01T12:00:00Z') };
const system = { id: 'system:test', kind: 'system' as const, roles: [] };

async function setup(options: { champion?: boolean; timestampColumn?: string } = {}) {
  const store = new InMemoryModelRegistry();
  const lake = new MemoryLake();
  const runtime = new OnnxModelRuntime();
  const registry = new RegistryUseCases({ registry: store, clock });
  const definition = aRegionalModel('demand', { validation: { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 20 } });
  await registry.createModel(options.timestampColumn ? { ...definition, timestampColumn: options.timestampColumn } : definition, anActor());
  await lake.write('datasets/demand/validation.csv', Buffer.from(toCsv(regionalRows(200, 1))));
  const deps: BatchDeps = { registry: store, runs: inMemoryRunStore(), lake, files: new LakeTabularFiles(lake), runtime, clock, cache: new VersionCache() };
  if (options.champion !== false) {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: 'datasets/demand/validation.csv' }] });
    const staged = await stageUpload({ registry, lake, maxArtifactBytes: 1e6, runtime }, 'demand', Readable.from([pkg.onnx]));
    await registerPackage({ registry, lake, maxArtifactBytes: 1e6, runtime }, { model: 'demand', manifest: pkg.manifest, artifact: staged, actor: anActor() });
    const outcome = await validateVersion({ registry: store, lake, files: deps.files, runtime }, { model: 'demand', version: 1, validatedAt: clock.now().toISOString() });
    await registry.applyCommand('demand', 1, { type: 'start_validation' }, system);
    await registry.applyCommand('demand', 1, { type: 'pass_validation', evidenceHash: outcome.evidenceHash }, system);
    await registry.applyCommand('demand', 1, { type: 'approve', evidenceHash: outcome.evidenceHash }, anApprover());
    await registry.applyCommand('demand', 1, { type: 'promote' }, system);
  }
  return { deps, lake, runtime, registry };
}

/** A drop scored up to its fan-in: what completeRun takes. */
async function scoredChunksOf(deps: BatchDeps, path: string, body: string) {
  await deps.lake.write(path, Buffer.from(body));
  const info = (await deps.lake.stat(path))!;
  const source = { path, etag: info.etag, size: info.size, lastModified: '2026-06-01T10:30:00.000Z' };
  const runId = runIdFor([source], source.lastModified);
  const started = await startRun(deps, { model: 'demand', runId, instanceId: `batch:demand:${runId}`, kind: 'batch', sources: [source] });
  const plan = await planRun(deps, { model: 'demand', runId });
  if ('failed' in plan) throw new Error(plan.failed);
  const chunks: ScoredChunk[] = [];
  for (const planned of plan.chunks) chunks.push(await scoreRunChunk(deps, { model: 'demand', runId, version: started.version!, planned, arrival: source.lastModified }));
  return { model: 'demand', runId, version: started.version!, chunks };
}

async function scoreDrop(deps: BatchDeps, path: string, body: string) {
  return completeRun(deps, await scoredChunksOf(deps, path, body));
}

describe('batch inference use cases', () => {
  it('when two runs of one window finish at once, then the window counts both runs (a recount read before the other run wrote does not win)', async () => {
    const { deps, runtime } = await setup();
    try {
      const first = await scoredChunksOf(deps, 'drops/demand/a.csv', toCsv(regionalRows(30, 100)));
      const second = await scoredChunksOf(deps, 'drops/demand/b.csv', toCsv(regionalRows(40, 101)));
      // The first fan-in's read of the window document waits until the second fan-in has finished.
      const windows = deps.runs.windows;
      let gate: (() => void) | undefined;
      const gated = new Promise<void>((resolve) => (gate = resolve));
      let reached!: () => void;
      const atGate = new Promise<void>((resolve) => (reached = resolve));
      let calls = 0;
      const slowFirstRead: typeof windows = Object.create(windows) as typeof windows;
      slowFirstRead.get = async (model, id) => {
        if (calls++ === 0) {
          reached();
          await gated;
        }
        return windows.get(model, id);
      };
      const racing = { ...deps, runs: { ...deps.runs, windows: slowFirstRead } };
      const firstDone = completeRun(racing, first);
      await atGate;
      await completeRun(racing, second);
      gate!();
      await firstDone;
      expect((await windows.get('demand', '20260601T0000Z'))!.value.predictions).toBe(70);
    } finally {
      await runtime.close();
    }
  });

  it('when the window\'s runs folder holds something other than run profiles, then only run profiles count, and a profile whose count does not read is named', async () => {
    const { deps, lake, runtime } = await setup();
    try {
      // A copy someone left in a subfolder is not a run profile of this window.
      await lake.write('profiles/demand/windows/20260601T0000Z/runs/backup/run-old.json', Buffer.from('{}'), { metadata: { predictions: '1000' } });
      await scoreDrop(deps, 'drops/demand/a.csv', toCsv(regionalRows(30, 7)));
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))!.value.predictions).toBe(30);
      // A run profile whose count was damaged: the recount fails naming it instead of storing NaN.
      await lake.write('profiles/demand/windows/20260601T0000Z/runs/run-damaged.json', Buffer.from('{}'), { metadata: { predictions: 'lots' } });
      await expect(scoreDrop(deps, 'drops/demand/b.csv', toCsv(regionalRows(20, 8)))).rejects.toThrow(
        /prediction count of run profile profiles\/demand\/windows\/20260601T0000Z\/runs\/run-damaged\.json/,
      );
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))!.value.predictions).toBe(30);
    } finally {
      await runtime.close();
    }
  });

  it('when a drop holds a region the reference never had, then the run names it as a new segment value and an unseen category', async () => {
    const { deps, runtime } = await setup();
    try {
      const rows = regionalRows(90, 4, { regions: ['north', 'south', 'east'] });
      const run = await scoreDrop(deps, 'drops/demand/east.csv', toCsv(rows));
      expect(run).toMatchObject({ state: 'completed', version: 1, rowsScored: 90, windows: ['20260601T0000Z'] });
      expect(run.flavours?.newSegmentValues).toEqual({ region: ['east'] });
      expect(run.flavours?.unseenCategories.region).toEqual({ rows: 30, values: ['east'] });
    } finally {
      await runtime.close();
    }
  });

  it('when a drop spells a known region with a space around it or another case, then the run lists those as unseen and names the known value each looks like', async () => {
    const { deps, runtime } = await setup();
    try {
      const rows = regionalRows(120, 5, { regions: ['north', ' north', 'North', 'east'] });
      const run = await scoreDrop(deps, 'drops/demand/spellings.csv', toCsv(rows));
      expect(run).toMatchObject({ state: 'completed', rowsScored: 120 });
      expect(run.flavours?.unseenCategories.region).toEqual({
        rows: 90,
        values: [' north', 'North', 'east'],
        lookAlikes: [
          { value: ' north', known: 'north' },
          { value: 'North', known: 'north' },
        ],
      });
    } finally {
      await runtime.close();
    }
  });

  it('when a drop brings far more region values than SEGMENT_MAX_VALUES (garbage in the column), then profiles, the run and its event stay bounded: the reference regions and the most frequent new ones are named, the rest counted as region=__other__', async () => {
    const { deps, lake, runtime } = await setup();
    try {
      // Several chunks, each within the cap on its own but not together: the fan-in's merge folds too.
      const capped: BatchDeps = { ...deps, segmentMaxValues: 5, chunkTargets: { ...defaultChunkTargets, targetChunkBytes: 2048 } };
      const garbage = Array.from({ length: 58 }, (_, i) => `r${String(i).padStart(2, '0')}`);
      // 346 rows over 60 values: north and south (the reference's) 120 rows each, r00..r11 5 each, r12..r57 one each.
      const rows = [...regionalRows(240, 21, { regions: ['north', 'south'] }), ...regionalRows(60, 22, { regions: garbage.slice(0, 12), idPrefix: 'g' }), ...regionalRows(46, 23, { regions: garbage.slice(12), idPrefix: 'h' })];
      const run = await scoreDrop(capped, 'drops/demand/garbage.csv', toCsv(rows));
      expect(run.chunks).toBeGreaterThan(1);
      expect(run.state).toBe('completed');
      const profile = windowProfileSchema.parse(JSON.parse(lake.body(`profiles/demand/windows/20260601T0000Z/runs/${run.runId}.json`).toString()));
      const regions = Object.keys(profile.segments).sort();
      expect(regions).toHaveLength(6);
      expect(regions).toEqual(expect.arrayContaining(['region=north', 'region=south', 'region=__other__']));
      const named = regions.filter((r) => r !== 'region=__other__').reduce((sum, r) => sum + profile.segments[r]!.rowCount, 0);
      expect(profile.segments['region=__other__']!.rowCount).toBe(rows.length - named);
      expect(profile.cappedSegments?.region).toMatchObject({ limit: 5, foldedRows: rows.length - named });
      expect(profile.cappedSegments!.region!.distinctValuesAtLeast).toBeGreaterThanOrEqual(6);
      // The run names the three new values it kept and counts the rest; the event says the same.
      expect(run.flavours!.newSegmentValues.region).toHaveLength(3);
      expect(run.flavours!.segmentValuesCapped).toEqual(profile.cappedSegments);
      expect(hasNewSegments(run.flavours)).toBe(true);
      const event = modelEventSchema.parse(flavourEventOf({ ...run, flavours: run.flavours! }));
      expect(event).toMatchObject({ type: 'flavour.detected', data: { newSegmentValues: { region: run.flavours!.newSegmentValues.region }, segmentValuesCapped: profile.cappedSegments } });
    } finally {
      await runtime.close();
    }
  });

  it('when a run completes, then each window has one run profile with its rows and the window document counts its predictions', async () => {
    const { deps, lake, runtime } = await setup();
    try {
      const run = await scoreDrop(deps, 'drops/demand/a.csv', toCsv(regionalRows(60, 5)));
      const profile = windowProfileSchema.parse(JSON.parse(lake.body(`profiles/demand/windows/20260601T0000Z/runs/${run.runId}.json`).toString()));
      expect(profile.overall.rowCount).toBe(60);
      expect(Object.keys(profile.segments)).toEqual(['region=north', 'region=south']);
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))?.value).toMatchObject({ predictions: 60, labelled: 0, version: 1 });
      // Fan-in again (a retried activity): the count does not double.
      await scoreDrop(deps, 'drops/demand/a.csv', toCsv(regionalRows(60, 5)));
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))?.value.predictions).toBe(120);
    } finally {
      await runtime.close();
    }
  });

  it('when a row\'s timestamp lies where no monitoring window can be written (its daily window would end in year 10000), then that row is quarantined as bad_timestamp and the run completes; year 0001 is a window like any other', async () => {
    const { deps, lake, runtime } = await setup({ timestampColumn: 'ts' });
    try {
      const rows = regionalRows(4, 6);
      const stamps = ['2026-06-01T08:00:00Z', '9999-12-31T12:00:00Z', '0001-01-01T10:00:00Z', '9999-12-30T23:59:59Z'];
      const body = `id,ts,x1,x2,region\n${rows.map((r, i) => [r.id, stamps[i], r.x1, r.x2, r.region].join(',')).join('\n')}\n`;
      const run = await scoreDrop(deps, 'drops/demand/far.csv', body);
      expect(run.error).toBeUndefined();
      expect(run).toMatchObject({ state: 'completed', rowsScored: 3, rowsQuarantined: 1, rejectionReasons: { bad_timestamp: 1 } });
      expect(run.windows).toEqual(['00010101T0000Z', '20260601T0000Z', '99991230T0000Z']);
      const quarantine = lake.body(`quarantine/demand/${run.runId}/chunk-00000.jsonl`).toString();
      expect(quarantine).toMatch(/"row":2,"reason":"the timestamp \\"9999-12-31T12:00:00Z\\" is outside/);
      const early = windowProfileSchema.parse(JSON.parse(lake.body(`profiles/demand/windows/00010101T0000Z/runs/${run.runId}.json`).toString()));
      expect(early.window).toEqual({ id: '00010101T0000Z', start: '0001-01-01T00:00:00.000Z', end: '0001-01-02T00:00:00.000Z' });
    } finally {
      await runtime.close();
    }
  });

  it('when actuals were joined before the predictions were counted, then counting them settles coverage and whether performance is provisional', async () => {
    const { deps, runtime } = await setup();
    try {
      // The actuals join found 40 labels while the window had no predictions counted yet.
      const metrics = { overall: { task: 'regression' as const, rows: 40, metrics: { rmse: { value: 1.5, rows: 40, ci: null } } }, segments: [] };
      await deps.runs.windows.create('demand', '20260601T0000Z', {
        modelName: 'demand',
        window: { id: '20260601T0000Z', start: '2026-06-01T00:00:00.000Z', end: '2026-06-02T00:00:00.000Z' },
        version: 1,
        predictions: 0,
        labelled: 40,
        labelCoverage: 0,
        performance: { metrics, provisional: true, updatedAt: '2026-06-01T11:00:00.000Z' },
        drift: null,
      });
      await scoreDrop(deps, 'drops/demand/late.csv', toCsv(regionalRows(60, 7)));
      const window = (await deps.runs.windows.get('demand', '20260601T0000Z'))!.value;
      // 40 of 60 is above the default minimum coverage of 0.5.
      expect(window).toMatchObject({ predictions: 60, labelled: 40, performance: { metrics, provisional: false } });
      expect(window.labelCoverage).toBeCloseTo(40 / 60, 12);
      // A second drop halves the coverage: provisional again.
      await scoreDrop(deps, 'drops/demand/more.csv', toCsv(regionalRows(60, 8)));
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))!.value).toMatchObject({ predictions: 120, performance: { provisional: true } });
    } finally {
      await runtime.close();
    }
  });

  it('when a drop is overwritten after its run started, then that run fails saying so and only the new version is scored and counted', async () => {
    const { deps, runtime } = await setup();
    try {
      const path = 'drops/demand/again.csv';
      const startOf = async (body: string) => {
        await deps.lake.write(path, Buffer.from(body));
        const info = (await deps.lake.stat(path))!;
        const source = { path, etag: info.etag, size: info.size, lastModified: '2026-06-01T10:30:00.000Z' };
        const runId = runIdFor([source], source.lastModified);
        await startRun(deps, { model: 'demand', runId, instanceId: `batch:demand:${runId}`, kind: 'batch', sources: [source] });
        return runId;
      };
      const first = await startOf(toCsv(regionalRows(30, 20)));
      // The pipeline writes the file again (a new ETag: its own event, its own run) before the first run planned.
      const second = await startOf(toCsv(regionalRows(50, 21)));
      const planned = await planRun(deps, { model: 'demand', runId: first });
      expect(planned).toEqual({ failed: expect.stringMatching(/^drops\/demand\/again\.csv: the drop changed before it was scored \(replaced\)/) });
      expect((await deps.runs.runs.get('demand', first))!.value).toMatchObject({ state: 'failed', error: expect.stringMatching(/the new version is scored on its own/) });
      // Its new bytes are not the failed run's: nothing of them is copied to that run's quarantine.
      expect([...(deps.lake as MemoryLake).objects.keys()].filter((k) => k.startsWith(`quarantine/demand/${first}/`))).toEqual([`quarantine/demand/${first}/reason.json`]);
      const plan = await planRun(deps, { model: 'demand', runId: second });
      if ('failed' in plan) throw new Error(plan.failed);
      const chunks: ScoredChunk[] = [];
      for (const p of plan.chunks) chunks.push(await scoreRunChunk(deps, { model: 'demand', runId: second, version: 1, planned: p, arrival: '2026-06-01T10:30:00.000Z' }));
      expect(await completeRun(deps, { model: 'demand', runId: second, version: 1, chunks })).toMatchObject({ state: 'completed', rowsRead: 50, rowsScored: 50 });
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))!.value.predictions).toBe(50);
    } finally {
      await runtime.close();
    }
  });

  it('when an unreadable drop has a name near the lake\'s 1,024 characters, then its run fails with the file\'s own reason and the copy in quarantine gets a shortened name', async () => {
    const { deps, runtime } = await setup();
    try {
      // 'file-' and the quarantine folder in front of this name would take its copy past 1,024 characters.
      const name = `${'日'.repeat(3)}${'e'.repeat(990)}.csv.gz`;
      const path = `drops/demand/${name}`;
      await deps.lake.write(path, Buffer.from('not gzip'));
      const info = (await deps.lake.stat(path))!;
      const source = { path, etag: info.etag, size: info.size, lastModified: '2026-06-01T10:30:00.000Z' };
      const runId = runIdFor([source], source.lastModified);
      await startRun(deps, { model: 'demand', runId, instanceId: `batch:demand:${runId}`, kind: 'batch', sources: [source] });
      expect(await planRun(deps, { model: 'demand', runId })).toEqual({ failed: expect.stringMatching(/: the gzip stream is corrupt/) });
      expect((await deps.runs.runs.get('demand', runId))!.value).toMatchObject({ state: 'failed', error: expect.stringMatching(/the gzip stream is corrupt/) });
      const quarantined = [...(deps.lake as MemoryLake).objects.keys()].filter((k) => k.startsWith(`quarantine/demand/${runId}/`)).sort();
      expect(quarantined).toEqual([`quarantine/demand/${runId}/${quarantinedCopyName(path)}`, `quarantine/demand/${runId}/reason.json`]);
      expect(quarantinedCopyName(path)).toMatch(/^file-日日日e+~[0-9a-f]{16}\.csv\.gz$/);
      expect(quarantinedCopyName(path)).toHaveLength(255);
      expect(JSON.parse((await deps.lake.readBuffer(`quarantine/demand/${runId}/reason.json`)).toString())).toMatchObject({ source: path });
      // A name that fits keeps its copy's name as it was; two long names differing only at the end get two names.
      expect(quarantinedCopyName('drops/demand/2026-06-01.csv')).toBe('file-2026-06-01.csv');
      expect(quarantinedCopyName(`drops/demand/${'x'.repeat(400)}a.csv`)).not.toBe(quarantinedCopyName(`drops/demand/${'x'.repeat(400)}b.csv`));
    } finally {
      await runtime.close();
    }
  });

  it('when a drop is replaced or removed between planning and scoring a chunk, or while the chunk is read, then the chunk fails saying so and writes nothing', async () => {
    const { deps, runtime } = await setup();
    try {
      const lake = deps.lake as MemoryLake;
      const path = 'drops/demand/moving.csv';
      const planned = async () => {
        await lake.write(path, Buffer.from(toCsv(regionalRows(40, 22))));
        const info = (await lake.stat(path))!;
        const source = { path, etag: info.etag, size: info.size, lastModified: '2026-06-01T10:30:00.000Z' };
        const runId = runIdFor([source], source.lastModified);
        await startRun(deps, { model: 'demand', runId, instanceId: `batch:demand:${runId}`, kind: 'batch', sources: [source] });
        const plan = await planRun(deps, { model: 'demand', runId });
        if ('failed' in plan) throw new Error(plan.failed);
        return { runId, chunk: plan.chunks[0]! };
      };
      const outputs = (runId: string) => [...lake.objects.keys()].filter((k) => k.includes(runId));
      // Replaced between planning and scoring: the planned byte range would cut the new bytes anywhere.
      const replaced = await planned();
      await lake.write(path, Buffer.from(toCsv(regionalRows(45, 23))));
      await expect(scoreRunChunk(deps, { model: 'demand', runId: replaced.runId, version: 1, planned: replaced.chunk, arrival: '2026-06-01T10:30:00.000Z' })).rejects.toMatchObject({
        code: 'INVALID_INPUT_FILE',
        message: expect.stringMatching(/the drop changed while it was scored \(replaced\)/),
      });
      expect(outputs(replaced.runId)).toEqual([]);
      // Replaced while the chunk was read (the reader had opened the old bytes).
      const during = await planned();
      const files = deps.files;
      const replacingFiles = Object.create(files) as typeof files;
      replacingFiles.open = async (...args) => {
        const opened = await files.open(...args);
        await lake.write(path, Buffer.from(toCsv(regionalRows(45, 24))));
        return opened;
      };
      const replacing = { ...deps, files: replacingFiles };
      await expect(scoreRunChunk(replacing, { model: 'demand', runId: during.runId, version: 1, planned: during.chunk, arrival: '2026-06-01T10:30:00.000Z' })).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
      expect(outputs(during.runId)).toEqual([]);
      // Removed.
      const removed = await planned();
      await lake.delete(path);
      await expect(scoreRunChunk(deps, { model: 'demand', runId: removed.runId, version: 1, planned: removed.chunk, arrival: '2026-06-01T10:30:00.000Z' })).rejects.toMatchObject({
        message: expect.stringMatching(/removed|not found|does not exist/),
      });
      expect(outputs(removed.runId)).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it('when the model answers some rows with NaN, then the window counts the predictions made, not the rows that got none', async () => {
    const { deps, runtime } = await setup();
    try {
      // The champion as loaded, answering NaN for every other row (all of them in the second drop).
      let nanEvery = 2;
      const cache = deps.cache;
      const nanCache: typeof cache = {
        get: async (key, load) => {
          const loaded = await cache.get(key, load);
          const model = loaded.version.model;
          const predict: typeof model.predict = async (inputs) => {
            const p = await model.predict(inputs);
            if (p.kind !== 'regression') throw new Error('a regression model');
            return { ...p, values: p.values.map((v, i) => (i % nanEvery === 0 ? NaN : v)) };
          };
          return { ...loaded, version: { ...loaded.version, model: { roles: model.roles, predict } } };
        },
      };
      const nans = { ...deps, cache: nanCache };
      const half = await scoreDrop(nans, 'drops/demand/half.csv', toCsv(regionalRows(40, 40)));
      expect(half).toMatchObject({ state: 'completed', rowsRead: 40, rowsScored: 20, rowsQuarantined: 20, rejectionReasons: { model_output: 20 } });
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))!.value.predictions).toBe(20);
      nanEvery = 1;
      const none = await scoreDrop(nans, 'drops/demand/none.csv', toCsv(regionalRows(30, 41)));
      expect(none).toMatchObject({ state: 'completed', rowsRead: 30, rowsScored: 0, rowsQuarantined: 30 });
      expect((await deps.runs.windows.get('demand', '20260601T0000Z'))!.value.predictions).toBe(20);
    } finally {
      await runtime.close();
    }
  });

  it('when there is no champion, then the run waits and keeps its drop', async () => {
    const { deps, runtime } = await setup({ champion: false });
    try {
      await deps.lake.write('drops/demand/w.csv', Buffer.from(toCsv(regionalRows(5, 6))));
      const started = await startRun(deps, { model: 'demand', runId: 'r1', instanceId: 'i', kind: 'batch', sources: [{ path: 'drops/demand/w.csv', etag: '"1"', size: 10, lastModified: '2026-06-01T00:00:00.000Z' }] });
      expect(started).toMatchObject({ state: 'waiting_for_champion', version: null });
      expect(await deps.lake.stat('drops/demand/w.csv')).toBeDefined();
    } finally {
      await runtime.close();
    }
  });

  it('when the model is not registered yet, then the run waits for a champion among the waiting runs of that model', async () => {
    const { deps, runtime } = await setup({ champion: false });
    try {
      const source = { path: 'drops/newcomer/w.csv', etag: '"1"', size: 10, lastModified: '2026-06-01T00:00:00.000Z' };
      const input = { model: 'newcomer', runId: 'r1', instanceId: 'i', kind: 'batch' as const, sources: [source] };
      expect(await startRun(deps, input)).toMatchObject({ state: 'waiting_for_champion', version: null });
      expect(await waitingRuns(deps, 'newcomer')).toEqual([expect.objectContaining({ runId: 'r1', sources: [{ path: source.path, etag: source.etag, size: 10 }] })]);
    } finally {
      await runtime.close();
    }
  });

  it('when a run document of the model no longer reads, then the other waiting runs are woken and it is reported apart with why', async () => {
    const runs = inMemoryRunStore();
    await runs.runs.create('newcomer', 'r1', anInferenceRun('newcomer', 'r1', { state: 'waiting_for_champion' }));
    await runs.runs.create('newcomer', 'r3', anInferenceRun('newcomer', 'r3', { state: 'completed' }));
    runs.runs.storeUnchecked('newcomer', 'r2', { ...anInferenceRun('newcomer', 'r2', { state: 'waiting_for_champion' }), rowsRead: -1 });
    const woken: string[] = [];
    const report = await resumeWaitingRuns({ runs }, 'newcomer', async (runId) => Boolean(woken.push(runId)));
    expect(woken).toEqual(['r1']);
    expect(report).toEqual({ woken: ['r1'], missing: [], failed: [], unreadable: [{ runId: 'r2', reason: expect.stringMatching(/^its stored run document is invalid: .*rowsRead/s) }] });
    // Whether it waits cannot be told: listing the waiting runs fails naming it.
    await expect(waitingRuns({ runs }, 'newcomer')).rejects.toThrow("the stored run document 'r2' of 'newcomer' cannot be read: its stored run document is invalid");
  });

  it('when a model has 1,000 finished runs and 2 waiting for a champion, then waking them reads the 2 waiting runs, not the history; a finished run that does not read is not in the way', async () => {
    const runs = inMemoryRunStore();
    for (let i = 0; i < 1000; i++) {
      const runId = `done-${String(i).padStart(4, '0')}`;
      await runs.runs.create('newcomer', runId, anInferenceRun('newcomer', runId, { state: i % 10 === 0 ? 'failed' : 'completed' }));
    }
    await runs.runs.create('newcomer', 'w1', anInferenceRun('newcomer', 'w1', { state: 'waiting_for_champion', version: null }));
    await runs.runs.create('newcomer', 'w2', anInferenceRun('newcomer', 'w2', { state: 'waiting_for_champion', version: null }));
    runs.runs.storeUnchecked('newcomer', 'done-damaged', { ...anInferenceRun('newcomer', 'done-damaged', { state: 'completed' }), rowsRead: -1 });
    const before = runs.runs.listed;

    const woken: string[] = [];
    const report = await resumeWaitingRuns({ runs }, 'newcomer', async (runId) => Boolean(woken.push(runId)));

    expect(report).toEqual({ woken: ['w1', 'w2'], missing: [], failed: [], unreadable: [] });
    expect(woken).toEqual(['w1', 'w2']);
    expect(runs.runs.listed - before).toBe(2);
    expect((await waitingRuns({ runs }, 'newcomer')).map((r) => r.runId)).toEqual(['w1', 'w2']);
    expect(runs.runs.listed - before).toBe(4);
  });
});

describe('scheduled inference', () => {
  it('when a schedule occurrence has passed, then one run covers the drops since the previous occurrence', async () => {
    const { deps, runtime } = await setup({ champion: false });
    try {
      const scheduled = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 2 * * *' };
      const lake = deps.lake as MemoryLake;
      await lake.write('drops/demand/scheduled/a.csv', Buffer.from('id\n1\n'));
      await lake.write('drops/demand/scheduled/b.csv', Buffer.from('id\n2\n'));
      await lake.write('drops/demand/now.csv', Buffer.from('id\n3\n'));
      const arrivedAt = (await lake.stat('drops/demand/scheduled/a.csv'))!.lastModified;
      const at = new Date(Date.UTC(arrivedAt.getUTCFullYear(), arrivedAt.getUTCMonth(), arrivedAt.getUTCDate() + 1, 2, 0, 30));
      const due = await dueScheduledRun(deps, scheduled, at);
      expect(due).toMatchObject({ model: 'demand', kind: 'scheduled', scheduledFor: new Date(at.getTime() - 30_000).toISOString() });
      expect(due!.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/a.csv', 'drops/demand/scheduled/b.csv']);
      await startRun(deps, { ...due!, instanceId: 'i' });
      expect(await dueScheduledRun(deps, scheduled, at)).toBeUndefined();
      // The next occurrence covers only what arrived after this one: nothing yet.
      expect(await dueScheduledRun(deps, scheduled, new Date(at.getTime() + 86_400_000))).toBeUndefined();
      expect(await dueScheduledRun(deps, { ...scheduled, schedule: undefined }, at)).toBeUndefined();
    } finally {
      await runtime.close();
    }
  });

  it('when a file is stamped with the occurrence\'s own second (written after that run listed the folder), then the next run takes it: none is lost or scored twice', async () => {
    const { deps, runtime } = await setup({ champion: false });
    try {
      const scheduled = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 2 * * *' };
      const lake = deps.lake as MemoryLake;
      const first = new Date(Date.UTC(2026, 5, 2, 2, 0, 0));
      const second = new Date(first.getTime() + 86_400_000);
      const arrive = async (name: string, at: Date) => {
        await lake.write(`drops/demand/scheduled/${name}`, Buffer.from('id\n1\n'));
        lake.objects.get(`drops/demand/scheduled/${name}`)!.info.lastModified = at; // Blob Storage's whole seconds
      };
      await arrive('before.csv', new Date(first.getTime() - 1000));
      const due = await dueScheduledRun(deps, scheduled, new Date(first.getTime() + 30_000));
      expect(due!.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/before.csv']);
      await startRun(deps, { ...due!, instanceId: 'first' });
      // Listed; then a file lands within the occurrence's second, and one later in the day.
      await arrive('same-second.csv', first);
      await arrive('later.csv', new Date(first.getTime() + 5 * 3_600_000));
      const next = await dueScheduledRun(deps, scheduled, new Date(second.getTime() + 30_000));
      expect(next!.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/later.csv', 'drops/demand/scheduled/same-second.csv']);
    } finally {
      await runtime.close();
    }
  });

  it('when one file of a scheduled run is written again before the run planned it, then the run scores the others and names it, and the next run scores its new version', async () => {
    const { deps, runtime } = await setup();
    try {
      const scheduled = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 2 * * *' };
      const lake = deps.lake as MemoryLake;
      const first = new Date(Date.UTC(2026, 5, 2, 2, 0, 0));
      const arrive = async (name: string, rows: number, seed: number, at: Date) => {
        await lake.write(`drops/demand/scheduled/${name}`, Buffer.from(toCsv(regionalRows(rows, seed, { idPrefix: `${name}-${seed}-` }))));
        lake.objects.get(`drops/demand/scheduled/${name}`)!.info.lastModified = at;
      };
      await arrive('a.csv', 20, 30, new Date(first.getTime() - 3_600_000));
      await arrive('b.csv', 30, 31, new Date(first.getTime() - 1_800_000));
      const due = (await dueScheduledRun(deps, scheduled, new Date(first.getTime() + 30_000)))!;
      await startRun(deps, { ...due, instanceId: 'first' });
      // b.csv is written again after the listing (stamped after the occurrence) before the run planned.
      await arrive('b.csv', 35, 32, new Date(first.getTime() + 60_000));
      const plan = await planRun(deps, { model: 'demand', runId: due.runId });
      if ('failed' in plan) throw new Error(plan.failed);
      expect(plan.chunks.map((c) => c.source)).toEqual(['drops/demand/scheduled/a.csv']);
      const chunks: ScoredChunk[] = [];
      for (const p of plan.chunks) chunks.push(await scoreRunChunk(deps, { model: 'demand', runId: due.runId, version: 1, planned: p, arrival: first.toISOString() }));
      const run = await completeRun(deps, { model: 'demand', runId: due.runId, version: 1, chunks });
      expect(run).toMatchObject({ state: 'completed', rowsRead: 20, rowsScored: 20, sources: [{ path: 'drops/demand/scheduled/a.csv' }] });
      expect(run.supersededSources).toEqual([
        expect.objectContaining({ path: 'drops/demand/scheduled/b.csv', reason: expect.stringMatching(/changed before it was scored \(replaced\).*scored by the next scheduled run/) }),
      ]);
      const manifest = JSON.parse(lake.body(`predictions/demand/v1/${due.runId}/_manifest.json`).toString()) as { sources: { path: string }[] };
      expect(manifest.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/a.csv']);
      const next = (await dueScheduledRun(deps, scheduled, new Date(first.getTime() + 86_400_000 + 30_000)))!;
      expect(next.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/b.csv']);
    } finally {
      await runtime.close();
    }
  });

  it('when one file of a scheduled run cannot be read, then the run scores the others and names it with its reason, quarantined; when none can, the run fails', async () => {
    const { deps, runtime } = await setup();
    try {
      const scheduled = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 2 * * *' };
      const lake = deps.lake as MemoryLake;
      const first = new Date(Date.UTC(2026, 5, 2, 2, 0, 0));
      const arrive = async (name: string, body: string, at: Date) => {
        await lake.write(`drops/demand/scheduled/${name}`, Buffer.from(body));
        lake.objects.get(`drops/demand/scheduled/${name}`)!.info.lastModified = at;
      };
      await arrive('a.csv', toCsv(regionalRows(20, 40, { idPrefix: 'a-' })), new Date(first.getTime() - 3_600_000));
      await arrive('b.csv', '', new Date(first.getTime() - 2_400_000));
      await arrive('c.csv', toCsv(regionalRows(30, 41, { idPrefix: 'c-' })), new Date(first.getTime() - 1_800_000));
      // Blob Storage takes a name the lake refuses (a segment starting with a space): it is listed, but cannot be read or copied.
      await arrive('spaced.csv', toCsv(regionalRows(5, 42)), new Date(first.getTime() - 1_200_000));
      const { body, info } = lake.objects.get('drops/demand/scheduled/spaced.csv')!;
      lake.objects.set('drops/demand/scheduled/ spaced.csv', { body, info: { ...info, path: 'drops/demand/scheduled/ spaced.csv' } });
      lake.objects.delete('drops/demand/scheduled/spaced.csv');
      const due = (await dueScheduledRun(deps, scheduled, new Date(first.getTime() + 30_000)))!;
      await startRun(deps, { ...due, instanceId: 'first' });
      const plan = await planRun(deps, { model: 'demand', runId: due.runId });
      if ('failed' in plan) throw new Error(plan.failed);
      expect([...new Set(plan.chunks.map((c) => c.source))]).toEqual(['drops/demand/scheduled/a.csv', 'drops/demand/scheduled/c.csv']);
      const chunks: ScoredChunk[] = [];
      for (const p of plan.chunks) chunks.push(await scoreRunChunk(deps, { model: 'demand', runId: due.runId, version: 1, planned: p, arrival: first.toISOString() }));
      const run = await completeRun(deps, { model: 'demand', runId: due.runId, version: 1, chunks });
      expect(run).toMatchObject({ state: 'completed', rowsRead: 50, rowsScored: 50, sources: [{ path: 'drops/demand/scheduled/a.csv' }, { path: 'drops/demand/scheduled/c.csv' }] });
      expect(run.quarantinedSources).toEqual([
        expect.objectContaining({ path: 'drops/demand/scheduled/ spaced.csv', reason: expect.stringMatching(/^drops\/demand\/scheduled\/ spaced\.csv: the lake cannot read a file of this name: path segments must not start or end with spaces$/) }),
        expect.objectContaining({ path: 'drops/demand/scheduled/b.csv', reason: 'drops/demand/scheduled/b.csv: the file is empty: no header row' }),
      ]);
      expect([...lake.objects.keys()].filter((k) => k.startsWith(`quarantine/demand/${due.runId}/`)).sort()).toEqual([`quarantine/demand/${due.runId}/file-b.csv`, `quarantine/demand/${due.runId}/reason.json`]);
      // Planned again (a retried activity), the run still scores the two and names b.csv once.
      const again = await planRun(deps, { model: 'demand', runId: due.runId });
      expect('chunks' in again && again.chunks.length).toBe(plan.chunks.length);
      expect((await deps.runs.runs.get('demand', due.runId))!.value.quarantinedSources).toHaveLength(2);

      // The next occurrence: every file unreadable fails the run, naming each.
      const second = new Date(first.getTime() + 86_400_000);
      await arrive('d.csv', '', new Date(second.getTime() - 60_000));
      await arrive('e.parquet', 'not parquet', new Date(second.getTime() - 30_000));
      const next = (await dueScheduledRun(deps, scheduled, new Date(second.getTime() + 30_000)))!;
      await startRun(deps, { ...next, instanceId: 'second' });
      const failed = await planRun(deps, { model: 'demand', runId: next.runId });
      expect(failed).toEqual({ failed: expect.stringMatching(/^drops\/demand\/scheduled\/d\.csv: the file is empty.*; drops\/demand\/scheduled\/e\.parquet: /) });
      expect((await deps.runs.runs.get('demand', next.runId))!.value.state).toBe('failed');
      expect(JSON.parse(lake.body(`quarantine/demand/${next.runId}/reason.json`).toString())).toMatchObject({ sources: ['drops/demand/scheduled/d.csv', 'drops/demand/scheduled/e.parquet'] });
    } finally {
      await runtime.close();
    }
  });

  it('when the schedule is changed to an earlier time of day after a run, then the earlier occurrence does not score that run\'s files again; later files go to the next run', async () => {
    const { deps, runtime } = await setup({ champion: false });
    try {
      const daily = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 2 * * *' };
      const lake = deps.lake as MemoryLake;
      const ran = new Date(Date.UTC(2026, 5, 2, 2, 0, 0));
      const arrive = async (name: string, at: Date) => {
        await lake.write(`drops/demand/scheduled/${name}`, Buffer.from('id\n1\n'));
        lake.objects.get(`drops/demand/scheduled/${name}`)!.info.lastModified = at;
      };
      await arrive('before.csv', new Date(ran.getTime() - 3 * 3_600_000));
      const due = (await dueScheduledRun(deps, daily, new Date(ran.getTime() + 30_000)))!;
      expect(due.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/before.csv']);
      await startRun(deps, { ...due, instanceId: 'first' });
      // At 03:00 someone moves the schedule to 01:30: its latest occurrence (01:30 today) comes before the run of 02:00.
      const earlier = { ...daily, schedule: '0 30 1 * * *' };
      await arrive('after.csv', new Date(ran.getTime() + 1_800_000));
      expect(await dueScheduledRun(deps, earlier, new Date(ran.getTime() + 3_600_000))).toBeUndefined();
      // Tomorrow's 01:30 takes what arrived after the 02:00 run, once.
      const next = (await dueScheduledRun(deps, earlier, new Date(ran.getTime() + 86_400_000 - 1_800_000 + 30_000)))!;
      expect(next.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/after.csv']);
    } finally {
      await runtime.close();
    }
  });

  it('when a model has 2,000 hourly scheduled runs, then a schedule check reads the latest of them only and takes the files since its occurrence; a run that does not read stops the check only if it may be the latest', async () => {
    const { deps, runtime } = await setup({ champion: false });
    try {
      const hourly = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 * * * *' };
      const runs = inMemoryRunStore();
      const lake = deps.lake as MemoryLake;
      const HOUR = 3_600_000;
      const first = Date.UTC(2026, 0, 1);
      const occurrence = (n: number) => new Date(first + n * HOUR);
      const scheduledRun = (n: number) => {
        const runId = `sched-${occurrence(n).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
        return anInferenceRun('demand', runId, { kind: 'scheduled', state: 'completed', scheduledFor: occurrence(n).toISOString(), createdAt: occurrence(n).toISOString() });
      };
      for (let n = 0; n < 2000; n++) await runs.runs.create('demand', scheduledRun(n).runId, scheduledRun(n));
      const arrive = async (name: string, at: Date) => {
        await lake.write(`drops/demand/scheduled/${name}`, Buffer.from('id\n1\n'));
        lake.objects.get(`drops/demand/scheduled/${name}`)!.info.lastModified = at;
      };
      await arrive('scored-before.csv', new Date(occurrence(1999).getTime() - 60_000));
      await arrive('new.csv', new Date(occurrence(1999).getTime() + 60_000));
      runs.runs.storeUnchecked('demand', 'sched-old-damaged', { ...scheduledRun(5), runId: 'sched-old-damaged', rowsRead: -1 });
      const check = () => dueScheduledRun({ ...deps, runs }, hourly, new Date(occurrence(2000).getTime() + 30_000));
      const before = runs.runs.listed;

      const due = await check();

      expect(due).toMatchObject({ runId: 'sched-20260325T080000Z', scheduledFor: occurrence(2000).toISOString() });
      expect(due!.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/new.csv']);
      expect(runs.runs.listed - before).toBe(1);

      // Damaged, with the latest occurrence: it may be the latest scheduled run, so no run is planned.
      runs.runs.storeUnchecked('demand', 'sched-latest-damaged', { ...scheduledRun(1999), runId: 'sched-latest-damaged', scheduledFor: new Date(occurrence(1999).getTime() + 1).toISOString(), rowsRead: -1 });
      await expect(check()).rejects.toThrow("the stored run document 'sched-latest-damaged' of 'demand' cannot be read");
    } finally {
      await runtime.close();
    }
  });

  it('when a drop arrives, then its run id is its Last-Modified time to the minute and a hash of its path and ETag (the example in production-loop.md)', () => {
    const drop = (eTag: string, lastModified: string) =>
      dropRunStart({ model: 'churn', name: '2026-03-01.csv', blobTrigger: 'data/drops/churn/2026-03-01.csv', properties: { eTag, length: 10, lastModified } }, 4);
    expect(drop('"0x8DE5A3C1F2B4E10"', '2026-03-01T14:42:37Z')).toMatchObject({ input: { runId: '20260301T1442Z-ec0042c9bc8b29ca' }, instanceId: 'batch:churn:20260301T1442Z-ec0042c9bc8b29ca' });
    // The minute, not the monitoring window's start; another ETag is another hash.
    expect(drop('"0x8DE5A3C1F2B4E11"', '2026-03-01T14:42:59Z')).toMatchObject({ input: { runId: expect.stringMatching(/^20260301T1442Z-(?!ec0042c9bc8b29ca)[0-9a-f]{16}$/) as string } });
  });

  it('when a tool marks a folder with an empty blob named \'folder/\', then neither the drop trigger nor a scheduled run takes it for a drop', async () => {
    const properties = { eTag: '"0x1"', length: 0, lastModified: '2026-06-02T01:00:00Z' };
    expect(dropRunStart({ model: 'demand', name: '2026/', blobTrigger: 'data/drops/demand/2026/', properties }, 4)).toEqual({
      ignored: "'drops/demand/2026/' is a folder marker, not a data drop",
    });
    expect(dropRunStart({ model: 'demand', name: 'scheduled/2026/', blobTrigger: 'data/drops/demand/scheduled/2026/', properties }, 4)).toEqual({ ignored: expect.stringMatching(/folder marker/) });
    expect(dropRunStart({ model: 'demand', name: '2026/a.csv', blobTrigger: 'data/drops/demand/2026/a.csv', properties }, 4)).toMatchObject({
      instanceId: expect.stringMatching(/^batch:demand:20260602T0100Z-[0-9a-f]{16}$/),
      input: { model: 'demand', kind: 'batch', maxParallel: 4, sources: [{ path: 'drops/demand/2026/a.csv', etag: '"0x1"', size: 0 }] },
    });
    const { deps, runtime } = await setup({ champion: false });
    try {
      const scheduled = { ...(await deps.registry.getModel('demand'))!.definition, schedule: '0 0 2 * * *' };
      const lake = deps.lake as MemoryLake;
      await lake.write('drops/demand/scheduled/2026/a.csv', Buffer.from('id\n1\n'));
      const file = lake.objects.get('drops/demand/scheduled/2026/a.csv')!;
      file.info.lastModified = new Date('2026-06-02T01:00:00Z');
      // The lake refuses to write such a name; Blob Storage lists one a tool made.
      lake.objects.set('drops/demand/scheduled/2026/', { body: Buffer.alloc(0), info: { ...file.info, path: 'drops/demand/scheduled/2026/', size: 0 } });
      const due = await dueScheduledRun(deps, scheduled, new Date('2026-06-02T02:00:30Z'));
      expect(due!.sources.map((s) => s.path)).toEqual(['drops/demand/scheduled/2026/a.csv']);
    } finally {
      await runtime.close();
    }
  });

  it('when a schedule is not NCRONTAB with six fields, then the model definition is refused', () => {
    expect(() => modelInputSchema.parse(aRegionalModel('demand', {}))).not.toThrow();
    expect(modelInputSchema.safeParse({ ...aRegionalModel('demand'), schedule: '0 2 * * *' }).error?.issues[0]?.message).toMatch(/six fields/);
    expect(modelInputSchema.safeParse({ ...aRegionalModel('demand'), schedule: '0 0 99 * * *' }).error?.issues[0]?.message).toMatch(/not a valid NCRONTAB/);
  });
});

describe('synchronous scoring of rows', () => {
  it('when the caller names a version the model does not have, then VERSION_NOT_FOUND, not a crash', async () => {
    const { deps, runtime } = await setup();
    try {
      const rows = [{ id: 'a', x1: 1, x2: 2, region: 'north' }];
      await expect(scoreRows(deps, { model: 'demand', rows, version: 99 })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND', details: { model: 'demand', version: 99 } });
      await expect(scoreRows(deps, { model: 'demand', rows, version: 1 })).resolves.toMatchObject({ version: 1, scored: 1 });
    } finally {
      await runtime.close();
    }
  });
  it('when no row has a field the model needs, then the request is refused in the words of rows and fields, not of a file', async () => {
    const { deps, runtime } = await setup();
    try {
      await expect(scoreRows(deps, { model: 'demand', rows: [{}, {}] })).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE', message: 'the rows have no fields' });
      await expect(scoreRows(deps, { model: 'demand', rows: [{ id: 'a', x1: 1, region: 'north' }] })).rejects.toMatchObject({
        code: 'INVALID_INPUT_FILE',
        message: "no row has the required field(s) 'x2'",
      });
      await expect(scoreRows(deps, { model: 'demand', rows: [{ id: 'a', x1: 1, ' x1': 2, x2: 2, region: 'north' }] })).rejects.toMatchObject({
        message: "the rows name the field(s) 'x1' more than once (spaces around names are ignored)",
      });
    } finally {
      await runtime.close();
    }
  });
  it('when no row has the model\'s timestamp field, then the rows are scored as a row without it is beside one with it (the API scores, it keeps no windows); a timestamp sent is still checked', async () => {
    const { deps, runtime } = await setup({ timestampColumn: 'ts' });
    try {
      const without = await scoreRows(deps, { model: 'demand', rows: [{ id: 'a', x1: 1, x2: 2, region: 'north' }] });
      const beside = await scoreRows(deps, { model: 'demand', rows: [{ id: 'a', x1: 1, x2: 2, region: 'north' }, { id: 'b', ts: '2026-06-01T10:00:00Z', x1: 1, x2: 2, region: 'north' }] });
      expect(without).toMatchObject({ scored: 1, rejected: 0 });
      expect(without.results[0]).toEqual(beside.results[0]);
      const bad = await scoreRows(deps, { model: 'demand', rows: [{ id: 'a', ts: 'yesterday', x1: 1, x2: 2, region: 'north' }] });
      expect(bad.results[0]).toMatchObject({ id: 'a', error: { code: 'bad_timestamp' } });
    } finally {
      await runtime.close();
    }
  });
  it('when every row brings fields of its own, then validation reads only the fields the model reads (a rejected row is not as wide as every field sent)', async () => {
    const { deps, runtime } = await setup();
    try {
      // 1,000 rows x 100 fields each: 100,000 columns; each rejected row used to carry a cell for
      // every one of them (100 million cells: 30 s and more than a GB here).
      const rows: Record<string, string | number>[] = Array.from({ length: 1_000 }, (_, r) => ({
        id: `r${r}`,
        x2: 2,
        region: 'north',
        ...Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`extra_${r}_${k}`, k])),
      }));
      rows[0]!.x1 = 1;
      const definition = (await deps.registry.getModel('demand'))!.definition;
      // Validation reads the model's fields only, whatever else the rows bring.
      expect(rowsAsRead(definition, rows).columns).toEqual(['id', 'x2', 'region', 'x1']);
      const scored = await scoreRows(deps, { model: 'demand', rows });
      expect(scored).toMatchObject({ scored: 1, rejected: 999 });
    } finally {
      await runtime.close();
    }
  });
  it('when a JSON id is a number a double may have rounded (an int64 key, 1e400), then that row is rejected inexact_id with no id, not echoed as another id', async () => {
    const { deps, runtime } = await setup();
    try {
      const rows = JSON.parse(
        '[{"id": 9007199254740993, "x1": 1, "x2": 2, "region": "north"}, {"id": 1e400, "x1": 1, "x2": 2, "region": "north"}, {"id": 9007199254740991, "x1": 1, "x2": 2, "region": "north"}, {"id": "9007199254740993", "x1": 1, "x2": 2, "region": "north"}]',
      ) as Record<string, string | number>[];
      const scored = await scoreRows(deps, { model: 'demand', rows });
      expect(scored).toMatchObject({ scored: 2, rejected: 2 });
      expect(scored.results).toEqual([
        { row: 0, id: null, error: { code: 'inexact_id', reason: expect.stringMatching(/^the id is the number 9007199254740992 as JSON read it.*send such ids as strings$/) } },
        { row: 1, id: null, error: { code: 'inexact_id', reason: expect.stringMatching(/^the id is the number Infinity as JSON read it/) } },
        { row: 2, id: '9007199254740991', prediction: expect.any(Number) },
        { row: 3, id: '9007199254740993', prediction: expect.any(Number) },
      ]);
    } finally {
      await runtime.close();
    }
  });
  it('when a JSON id has more significant digits than a double holds, then that row is rejected inexact_id with no id, while such a feature is scored', async () => {
    const { deps, runtime } = await setup();
    try {
      const rows = parseSentJson(
        '[{"id": 0.12345678901234567891, "x1": 1, "x2": 2, "region": "north"}, {"id": 0.1, "x1": 0.12345678901234567891, "x2": 2, "region": "north"}]',
        'the rows',
        { keepInexactNumbers: true },
      ) as Record<string, JsonCell>[];
      const scored = await scoreRows(deps, { model: 'demand', rows });
      expect(scored.results).toEqual([
        { row: 0, id: null, error: { code: 'inexact_id', reason: expect.stringMatching(/^the id is the number 0\.12345678901234568 as JSON read it.*more significant digits than a double holds.*send such ids as strings$/) } },
        { row: 1, id: '0.1', prediction: expect.any(Number) },
      ]);
    } finally {
      await runtime.close();
    }
  });
  it('when the champion\'s ONNX artifact was deleted from the lake, then scoring fails ARTIFACT_MISSING naming the model and version, not a 404 naming a lake path', async () => {
    const { deps, lake, runtime } = await setup();
    const fresh = new OnnxModelRuntime(); // a worker that has not loaded the version yet
    try {
      const artifact = (await deps.registry.getVersion('demand', 1))!.value.artifact.path;
      await lake.delete(artifact);
      const cold = { ...deps, runtime: fresh, cache: new VersionCache() };
      const rows = [{ id: 'a', x1: 1, x2: 2, region: 'north' }];
      const failure = scoreRows(cold, { model: 'demand', rows });
      await expect(failure).rejects.toMatchObject({ code: 'ARTIFACT_MISSING', details: { model: 'demand', version: 1, file: 'ONNX artifact' } });
      await expect(failure).rejects.toMatchObject({ message: expect.not.stringContaining(artifact) });
      // A drop's chunk fails the same way: its run fails with this reason (batchInference fails the run on a chunk's expected failure).
      await lake.write('drops/demand/a.csv', Buffer.from(toCsv(regionalRows(5, 3))));
      const info = (await lake.stat('drops/demand/a.csv'))!;
      const source = { path: 'drops/demand/a.csv', etag: info.etag, size: info.size, lastModified: '2026-06-01T10:30:00.000Z' };
      const runId = runIdFor([source], source.lastModified);
      await startRun(cold, { model: 'demand', runId, instanceId: `batch:demand:${runId}`, kind: 'batch', sources: [source] });
      const plan = await planRun(cold, { model: 'demand', runId });
      if ('failed' in plan) throw new Error(plan.failed);
      await expect(scoreRunChunk(cold, { model: 'demand', runId, version: 1, planned: plan.chunks[0]!, arrival: source.lastModified })).rejects.toMatchObject({
        code: 'ARTIFACT_MISSING',
        message: "model 'demand' version 1: its ONNX artifact is missing from the data lake; restore it or register the version again",
      });
    } finally {
      await fresh.close();
      await runtime.close();
    }
  });
  it('when the id field is named with spaces around it, then each result carries the id validation read', async () => {
    const { deps, runtime } = await setup();
    try {
      const scored = await scoreRows(deps, { model: 'demand', rows: [{ ' id ': 'a', x1: 1, x2: 2, region: 'north' }, { ' id ': 'b', x2: 2, region: 'north' }] });
      expect(scored.results).toEqual([
        { row: 0, id: 'a', prediction: expect.any(Number) },
        { row: 1, id: 'b', error: { code: 'missing_value:x1', reason: expect.any(String) } },
      ]);
    } finally {
      await runtime.close();
    }
  });
});
