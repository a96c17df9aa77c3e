/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { Readable } from 'node:stream';

import { OnnxModelExporter } from '../../../shared/adapters/onnx/linear-onnx';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { lakePaths } from '../../../shared/domain/lake-paths';
import { isOpenRequest } from '../../../shared/domain/policies/retraining-gate';
import { seededRandom } from '../../../shared/domain/random';
import { fitTransforms, type TransformSpecInput } from '../../../shared/domain/transforms';
import type { ExportedModel } from '../../../shared/ports/model-exporter';
import type { RunStore } from '../../../shared/ports/run-store';
import type { RetrainingInput } from '../../../shared/schemas/retraining';
import { checkParity } from '../../../shared/usecases/check-parity';
import { loadScoringVersion } from '../../../shared/usecases/load-version';
import { registerPackage, stageUpload } from '../../../shared/usecases/register-package';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { handleRetrainingMessage, type RetrainingDeps, type RetrainingStarters } from '../../../shared/usecases/retraining';
import { recordTrainingError } from '../../../shared/usecases/retraining-records';
import { anActor } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { aRetrainingRequest, drifted, driftedRows, labelledFixture, type LabelledRow } from '../../support/labelled-data';
import { MemoryLake } from '../../support/memory-lake';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../../support/model-kit';
import { RecordingPublisher } from '../../support/recording-publisher';

const carlos = anActor({ id: 'carlos', roles: ['MLOps.Contributor'] });
const clock = { now: () => new Date('2026-06-02T03:00:00Z') };
const WINDOW = '20260601T0000Z';
const REQUEST_ID = `retrain:regional:${WINDOW}`;

interface World {
  deps: RetrainingDeps;
  lake: MemoryLake;
  runs: ReturnType<typeof inMemoryRunStore>;
  store: InMemoryModelRegistry;
  registry: RegistryUseCases;
  publisher: RecordingPublisher;
  starters: RetrainingStarters;
  /** What was started; `ended` holds the request ids whose webhook retraining instance has ended. */
  started: { lifecycles: string[]; webhooks: RetrainingInput[]; ended: Set<string> };
}

async function aWorld(options: { policies?: Record<string, unknown>; trainingSet?: boolean; webhookUrl?: string } = {}): Promise<World> {
  const store = new InMemoryModelRegistry();
  const lake = new MemoryLake();
  const publisher = new RecordingPublisher();
  const registry = new RegistryUseCases({ registry: store, clock, events: publisher });
  await registry.createModel(aRegionalModel('regional', options.policies ?? {}), carlos);
  const runtime = new OnnxModelRuntime();
  runtimes.push(runtime);
  const registration = { registry, lake, runtime, maxArtifactBytes: 10_000_000 };
  const datasets = options.trainingSet ? [{ role: 'training', uri: 'datasets/regional/training.csv' }] : [];
  if (options.trainingSet) await lake.write('datasets/regional/training.csv', Buffer.from(toCsv(regionalRows(300, 5))));
  const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets });
  await registerPackage(registration, { model: 'regional', manifest: pkg.manifest, artifact: await stageUpload(registration, 'regional', Readable.from([pkg.onnx])), actor: carlos });
  const runs = inMemoryRunStore();
  const started: World['started'] = { lifecycles: [], webhooks: [], ended: new Set() };
  const starters: RetrainingStarters = {
    startLifecycle: async (model, version, requestId) => void started.lifecycles.push(`${model}:${version}:${requestId}`),
    startWebhookRetraining: async (input) => void started.webhooks.push(input),
    webhookRetrainingEnded: async (requestId) => started.ended.has(requestId),
  };
  const deps: RetrainingDeps = {
    runs,
    clock,
    events: publisher,
    registry: store,
    lake,
    files: new LakeTabularFiles(lake),
    runtime,
    exporter: new OnnxModelExporter(),
    registration,
    limits: { windows: 7, maxRows: 100_000, minRows: 50 },
    webhookUrl: options.webhookUrl,
    maxDeliveryCount: 5,
  };
  return { deps, lake, runs, store, registry, publisher, starters, started };
}

/** A drop scored by run `runId` in window `windowId`, and its labelled rows. */
async function addLabelled(w: World, runId: string, windowId: string, rows: LabelledRow[], unlabelled: number[] = []) {
  const fixture = labelledFixture({ model: 'regional', version: 1, runId, windowId, rows, unlabelled, segmentKey: 'region' });
  const info = await w.lake.write(fixture.dropPath, fixture.drop);
  await w.runs.runs.create('regional', runId, fixture.run(info.etag, info.size));
  await w.lake.write(fixture.labelledPath, fixture.labelled);
  return fixture;
}

const deliver = (w: World, body: unknown, deliveryCount = 1, messageId: string | undefined = REQUEST_ID) =>
  handleRetrainingMessage(w.deps, w.starters, { body, messageId, deliveryCount });

/** The record the monitor leaves for REQUEST_ID when it sends the message. */
const queuedRecord = (w: World) =>
  w.runs.retraining.create('regional', REQUEST_ID, {
    requestId: REQUEST_ID,
    modelName: 'regional',
    version: 1,
    reason: 'drift',
    windowId: WINDOW,
    state: 'queued',
    requestedAt: '2026-06-02T00:00:00Z',
  });

const runtimes: OnnxModelRuntime[] = [];
afterAll(() => Promise.all(runtimes.map((r) => r.close())));

const record = async (runs: RunStore, id = REQUEST_ID) => (await runs.retraining.get('regional', id))?.value;

describe('a retraining request for a model with the built-in trainer', () => {
  it('when labelled data joins to its drops, then a new version is trained on it, registered with its lineage and started', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', '20260531T0000Z', driftedRows(200, 1));
    await addLabelled(w, 'run-b', WINDOW, driftedRows(200, 2), [0, 1, 2]);

    const outcome = await deliver(w, aRetrainingRequest('regional', 1, WINDOW));

    expect(outcome).toMatchObject({ requestId: REQUEST_ID, state: 'registered', resultVersion: 2, note: 'registered v2' });
    expect(w.started.lifecycles).toEqual([`regional:2:${REQUEST_ID}`]);
    const v2 = (await w.store.getVersion('regional', 2))!.value;
    expect(v2).toMatchObject({
      state: 'registered',
      registrant: 'system:retraining',
      lineage: { source: 'builtin', parentVersion: 1, trainingRun: REQUEST_ID },
      description: expect.stringMatching(/^Retrained by the built-in trainer for retrain:regional:20260601T0000Z \(drift in window 20260601T0000Z, champion v1\): least squares on \d+ rows of labelled data/),
      datasets: [
        { role: 'training', uri: 'datasets/regional/retraining/20260601T0000Z/train.csv', rows: expect.any(Number) },
        { role: 'validation', uri: 'datasets/regional/retraining/20260601T0000Z/validation.csv', rows: expect.any(Number) },
      ],
      trainingMetrics: { rmse: expect.any(Number), train_rmse: expect.any(Number) },
    });
    const [train, validation] = v2.datasets.map((d) => d.rows!);
    expect(train! + validation!).toBe(397);
    expect(validation! / 397).toBeGreaterThan(0.1);
    expect(v2.trainingMetrics.rmse).toBeLessThan(0.1);

    // The new version scores as production scores it: its golden records reproduce, and it learnt the new world.
    const definition = (await w.registry.getModel('regional')).definition;
    const loaded = await loadScoringVersion(w.deps, definition, v2);
    await checkParity(loaded, loaded.goldenRecords!, loaded.fitted);
    const fresh = regionalRows(50, 99);
    const { inputs } = loaded.transform({ rowCount: 50, numeric: { x1: Float64Array.from(fresh, (r) => r.x1), x2: Float64Array.from(fresh, (r) => r.x2) }, categorical: { region: fresh.map((r) => r.region) } });
    const out = await loaded.model.predict(inputs);
    if (out.kind !== 'regression') throw new Error('expected regression');
    fresh.forEach((r, i) => expect(Math.abs(out.values[i]! - drifted(r))).toBeLessThan(0.05));

    expect(await record(w.runs)).toMatchObject({
      state: 'registered',
      trainer: 'builtin',
      resultVersion: 2,
      version: 1,
      reason: 'drift',
      training: { source: 'labelled', from: [WINDOW, '20260531T0000Z'], trainRows: train, validationRows: validation, skipped: {}, refused: {}, datasets: v2.datasets.map((d) => d.uri) },
    });
    expect(w.publisher.ofType('retraining.changed').map((e) => [e.data.state, e.data.resultVersion])).toEqual([
      ['training', undefined],
      ['registered', 2],
    ]);
  });

  it('when the model\'s retraining policy names fewer windows than the setting, then only those are read', async () => {
    const w = await aWorld({ policies: { retraining: { windows: 1 } } });
    await addLabelled(w, 'run-a', '20260531T0000Z', driftedRows(200, 1));
    await addLabelled(w, 'run-b', WINDOW, driftedRows(200, 2));

    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW))).toMatchObject({ state: 'registered', resultVersion: 2 });
    const training = (await record(w.runs))?.training;
    expect(training).toMatchObject({ source: 'labelled', from: [WINDOW] });
    expect(training!.trainRows + training!.validationRows).toBe(200);
  });

  it('when the message is delivered again, then the same version is found and its lifecycle started again, never a second version', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(150, 3));
    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW), 2)).toMatchObject({ state: 'registered', resultVersion: 2, note: 'already registered' });

    // An attempt that registered the version but stopped before recording it trains again on the same snapshot.
    const stored = (await w.runs.retraining.get('regional', REQUEST_ID))!;
    const { resultVersion: _resultVersion, ...unrecorded } = stored.value;
    await w.runs.retraining.replace('regional', REQUEST_ID, { ...unrecorded, state: 'training' }, stored.etag);
    await addLabelled(w, 'run-late', WINDOW, driftedRows(80, 4));
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW), 3)).toMatchObject({ state: 'registered', resultVersion: 2 });
    expect((await w.store.listVersions('regional')).map((v) => v.version)).toEqual([1, 2]);
    expect(w.started.lifecycles).toEqual([`regional:2:${REQUEST_ID}`, `regional:2:${REQUEST_ID}`, `regional:2:${REQUEST_ID}`]);
  });

  it('when two deliveries of one request train at the same time (a redelivery after a lost lock, a copy sent by hand), then both end with the one version, neither failing on the other\'s staged file', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(200, 1));
    const body = aRetrainingRequest('regional', 1, WINDOW);

    const outcomes = await Promise.allSettled([deliver(w, body, 2), deliver(w, body, 1, 'hand-sent-1')]);

    expect(outcomes).toEqual([
      { status: 'fulfilled', value: expect.objectContaining({ state: 'registered', resultVersion: 2 }) },
      { status: 'fulfilled', value: expect.objectContaining({ state: 'registered', resultVersion: 2 }) },
    ]);
    expect((await w.store.listVersions('regional')).map((v) => v.version)).toEqual([1, 2]);
    expect(w.publisher.ofType('retraining.changed').map((e) => e.data.state)).toEqual(['training', 'registered']);
    expect([...w.lake.objects.keys()].filter((path) => path.startsWith('models/regional/uploads/'))).toEqual([]);
  });

  it("when a run recorded its drop's ETag as the blob event gave it (without quotes), then its labelled rows are still joined back to the drop", async () => {
    const w = await aWorld();
    const fixture = labelledFixture({ model: 'regional', version: 1, runId: 'run-a', windowId: WINDOW, rows: driftedRows(120, 5), segmentKey: 'region' });
    const info = await w.lake.write(fixture.dropPath, fixture.drop);
    expect(info.etag).toMatch(/^".*"$/);
    await w.runs.runs.create('regional', 'run-a', fixture.run(info.etag.replace(/"/g, ''), info.size));
    await w.lake.write(fixture.labelledPath, fixture.labelled);

    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));
    const training = (await record(w.runs))!.training!;
    expect(training.skipped).toEqual({});
    expect(training.trainRows + training.validationRows).toBe(120);
  });

  it('when a labelled file leaves labelled/ between the listing and its read (a newer version of its actuals file replaced it), then its rows are left out and the request still trains', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(120, 5));
    const replaced = await addLabelled(w, 'run-b', WINDOW, driftedRows(20, 6));
    const files = w.deps.files;
    w.deps.files = Object.assign(Object.create(files) as typeof files, {
      plan: async (...args: Parameters<typeof files.plan>) => {
        if (args[0] === replaced.labelledPath) await w.lake.delete(replaced.labelledPath);
        return files.plan(...args);
      },
    });

    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));

    const training = (await record(w.runs))!;
    expect(training).toMatchObject({ state: 'registered', training: { skipped: {} } });
    expect(training.training!.trainRows + training.training!.validationRows).toBe(120);
  });

  it('when two actuals files labelled the same predictions and the earlier one\'s join ended last (its labelled file is the newer), then the later actual is trained on, as the window\'s metrics count it', async () => {
    const w = await aWorld();
    const rows = driftedRows(120, 5);
    const later = labelledFixture({ model: 'regional', version: 1, runId: 'run-a', windowId: WINDOW, rows, segmentKey: 'region', actuals: { actualsId: 'later', at: '2026-06-01T12:00:00Z' }, labelledName: 'a-later' });
    const info = await w.lake.write(later.dropPath, later.drop);
    await w.runs.runs.create('regional', 'run-a', later.run(info.etag, info.size));
    await w.lake.write(later.labelledPath, later.labelled);
    const earlierRows = rows.map((r) => ({ ...r, actual: (r.actual as number) + 1000 }));
    const earlier = labelledFixture({ model: 'regional', version: 1, runId: 'run-a', windowId: WINDOW, rows: earlierRows, segmentKey: 'region', actuals: { actualsId: 'earlier', at: '2026-06-01T06:00:00Z' }, labelledName: 'z-earlier' });
    // Written last (and first by name on a tie): the newer labelled file holds the earlier actuals.
    await w.lake.write(earlier.labelledPath, earlier.labelled);

    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));

    expect(await record(w.runs)).toMatchObject({ state: 'registered', training: { skipped: { superseded_actual: 120 } } });
    const trained = new Map<string, number>();
    for (const name of ['train.csv', 'validation.csv']) {
      const [header, ...lines] = (await w.lake.readBuffer(lakePaths.retrainingDataset('regional', WINDOW, name))).toString().trim().split('\n');
      const id = header!.split(',').indexOf('id');
      for (const line of lines) {
        const cells = line.split(',');
        trained.set(cells[id]!, Number(cells.at(-1)));
      }
    }
    expect(trained.size).toBe(120);
    for (const r of rows) expect(trained.get(r.id)).toBeCloseTo(r.actual as number, 6);
  });

  it('when labelled rows cannot be joined back to their drops, then they are left out and counted by reason', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(120, 5));
    const changed = await addLabelled(w, 'run-b', WINDOW, driftedRows(20, 6));
    await w.lake.write(changed.dropPath, Buffer.concat([changed.drop, Buffer.from('d6-extra,1,1,north\n')]));
    const orphan = labelledFixture({ model: 'regional', version: 1, runId: 'run-gone', windowId: WINDOW, rows: driftedRows(7, 7) });
    await w.lake.write(orphan.labelledPath, orphan.labelled);
    const bad = driftedRows(3, 8).map((r) => ({ ...r, actual: Number.NaN }));
    await addLabelled(w, 'run-c', WINDOW, bad);

    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));
    expect((await record(w.runs))?.training).toMatchObject({ trainRows: expect.any(Number), skipped: { drop_changed: 20, run_not_found: 7, unusable_actual: 3 } });
    expect((await record(w.runs))!.training!.trainRows + (await record(w.runs))!.training!.validationRows).toBe(120);
  });

  it('when a scheduled run scored several drops, then its labelled rows join back to the drop each came from (source_file); without source_file they are left out as ambiguous', async () => {
    const w = await aWorld();
    const drops = [
      labelledFixture({ model: 'regional', version: 1, runId: 'run-sched', windowId: WINDOW, rows: driftedRows(70, 11), segmentKey: 'region', dropName: 'scheduled/a.csv' }),
      labelledFixture({ model: 'regional', version: 1, runId: 'run-sched', windowId: WINDOW, rows: driftedRows(60, 12), segmentKey: 'region', dropName: 'scheduled/b.csv' }),
    ];
    const sources = [];
    for (const d of drops) {
      const info = await w.lake.write(d.dropPath, d.drop);
      await w.lake.write(d.labelledPath, d.labelled);
      sources.push({ path: d.dropPath, etag: info.etag, size: info.size });
    }
    // Both drops' rows are numbered from 1: only source_file tells them apart.
    await w.runs.runs.create('regional', 'run-sched', { ...drops[0]!.run(sources[0]!.etag, sources[0]!.size), sources, rowsRead: 130, rowsScored: 130 });
    const legacy = labelledFixture({ model: 'regional', version: 1, runId: 'run-sched', windowId: WINDOW, rows: driftedRows(9, 13), segmentKey: 'region', dropName: 'scheduled/c.csv', withSourceFile: false });
    await w.lake.write(legacy.labelledPath, legacy.labelled);

    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));
    const training = (await record(w.runs))!.training!;
    expect(training.trainRows + training.validationRows).toBe(130);
    expect(training.skipped).toEqual({ run_with_several_sources: 9 });
  });

  it('when a labelled file or the training set cannot be read, then the request fails naming the file, not only the reader\'s reason', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(200, 1));
    const damaged = lakePaths.labelled('regional', '20260531T0000Z', 'actuals-cut');
    const fixture = labelledFixture({ model: 'regional', version: 1, runId: 'run-b', windowId: '20260531T0000Z', rows: driftedRows(20, 2) });
    await w.lake.write(damaged, fixture.labelled.subarray(0, fixture.labelled.length - 30));
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE', details: { path: damaged } });
    expect((await record(w.runs))?.error).toMatch(new RegExp(`^INVALID_INPUT_FILE: the labelled file '${damaged}' cannot be read: not a readable Parquet file`));

    const empty = await aWorld({ trainingSet: true });
    await empty.lake.write('datasets/regional/training.csv', Buffer.from(''));
    await expect(deliver(empty, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
    expect((await record(empty.runs))?.error).toBe("INVALID_INPUT_FILE: the training set 'datasets/regional/training.csv' cannot be read: the file is empty: no header row");
  });

  it('when there are too few labelled rows, then it trains on the champion\'s training set instead', async () => {
    const w = await aWorld({ trainingSet: true });
    await addLabelled(w, 'run-a', WINDOW, driftedRows(10, 9));
    await deliver(w, aRetrainingRequest('regional', 1, WINDOW));
    expect((await record(w.runs))?.training).toMatchObject({ source: 'training_set', from: ['datasets/regional/training.csv'] });
    expect((await w.store.getVersion('regional', 2))!.value.description).toMatch(/rows of the training set\.$/);
  });

  it('when the training set is far larger than RETRAINING_MAX_ROWS, then reading stops once it has them instead of downloading the rest', async () => {
    const w = await aWorld({ trainingSet: true });
    // More rows than one batch of the CSV reader holds (2^20 cells), so reading can stop early.
    await w.lake.write('datasets/regional/training.csv', Buffer.from(toCsv(regionalRows(250_000, 5))));
    w.deps.limits = { ...w.deps.limits, maxRows: 100 };
    const read = new Map<string, number>();
    const files = w.deps.files;
    w.deps.files = {
      ...files,
      plan: (path, options) => files.plan(path, options),
      open: async (path, chunk, hints) => {
        const opened = await files.open(path, chunk, hints);
        async function* counted() {
          for await (const raw of opened.batches) {
            read.set(path, (read.get(path) ?? 0) + raw.rowCount);
            yield raw;
          }
        }
        return { ...opened, batches: counted() };
      },
    };

    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW))).toMatchObject({ state: 'registered' });
    const training = (await record(w.runs))!.training!;
    expect(training.trainRows + training.validationRows).toBe(100);
    expect(read.get('datasets/regional/training.csv')).toBeLessThan(250_000);
  });

  it('when there is no data to train on, then the request fails with the reason and the handling throws (the message is retried, then dead-lettered)', async () => {
    const w = await aWorld();
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'INSUFFICIENT_DATA' });
    expect(await record(w.runs)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^INSUFFICIENT_DATA: 0 labelled rows could be joined .* no training set/) });
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW), 5)).rejects.toMatchObject({ code: 'INSUFFICIENT_DATA' });
    expect((await record(w.runs))?.error).toMatch(/\(delivery 5 of 5: the message goes to the dead-letter queue\)$/);
    expect(w.publisher.ofType('retraining.changed').map((e) => e.data.state)).toEqual(['training', 'failed']);
    expect((await record(w.runs))?.error).toMatch(/no training set: v1 names no 'training' dataset and RETRAINING_TRAINING_DATASET is not set/);
  });

  it('when the training set it would fall back on is not in the lake, then the request fails naming the data set that is missing, not a model without one', async () => {
    const w = await aWorld({ trainingSet: true });
    await w.lake.delete('datasets/regional/training.csv');
    w.deps.limits = { ...w.deps.limits, trainingDataset: 'datasets/{model}/fallback.csv' };
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'INSUFFICIENT_DATA' });
    expect((await record(w.runs))?.error).toMatch(
      /no training set: v1's 'training' dataset 'datasets\/regional\/training\.csv' is not in the data lake; RETRAINING_TRAINING_DATASET 'datasets\/regional\/fallback\.csv' is not in the data lake$/,
    );
  });

  it('when some joined rows fail row validation, then the version is trained on the rest and the record counts the refused rows by reason', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-b', WINDOW, driftedRows(200, 1).map((r, i) => (i % 10 === 0 ? { ...r, features: { ...r.features, x1: '' } } : r)));
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW))).toMatchObject({ state: 'registered', resultVersion: 2 });
    const training = (await record(w.runs))!.training!;
    expect(training.trainRows + training.validationRows).toBe(200);
    expect(Object.entries(training.refused!)).toEqual([[expect.stringContaining('x1'), 20]]);
  });

  it('when fewer joined rows than RETRAINING_MIN_ROWS pass row validation, then they are not trained on: without a training set the request fails saying how many were read and how many were usable', async () => {
    const w = await aWorld();
    // 60 rows joined (more than RETRAINING_MIN_ROWS, 50), 20 of them without x1: 40 usable.
    await addLabelled(w, 'run-b', WINDOW, driftedRows(60, 1).map((r, i) => (i % 3 === 0 ? { ...r, features: { ...r.features, x1: '' } } : r)));

    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'INSUFFICIENT_DATA', details: { labelledRows: 60, usableRows: 40 } });

    const error = (await record(w.runs))!.error!;
    expect(error).toMatch(
      /^INSUFFICIENT_DATA: 60 labelled rows could be joined to their drops, 40 of them usable \(rows refused: \S*x1\S*: 20\): fewer than RETRAINING_MIN_ROWS \(50\), and the model has no training set: /,
    );
    expect((await w.store.listVersions('regional')).map((v) => v.version)).toEqual([1]);
  });

  it('when fewer joined rows than RETRAINING_MIN_ROWS are usable and the model has a training set, then it trains on the training set instead', async () => {
    const w = await aWorld({ trainingSet: true });
    await addLabelled(w, 'run-b', WINDOW, driftedRows(60, 1).map((r, i) => (i % 3 === 0 ? { ...r, features: { ...r.features, x1: '' } } : r)));

    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW))).toMatchObject({ state: 'registered', resultVersion: 2 });
    expect((await record(w.runs))?.training).toMatchObject({ source: 'training_set', from: ['datasets/regional/training.csv'], refused: {} });
  });

  it('when every row of the training set it falls back on fails row validation (a feature missing in all of them), then the request fails naming the row rejections, not a column no row reached', async () => {
    const w = await aWorld({ trainingSet: true });
    await w.lake.write('datasets/regional/training.csv', Buffer.from(toCsv(regionalRows(300, 5).map((r) => ({ ...r, x1: '' as unknown as number })))));
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'INSUFFICIENT_DATA' });
    const error = (await record(w.runs))!.error!;
    expect(error).toMatch(/^INSUFFICIENT_DATA: only 0 rows of 'datasets\/regional\/retraining\/20260601T0000Z\/train\.csv' passed row validation \(rows refused: \S*x1\S*: \d+\)/);
    expect(error).not.toMatch(/column 'region'/);
  });

  it('when a category the champion one-hot encodes is in no training row any more, then the request fails naming the value and the column, and no version is registered', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-b', WINDOW, driftedRows(200, 1).map((r) => ({ ...r, features: { ...r.features, region: 'north' } })));
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({
      code: 'INSUFFICIENT_DATA',
      details: { column: 'region', category: 'south', output: 'region_south' },
    });
    expect((await record(w.runs))!.error).toMatch(
      /^INSUFFICIENT_DATA: no training row has 'south' in 'region', and the champion's spec \(v1\) outputs 'region_south' for it: its one_hot step learns its categories from the data/,
    );
    expect(await w.store.getVersion('regional', 2)).toBeUndefined();
  });

  it('when the targets are beyond float32 (the ONNX graph\'s type), then the request fails saying the coefficients do not fit, and no version is registered', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-b', WINDOW, driftedRows(200, 1).map((r) => ({ ...r, actual: (r.actual as number) * 1e38 })));
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await record(w.runs))!.error).toMatch(/^VALIDATION_ERROR: a fitted coefficient \(.+\) is outside the float32 range of the ONNX graph/);
    expect(await w.store.getVersion('regional', 2)).toBeUndefined();
  });

  it('when the coefficients fit float32 but X w + b does not, then the request fails saying the output is not finite, and no version is registered', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-b', WINDOW, driftedRows(200, 1).map((r) => ({ ...r, actual: (r.actual as number) * 5e37 })));
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await record(w.runs))!.error).toMatch(/^VALIDATION_ERROR: the new model's output is not finite for \d+ of \d+ training rows \(the model's prediction is (-)?Infinity\)/);
    expect(await w.store.getVersion('regional', 2)).toBeUndefined();
  });

  it('when a store is down, then the delivery is noted and retried; on the last delivery the request fails and says it is dead-lettered', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(100, 10));
    const runs = w.runs.runs;
    const down: RunStore['runs'] = {
      get: () => Promise.reject(new Error('Cosmos DB is unavailable')),
      create: (...args) => runs.create(...args),
      replace: (...args) => runs.replace(...args),
      list: (...args) => runs.list(...args),
      listReadable: (...args) => runs.listReadable(...args),
      listReadableInRange: (...args) => runs.listReadableInRange(...args),
      listCreatedSince: (...args) => runs.listCreatedSince(...args),
      listReadableInState: (...args) => runs.listReadableInState(...args),
      listReadableFollowUpsPending: (...args) => runs.listReadableFollowUpsPending(...args),
      listReadableLatestScheduled: (...args) => runs.listReadableLatestScheduled(...args),
      listReadablePage: (...args) => runs.listReadablePage(...args),
      listModelsToReconcile: (...args) => runs.listModelsToReconcile(...args),
    };
    w.deps.runs = { ...w.runs, runs: down };
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW), 1)).rejects.toThrow('Cosmos DB is unavailable');
    expect(await record(w.runs)).toMatchObject({ state: 'training', error: 'delivery 1 failed, to be retried: Cosmos DB is unavailable' });
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW), 5)).rejects.toThrow('Cosmos DB is unavailable');
    expect(await record(w.runs)).toMatchObject({
      state: 'failed',
      error: 'Cosmos DB is unavailable (delivery 5 of 5: the message goes to the dead-letter queue)',
    });
    w.deps.runs = w.runs;
    // Sent again from the dead-letter queue once the store is back: it trains.
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW), 1)).toMatchObject({ state: 'registered', resultVersion: 2 });
    expect((await record(w.runs))?.error).toBeUndefined();
  });

  it('when the version is registered but its lifecycle cannot be started on any delivery, then the last one fails the request naming the version instead of leaving it registered and open for good', async () => {
    const w = await aWorld();
    await addLabelled(w, 'run-a', WINDOW, driftedRows(150, 3));
    const starters = w.starters;
    w.starters = { ...starters, startLifecycle: () => Promise.reject(new Error('the task hub is unavailable')) };
    for (const delivery of [1, 2, 3, 4]) await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW), delivery)).rejects.toThrow('the task hub is unavailable');
    expect(await record(w.runs)).toMatchObject({ state: 'registered', resultVersion: 2 });

    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW), 5)).rejects.toThrow('the task hub is unavailable');
    expect(await record(w.runs)).toMatchObject({
      state: 'failed',
      resultVersion: 2,
      error: 'v2 is registered, but its lifecycle was not started: the task hub is unavailable (delivery 5 of 5: the message goes to the dead-letter queue)',
    });
    expect(isOpenRequest((await record(w.runs))!)).toBe(false);

    // Sent again once the task hub is back: the same version, its lifecycle started, registered again.
    w.starters = starters;
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW), 1, 'hand-sent-1')).toMatchObject({ state: 'registered', resultVersion: 2 });
    expect(w.started.lifecycles).toEqual([`regional:2:${REQUEST_ID}`]);
    expect((await w.store.listVersions('regional')).map((v) => v.version)).toEqual([1, 2]);
  });

  it('when a message is malformed, then it is refused with the reason and the request it names is failed', async () => {
    const w = await aWorld();
    await queuedRecord(w);
    await expect(deliver(w, '{"model":"regional","version":"one"}')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/^malformed retraining request 'retrain:regional:20260601T0000Z': [\s\S]*version/),
    });
    expect(await record(w.runs)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^VALIDATION_ERROR: malformed retraining request/) });
    const oddWindow = { id: 'w-1', start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' };
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW, { window: oddWindow }), 1, 'whatever')).rejects.toMatchObject({
      message: expect.stringMatching(/window.id 'w-1' is not a monitoring window id/),
    });
    await expect(deliver(w, aRetrainingRequest('nobody', 1, WINDOW), 1, `retrain:nobody:${WINDOW}`)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('when a message id names another request than its body, then it is refused, and the request its id names is left alone', async () => {
    const w = await aWorld({ trainingSet: true });
    await queuedRecord(w);
    await expect(deliver(w, aRetrainingRequest('regional', 1, '20260602T0000Z'), 1, REQUEST_ID)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: `malformed retraining request '${REQUEST_ID}': its message id names another request than its body does ('retrain:regional:20260602T0000Z')`,
    });
    expect(await record(w.runs)).toMatchObject({ state: 'queued' });
    expect(await w.runs.retraining.get('regional', 'retrain:regional:20260602T0000Z')).toBeUndefined();
    // An id that is no request id (a hand-sent message) leaves the body to say which request it is.
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW), 1, 'hand-sent-1')).toMatchObject({ requestId: REQUEST_ID, state: 'registered' });
  });

  it('when a copy of a request names another version than the one it was raised on (the champion changed since), then it is refused and the request fails saying so, instead of training that version as the parent', async () => {
    const w = await aWorld({ trainingSet: true });
    const v2 = regionalPackage([2, 3, 9, 0], 1, { datasets: [{ role: 'training', uri: 'datasets/regional/training.csv' }] });
    const registration = w.deps.registration;
    await registerPackage(registration, { model: 'regional', manifest: v2.manifest, artifact: await stageUpload(registration, 'regional', Readable.from([v2.onnx])), actor: carlos });
    await queuedRecord(w);

    await expect(deliver(w, aRetrainingRequest('regional', 2, WINDOW))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await record(w.runs)).toMatchObject({
      state: 'failed',
      version: 1,
      error: `VALIDATION_ERROR: malformed retraining request '${REQUEST_ID}': it names version 2, the request was raised on version 1 (its record) and keeps it`,
    });
    expect(await w.store.getVersion('regional', 3)).toBeUndefined();
    // The request as it was raised still trains, with the version it names as the parent.
    expect(await deliver(w, aRetrainingRequest('regional', 1, WINDOW))).toMatchObject({ state: 'registered', resultVersion: 3 });
    expect((await w.store.getVersion('regional', 3))!.value.lineage).toMatchObject({ parentVersion: 1, trainingRun: REQUEST_ID });
    // A copy refused on its last delivery leaves the registered request as it is.
    await expect(deliver(w, aRetrainingRequest('regional', 2, WINDOW), 5)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await record(w.runs)).toMatchObject({ state: 'registered', resultVersion: 3 });
  });

  it('when a window id has the pattern but names no instant (hour 99) or another one (30 February is 2 March), then it is refused and nothing is trained', async () => {
    const w = await aWorld({ trainingSet: true });
    const window = { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' };
    for (const id of ['20260601T9900Z', '20260230T0000Z', '20261301T0000Z']) {
      await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW, { window: { id, ...window } }), 1, `hand-sent-${id}`)).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        message: `malformed retraining request 'hand-sent-${id}': window.id '${id}' is not a monitoring window id (YYYYMMDDTHHmmZ)`,
      });
    }
    expect(await w.runs.retraining.list('regional')).toEqual([]);
    expect(await w.store.getVersion('regional', 2)).toBeUndefined();
  });

  it('when a request\'s window ends before it starts, or where it starts, then it is refused as malformed, the request its id names fails saying so, and nothing is trained', async () => {
    const w = await aWorld({ trainingSet: true });
    await queuedRecord(w);
    const backwards = { id: WINDOW, start: '2026-06-01T00:00:00Z', end: '2026-05-31T00:00:00Z' };
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW, { window: backwards }))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: `malformed retraining request '${REQUEST_ID}': window.start 2026-06-01T00:00:00Z is not before window.end 2026-05-31T00:00:00Z: a window ends after it starts`,
    });
    expect(await record(w.runs)).toMatchObject({ state: 'failed', error: expect.stringContaining('window.start 2026-06-01T00:00:00Z is not before window.end') });
    const empty = { id: WINDOW, start: '2026-06-01T00:00:00Z', end: '2026-06-01T02:00:00+02:00' };
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW, { window: empty }), 1, 'hand-sent-1')).rejects.toMatchObject({
      message: expect.stringContaining('is not before window.end 2026-06-01T02:00:00+02:00'),
    });
    expect(await w.store.getVersion('regional', 2)).toBeUndefined();
  });

  it('when a request is dated in the future (a sender\'s clock far ahead), then it is refused and leaves no record that would hold off later requests for the cooldown after that date', async () => {
    const w = await aWorld({ trainingSet: true });
    const future = aRetrainingRequest('regional', 1, WINDOW, { requestedAt: '2099-01-01T00:00:00Z' });
    await expect(deliver(w, future, 1, 'hand-sent-1')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/^malformed retraining request 'hand-sent-1': requestedAt 2099-01-01T00:00:00Z is in the future/),
    });
    expect(await record(w.runs)).toBeUndefined();
    // Sent with its request id while the monitor's record waits: that request fails with the reason.
    await queuedRecord(w);
    await expect(deliver(w, future)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await record(w.runs)).toMatchObject({ state: 'failed', requestedAt: '2026-06-02T00:00:00Z', error: expect.stringMatching(/requestedAt 2099-01-01T00:00:00Z is in the future/) });
    // A clock a minute ahead of this one is no reason to refuse.
    const skewed = aRetrainingRequest('regional', 1, WINDOW, { requestedAt: '2026-06-02T03:01:00Z' });
    expect(await deliver(w, skewed)).toMatchObject({ requestId: REQUEST_ID, state: 'registered' });
  });

  it('when the request names a version the registry does not have, or retraining is disabled, then the request fails saying so', async () => {
    const w = await aWorld();
    await expect(deliver(w, aRetrainingRequest('regional', 7, WINDOW))).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    const off = await aWorld({ policies: { retraining: { enabled: false } } });
    await expect(deliver(off, aRetrainingRequest('regional', 1, WINDOW))).rejects.toThrow(/retraining is disabled for model 'regional'/);
    expect(await record(off.runs)).toMatchObject({ state: 'failed' });
  });
});

describe('the transform spec a retraining refits', () => {
  const clipped: TransformSpecInput = {
    specVersion: 1,
    steps: [{ type: 'clip', columns: ['x1', 'x2'], upper: { quantile: 0.95 } }, { type: 'one_hot', column: 'region' }],
    output: ['x1', 'x2', 'region_north', 'region_south'],
  };

  /** A world whose champion was fitted from a spec its fitted transforms cannot show (quantile clip bounds). */
  async function clippedChampion(withSpec: boolean) {
    const w = await aWorld();
    await w.registry.createModel(aRegionalModel('clipped'), carlos);
    const old = regionalRows(100, 30);
    const fitted = fitTransforms(clipped, { rowCount: 100, numeric: { x1: Float64Array.from(old, (r) => r.x1), x2: Float64Array.from(old, (r) => r.x2) }, categorical: { region: old.map((r) => r.region) } });
    const onnx = new OnnxModelExporter().linearRegression({ weights: [...TRUE_WEIGHTS], bias: 0 });
    await registerPackage(w.deps.registration, {
      model: 'clipped',
      manifest: { signature: onnx.signature, transforms: fitted, ...(withSpec ? { transformSpec: clipped } : {}) },
      artifact: await stageUpload(w.deps.registration, 'clipped', Readable.from([onnx.bytes])),
      actor: carlos,
    });
    const fixture = labelledFixture({ model: 'clipped', version: 1, runId: 'run-q', windowId: WINDOW, rows: driftedRows(150, 31) });
    const info = await w.lake.write(fixture.dropPath, fixture.drop);
    await w.runs.runs.create('clipped', 'run-q', fixture.run(info.etag, info.size));
    await w.lake.write(fixture.labelledPath, fixture.labelled);
    return w;
  }

  it('when the champion registered its spec, then the spec is refitted: quantile bounds are learnt again from the new data', async () => {
    const w = await clippedChampion(true);
    await handleRetrainingMessage(w.deps, w.starters, { body: aRetrainingRequest('clipped', 1, WINDOW), deliveryCount: 1 });
    const v2 = (await w.store.getVersion('clipped', 2))!.value;
    const v1 = (await w.store.getVersion('clipped', 1))!.value;
    expect(v2.transformSpecHash).toBe(v1.transformSpecHash);
    const [old, refitted] = await Promise.all([v1, v2].map(async (v) => JSON.parse((await w.lake.readBuffer(lakePaths.transformSpec('clipped', v.version))).toString('utf8'))));
    expect(refitted.steps[0].upper).not.toEqual(old.steps[0].upper);
  });

  it('when the spec cannot be recovered and the champion did not register it, then the request fails asking for transformSpec, before reading any data', async () => {
    const w = await clippedChampion(false);
    await expect(handleRetrainingMessage(w.deps, w.starters, { body: aRetrainingRequest('clipped', 1, WINDOW), deliveryCount: 1 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await w.runs.retraining.get('clipped', `retrain:clipped:${WINDOW}`))?.value).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/step 1 \(clip\) .*`transformSpec` in the manifest/),
    });
    // Said before any data is read: no snapshot of data it could never train on.
    expect((await w.runs.retraining.get('clipped', `retrain:clipped:${WINDOW}`))?.value.training).toBeUndefined();
    expect(await w.lake.stat(lakePaths.retrainingDataset('clipped', WINDOW, 'train.csv'))).toBeUndefined();
  });
});

describe('a retraining request for a model with a webhook trainer', () => {
  it('when the webhook is configured, then the retraining orchestration starts with the request and the request is training', async () => {
    const w = await aWorld({ policies: { retraining: { trainer: 'webhook' } }, webhookUrl: 'https://ml.example/jobs' });
    const request = aRetrainingRequest('regional', 1, WINDOW);
    expect(await deliver(w, request)).toMatchObject({ state: 'training', note: 'submitted to the webhook trainer' });
    expect(w.started.webhooks).toEqual([{ requestId: REQUEST_ID, model: 'regional', request: expect.objectContaining({ model: 'regional', version: 1 }) }]);
    expect(await record(w.runs)).toMatchObject({ state: 'training', trainer: 'webhook' });
    expect(await w.lake.stat(lakePaths.retrainingDataset('regional', WINDOW, 'train.csv'))).toBeUndefined();
  });

  it('when the message comes again after its webhook retraining ended, then the request keeps its end instead of going back to training', async () => {
    const w = await aWorld({ policies: { retraining: { trainer: 'webhook' } }, webhookUrl: 'https://ml.example/jobs' });
    const request = aRetrainingRequest('regional', 1, WINDOW);
    await deliver(w, request);
    // The pipeline's run failed (the orchestration recorded it), then the message is delivered again.
    await recordTrainingError(w.deps, 'regional', REQUEST_ID, 'the training pipeline failed: out of quota', true);
    w.started.ended.add(REQUEST_ID);
    expect(await deliver(w, request, 2)).toMatchObject({ state: 'failed', note: expect.stringMatching(/already ended \(failed: the training pipeline failed: out of quota\)/) });
    expect(await record(w.runs)).toMatchObject({ state: 'failed', error: 'the training pipeline failed: out of quota' });
    expect(w.started.webhooks).toHaveLength(1);
  });

  it('when its webhook retraining ended without recording an outcome, then a redelivered message fails the request instead of leaving it training', async () => {
    const w = await aWorld({ policies: { retraining: { trainer: 'webhook' } }, webhookUrl: 'https://ml.example/jobs' });
    const request = aRetrainingRequest('regional', 1, WINDOW);
    await deliver(w, request);
    w.started.ended.add(REQUEST_ID); // terminated by an operator, say
    expect(await deliver(w, request, 2)).toMatchObject({ state: 'failed' });
    expect(await record(w.runs)).toMatchObject({ state: 'failed', error: 'its webhook retraining ended without recording an outcome' });
  });

  it('when no webhook URL is configured, then the request fails naming the setting', async () => {
    const w = await aWorld({ policies: { retraining: { trainer: 'azureml' } } });
    await expect(deliver(w, aRetrainingRequest('regional', 1, WINDOW))).rejects.toThrow(/'azureml' trainer, which needs RETRAINING_WEBHOOK_URL/);
    expect(w.started.webhooks).toEqual([]);
  });
});

/** The spec the classifiers' v1 were fitted with: the two numbers standardized, the region one-hot. */
const CLASSIFIER_SPEC: TransformSpecInput = {
  specVersion: 1,
  steps: [{ type: 'standardize', columns: ['x1', 'x2'] }, { type: 'one_hot', column: 'region' }],
  output: ['x1', 'x2', 'region_north', 'region_south'],
};

/**
 * Creates the classifier `name` on x1, x2 and region, and registers its v1: `parent`'s graph with
 * CLASSIFIER_SPEC fitted to 100 older rows (drawn with `seed`). Answers those fitted transforms.
 */
async function aClassifierWithV1(w: Awaited<ReturnType<typeof aWorld>>, name: string, task: 'binary' | 'multiclass', classLabels: readonly string[], parent: ExportedModel, seed: number) {
  const definition = {
    ...aRegionalModel(name),
    task,
    classLabels: [...classLabels],
    features: [
      { name: 'x1', type: 'numeric' as const },
      { name: 'x2', type: 'numeric' as const },
      { name: 'region', type: 'categorical' as const },
    ],
  };
  await w.registry.createModel(definition, carlos);
  const old = regionalRows(100, seed);
  const fitted = fitTransforms(CLASSIFIER_SPEC, { rowCount: 100, numeric: { x1: Float64Array.from(old, (r) => r.x1), x2: Float64Array.from(old, (r) => r.x2) }, categorical: { region: old.map((r) => r.region) } });
  const registration = w.deps.registration;
  await registerPackage(registration, {
    model: name,
    manifest: { signature: parent.signature, transforms: fitted },
    artifact: await stageUpload(registration, name, Readable.from([parent.bytes])),
    actor: carlos,
  });
  return fitted;
}

describe('a retraining request for a binary model', () => {
  const labels = ['stay', 'churn'] as const;
  const truth = (x1: number, x2: number, region: string) => 1 / (1 + Math.exp(-(1.2 * x1 - 0.8 * x2 + (region === 'north' ? 1 : -0.5))));

  it('when labelled outcomes arrive, then a logistic regression is refitted with the spec and registered with label and probability golden records', async () => {
    const w = await aWorld();
    const fitted = await aClassifierWithV1(w, 'churn', 'binary', labels, new OnnxModelExporter().logisticRegression({ weights: [1, 0, 0, 0], bias: 0 }, labels), 20);

    const random = seededRandom(21);
    const rows: LabelledRow[] = regionalRows(3000, 22).map((r) => ({
      id: r.id,
      features: { x1: r.x1, x2: r.x2, region: r.region },
      actual: random.next() < truth(r.x1, r.x2, r.region) ? 'churn' : 'stay',
    }));
    const fixture = labelledFixture({ model: 'churn', version: 1, runId: 'run-c', windowId: WINDOW, rows });
    const info = await w.lake.write(fixture.dropPath, fixture.drop);
    await w.runs.runs.create('churn', 'run-c', fixture.run(info.etag, info.size));
    await w.lake.write(fixture.labelledPath, fixture.labelled);

    const outcome = await handleRetrainingMessage(w.deps, w.starters, { body: aRetrainingRequest('churn', 1, WINDOW), deliveryCount: 1 });
    expect(outcome).toMatchObject({ state: 'registered', resultVersion: 2 });
    const v2 = (await w.store.getVersion('churn', 2))!.value;
    expect(v2.description).toMatch(/logistic regression on \d+ rows of labelled data/);
    expect(v2.trainingMetrics).toMatchObject({ accuracy: expect.any(Number), log_loss: expect.any(Number), train_roc_auc: expect.any(Number) });
    const loaded = await loadScoringVersion(w.deps, (await w.registry.getModel('churn')).definition, v2);
    expect(loaded.fitted!.steps[0]).toMatchObject({ type: 'standardize' });
    expect(loaded.fitted!.specHash).toBe(fitted.specHash);
    expect(loaded.goldenRecords![0]!.expectedOutput).toMatchObject({ prediction: expect.stringMatching(/^(stay|churn)$/), probabilities: [expect.any(Number), expect.any(Number)] });
    await checkParity(loaded, loaded.goldenRecords!, loaded.fitted);

    const fresh = regionalRows(200, 23);
    const { inputs } = loaded.transform({ rowCount: 200, numeric: { x1: Float64Array.from(fresh, (r) => r.x1), x2: Float64Array.from(fresh, (r) => r.x2) }, categorical: { region: fresh.map((r) => r.region) } });
    const out = await loaded.model.predict(inputs);
    if (out.kind !== 'classification') throw new Error('expected classification');
    const error = fresh.reduce((s, r, i) => s + Math.abs(out.probabilities[i * 2 + 1]! - truth(r.x1, r.x2, r.region)), 0) / fresh.length;
    expect(error).toBeLessThan(0.04);
    fresh.forEach((_, i) => expect(out.labels[i]).toBe(out.probabilities[i * 2 + 1]! > 0.5 ? 'churn' : 'stay'));
  });
});

describe('a retraining request for a multiclass model', () => {
  const labels = ['low', 'mid', 'high'];
  /** The true class probabilities: a softmax of one linear score per class. */
  const truth = (x1: number, x2: number, region: string) => {
    const z = [1.2 * x1 - 0.5 * x2, 0.3 * x2 + (region === 'north' ? 1 : 0), -1.2 * x1 + 0.2 * x2];
    const e = z.map((v) => Math.exp(v - Math.max(...z)));
    return e.map((v) => v / e.reduce((s, u) => s + u, 0));
  };
  /** A world with the multiclass model 'grade', its v1 (a multinomial graph), and labelled rows drawn from `truth` (`classOf` may change a row's class). */
  async function aMulticlassWorld(classOf: (drawn: string) => string = (drawn) => drawn) {
    const w = await aWorld();
    const parent = new OnnxModelExporter().multinomialLogisticRegression({ weights: [[1, 0, 0, 0], [0, 0, 0, 0], [-1, 0, 0, 0]], biases: [0, 0, 0] }, labels);
    await aClassifierWithV1(w, 'grade', 'multiclass', labels, parent, 30);
    const random = seededRandom(31);
    const rows: LabelledRow[] = regionalRows(3000, 32).map((r) => {
      const u = random.next();
      const p = truth(r.x1, r.x2, r.region);
      const drawn = u < p[0]! ? labels[0]! : u < p[0]! + p[1]! ? labels[1]! : labels[2]!;
      return { id: r.id, features: { x1: r.x1, x2: r.x2, region: r.region }, actual: classOf(drawn) };
    });
    const fixture = labelledFixture({ model: 'grade', version: 1, runId: 'run-g', windowId: WINDOW, rows });
    const info = await w.lake.write(fixture.dropPath, fixture.drop);
    await w.runs.runs.create('grade', 'run-g', fixture.run(info.etag, info.size));
    await w.lake.write(fixture.labelledPath, fixture.labelled);
    return w;
  }

  /** The rows of a snapshot CSV file as the model's feature batch and each row's class index. */
  async function snapshotRows(w: World, name: string) {
    const [header, ...lines] = (await w.lake.readBuffer(lakePaths.retrainingDataset('grade', WINDOW, name))).toString().trim().split('\n');
    const columns = header!.split(',');
    const cells = lines.map((l) => l.split(','));
    const column = (c: string) => cells.map((row) => row[columns.indexOf(c)]!);
    const batch = { rowCount: cells.length, numeric: { x1: Float64Array.from(column('x1'), Number), x2: Float64Array.from(column('x2'), Number) }, categorical: { region: column('region') } };
    return { batch, actual: column('actual').map((a) => labels.indexOf(a)) };
  }

  it('when labelled outcomes arrive, then a multinomial logistic regression is refitted with the spec and registered with its metrics and 3-class golden records', async () => {
    const w = await aMulticlassWorld();
    const outcome = await handleRetrainingMessage(w.deps, w.starters, { body: aRetrainingRequest('grade', 1, WINDOW), deliveryCount: 1 });
    expect(outcome).toMatchObject({ state: 'registered', resultVersion: 2 });
    const v2 = (await w.store.getVersion('grade', 2))!.value;
    expect(v2.description).toMatch(/multinomial logistic regression on \d+ rows of labelled data/);
    const loaded = await loadScoringVersion(w.deps, (await w.registry.getModel('grade')).definition, v2);
    expect(loaded.fitted!.specHash).toBe((await w.store.getVersion('grade', 1))!.value.transformSpecHash);
    expect(loaded.goldenRecords![0]!.expectedOutput).toMatchObject({ prediction: expect.stringMatching(/^(low|mid|high)$/), probabilities: [expect.any(Number), expect.any(Number), expect.any(Number)] });
    await checkParity(loaded, loaded.goldenRecords!, loaded.fitted);

    // The validation metrics are those of the registered model on validation.csv, recomputed here by hand.
    const validation = await snapshotRows(w, 'validation.csv');
    const onValidation = await loaded.model.predict(loaded.transform(validation.batch).inputs);
    if (onValidation.kind !== 'classification') throw new Error('expected classification');
    const n = validation.actual.length;
    const accuracy = validation.actual.filter((a, i) => onValidation.labels[i] === labels[a]).length / n;
    const logLoss = -validation.actual.reduce((s, a, i) => s + Math.log(onValidation.probabilities[i * 3 + a]!), 0) / n;
    expect(v2.trainingMetrics.accuracy).toBeCloseTo(accuracy, 12);
    expect(v2.trainingMetrics.log_loss).toBeCloseTo(logLoss, 6);
    expect(v2.trainingMetrics).toMatchObject({ f1_macro: expect.any(Number), roc_auc: expect.any(Number), train_accuracy: expect.any(Number), train_log_loss: expect.any(Number) });

    // The refit recovers the true probabilities of fresh rows, in the order of the class labels.
    const fresh = regionalRows(200, 33);
    const { inputs } = loaded.transform({ rowCount: 200, numeric: { x1: Float64Array.from(fresh, (r) => r.x1), x2: Float64Array.from(fresh, (r) => r.x2) }, categorical: { region: fresh.map((r) => r.region) } });
    const out = await loaded.model.predict(inputs);
    if (out.kind !== 'classification') throw new Error('expected classification');
    expect(out.classCount).toBe(3);
    const error = fresh.reduce((s, r, i) => s + truth(r.x1, r.x2, r.region).reduce((t, p, k) => t + Math.abs(out.probabilities[i * 3 + k]! - p), 0) / 3, 0) / fresh.length;
    expect(error).toBeLessThan(0.04);
    fresh.forEach((_, i) => {
      const p = Array.from(out.probabilities.subarray(i * 3, i * 3 + 3));
      expect(out.labels[i]).toBe(labels[p.indexOf(Math.max(...p))]);
    });
  });

  it('when no labelled row has one of the classes, then the request fails naming the class, and no version is registered', async () => {
    const w = await aMulticlassWorld((drawn) => (drawn === 'mid' ? 'high' : drawn));
    await expect(handleRetrainingMessage(w.deps, w.starters, { body: aRetrainingRequest('grade', 1, WINDOW), deliveryCount: 1 })).rejects.toMatchObject({ code: 'INSUFFICIENT_DATA' });
    expect((await w.runs.retraining.get('grade', `retrain:grade:${WINDOW}`))?.value.error).toMatch(/^INSUFFICIENT_DATA: no training row has the class 'mid' \(of 3 classes, \d+ rows\)/);
    expect(await w.store.getVersion('grade', 2)).toBeUndefined();
  });
});
