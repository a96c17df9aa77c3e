/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { laterActuals, newerActualsVersion, newestActualsVersion } from '../../../shared/domain/actuals';
import { lakePaths } from '../../../shared/domain/lake-paths';
import type { ActualsJoinInput, BucketSummary } from '../../../shared/schemas/actuals';
import type { ActualsRecord } from '../../../shared/schemas/monitoring';
import { joinActualsBucket } from '../../../shared/usecases/actuals/join-bucket';
import { planActualsJoin } from '../../../shared/usecases/actuals/plan';
import { completeActualsJoin, failActualsJoin } from '../../../shared/usecases/actuals/record';
import { replaceOlderVersions, versionsToReplace } from '../../../shared/usecases/actuals/replace';
import { updateLabelledWindow } from '../../../shared/usecases/actuals/window';
import { actualsCsv, type ActualsWorld, actualsWorld, aDemandModel, dropActuals, type DropRow, joinInProcess, scoredRun } from '../../support/actuals-kit';
import { anActualsRecord } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { type InMemoryActualsCollection, inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';
import { RecordingPublisher } from '../../support/recording-publisher';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const DAY = '20260301T0000Z';
const rows: DropRow[] = ['A', 'B', 'C', 'D'].map((id, i) => ({ id, ts: `2026-03-01T0${i}:00:00Z`, x1: i, x2: 1, region: i % 2 ? 'north' : 'south' }));

async function world(settings = {}) {
  const lake = new MemoryLake();
  const w = await actualsWorld({ definition: aDemandModel(), lake, registry: new InMemoryModelRegistry(), runs: inMemoryRunStore(), events: new RecordingPublisher(), runtime }, settings);
  await scoredRun(w, { runId: 'run-1', createdAt: '2026-03-02T00:00:00Z', rows });
  await w.runs.windows.create('demand', DAY, {
    modelName: 'demand',
    window: { id: DAY, start: '2026-03-01T00:00:00.000Z', end: '2026-03-02T00:00:00.000Z' },
    version: 1,
    predictions: 4,
    labelled: 0,
    labelCoverage: 0,
    performance: null,
    drift: null,
  });
  return { w, lake };
}

const sales = (ids: string[], offset = 0) => actualsCsv(['id', 'sales'], ids.map((id, i) => [id, 10 * i + offset]));
const record = async (w: ActualsWorld, actualsId: string) => (await w.runs.actuals.get('demand', actualsId))!.value;
const windowDoc = async (w: ActualsWorld) => (await w.runs.windows.get('demand', DAY))!.value;
const labelledFiles = (lake: MemoryLake) => [...lake.objects.keys()].filter((k) => k.startsWith('datasets/demand/labelled/')).sort();

/** A join's steps up to (not including) its completion, as an orchestration that has not reached `actualsComplete` yet. */
async function joinUntilComplete(w: ActualsWorld, input: ActualsJoinInput): Promise<{ actualsId: string; summaries: BucketSummary[] }> {
  const planned = await planActualsJoin(w.deps, { ...input, instanceId: 'i', at: w.now.toISOString() });
  if (planned.outcome !== 'planned') throw new Error(`not planned: ${planned.outcome}`);
  const { actualsId } = planned;
  const summaries: BucketSummary[] = [];
  for (let bucket = 0; bucket < planned.buckets; bucket += 1) summaries.push(await joinActualsBucket(w.deps, { model: 'demand', actualsId, bucket }));
  for (const windowId of new Set(summaries.flatMap((s) => s.windows.map((x) => x.windowId)))) await updateLabelledWindow(w.deps, { model: 'demand', actualsId, windowId });
  return { actualsId, summaries };
}

describe('which version of an actuals path is newer', () => {
  const v = (actualsId: string, lastModified: number, current = false) => ({ actualsId, lastModified, current });

  it('when two versions differ in last-modified time, then the later one is newer, whatever their ids', () => {
    expect(newerActualsVersion(v('a-0000', 2000), v('a-ffff', 1000))).toBe(true);
    expect(newerActualsVersion(v('a-ffff', 1000), v('a-0000', 2000))).toBe(false);
  });

  it('when they tie on time (Blob Storage stamps whole seconds), then the greater actuals id is newer, as labelled data picks an id\'s actual', () => {
    expect(newerActualsVersion(v('a-ffff', 1000), v('a-0000', 1000))).toBe(true);
    expect(laterActuals(1000, 'a-ffff', 1000, 'a-0000')).toBe(true);
    expect(laterActuals(1000, 'a-0000', 1000, 'a-ffff')).toBe(false);
  });

  it('when the blob holds one of the versions now, then that one is newest, even against a later stamp or a greater id', () => {
    expect(newerActualsVersion(v('a-0000', 1000, true), v('a-ffff', 1000))).toBe(true);
    expect(newerActualsVersion(v('a-0000', 1000, true), v('a-ffff', 5000))).toBe(true);
    expect(newestActualsVersion([v('a-1', 3000), v('a-2', 1000, true), v('a-3', 2000)])?.actualsId).toBe('a-2');
    expect(newestActualsVersion([])).toBeUndefined();
  });

  const aRecord = (actualsId: string, state: ActualsRecord['state'], lastModified?: string, createdAt = '2026-03-10T00:00:00.000Z'): ActualsRecord =>
    anActualsRecord('demand', actualsId, createdAt, {
      source: { path: 'actuals/demand/a.csv', etag: `"${actualsId}"`, size: 1, ...(lastModified ? { lastModified } : {}) },
      state,
      instanceId: 'i',
      rows: 0,
      matched: 0,
    });

  it('when versions ended completed or failed, then every one older than the newest completed is replaced; running ones, newer failed ones and replaced ones are not', () => {
    const plan = versionsToReplace(
      [
        aRecord('v1', 'completed', '2026-03-01T00:00:01.000Z'),
        aRecord('v2', 'failed', '2026-03-01T00:00:02.000Z'),
        aRecord('v3', 'running', '2026-03-01T00:00:03.000Z'),
        aRecord('v4', 'completed', '2026-03-01T00:00:04.000Z'),
        aRecord('v5', 'failed', '2026-03-01T00:00:05.000Z'),
        { ...aRecord('v0', 'completed', '2026-03-01T00:00:00.000Z'), replacedBy: { actualsId: 'v1', at: '2026-03-01T00:00:01.000Z', labelledFolder: 'x/' } },
      ],
      undefined,
    );
    expect(plan?.newest.actualsId).toBe('v4');
    expect(plan?.older.map((r) => r.actualsId)).toEqual(['v1', 'v2']);
  });

  it('when no version completed, then nothing is replaced', () => {
    expect(versionsToReplace([aRecord('v1', 'failed', '2026-03-01T00:00:01.000Z'), aRecord('v2', 'running')], undefined)).toBeUndefined();
  });

  it('when a record was stored before records kept the blob\'s time, then its join\'s start orders it', () => {
    const plan = versionsToReplace([aRecord('old', 'completed', undefined, '2026-03-01T00:00:05.000Z'), aRecord('new', 'completed', '2026-03-01T00:00:03.000Z')], undefined);
    expect(plan?.newest.actualsId).toBe('old');
    // The blob's current ETag still settles it.
    expect(versionsToReplace([aRecord('old', 'completed', undefined, '2026-03-01T00:00:05.000Z'), aRecord('new', 'completed', '2026-03-01T00:00:03.000Z')], '"new"')?.newest.actualsId).toBe('new');
  });
});

describe('a new version of an actuals file replaces the old one (use cases, in memory)', () => {
  it('when v2 of a path completes, then v1\'s labelled rows leave the window (kept under replaced/), the window counts v2 only, and v1\'s record names v2', async () => {
    const { w, lake } = await world();
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    expect(v1.record).toMatchObject({ state: 'completed', matched: 3, source: { lastModified: expect.any(String) } });
    expect(await windowDoc(w)).toMatchObject({ labelled: 3 });

    const v2 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));
    const id1 = v1.record!.actualsId;
    const id2 = v2.record!.actualsId;

    expect(await windowDoc(w)).toMatchObject({ labelled: 2, labelCoverage: 0.5 });
    expect((await windowDoc(w)).performance?.metrics.overall.rows).toBe(2);
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, id2)]);
    expect(await record(w, id1)).toMatchObject({
      state: 'completed',
      matched: 3,
      replacedBy: { actualsId: id2, at: w.now.toISOString(), labelledFolder: `datasets/demand/replaced/${id1}/` },
    });
    expect(await record(w, id2)).not.toHaveProperty('replacedBy');
    // Nothing is lost: v1's rows are kept beside.
    expect(lake.objects.has(lakePaths.replacedLabelled('demand', id1, DAY))).toBe(true);
  });

  it('when v1\'s join is still running as v2 completes, then v1 ends replaced and takes its own files out of the window', async () => {
    const { w, lake } = await world();
    const first = await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C']));
    const v1 = await joinUntilComplete(w, first);
    const v2 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));
    // v2 found v1 running: v1's file is still in the window until v1 ends.
    expect((await record(w, v1.actualsId)).replacedBy).toBeUndefined();

    await completeActualsJoin(w.deps, { model: 'demand', actualsId: v1.actualsId, summaries: v1.summaries, completedAt: w.now.toISOString() });

    expect(await record(w, v1.actualsId)).toMatchObject({ state: 'completed', replacedBy: { actualsId: v2.record!.actualsId } });
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, v2.record!.actualsId)]);
    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
  });

  it('when v1 and v2 complete at the same time, then v1 ends replaced and the window counts v2 only', async () => {
    const { w, lake } = await world();
    const v1 = await joinUntilComplete(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    const v2 = await joinUntilComplete(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));
    const complete = (j: typeof v1) => completeActualsJoin(w.deps, { model: 'demand', actualsId: j.actualsId, summaries: j.summaries, completedAt: w.now.toISOString() });

    await Promise.all([complete(v1), complete(v2)]);

    expect((await record(w, v1.actualsId)).replacedBy?.actualsId).toBe(v2.actualsId);
    expect((await record(w, v2.actualsId)).replacedBy).toBeUndefined();
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, v2.actualsId)]);
    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
  });

  it('when another ending version moves v1\'s file between the listing and the copy, then the replacement goes on instead of failing on the missing file', async () => {
    const { w, lake } = await world();
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    const v2 = await joinUntilComplete(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));
    const copy = lake.copy.bind(lake);
    w.deps.lake = Object.assign(Object.create(lake) as MemoryLake, {
      copy: async (from: string, to: string) => {
        // The other mover gets there first: copied and removed.
        if (lake.objects.has(from)) {
          await copy(from, to);
          await lake.delete(from);
        }
        return copy(from, to);
      },
    });

    await completeActualsJoin(w.deps, { model: 'demand', actualsId: v2.actualsId, summaries: v2.summaries, completedAt: w.now.toISOString() });

    expect((await record(w, v1.record!.actualsId)).replacedBy?.actualsId).toBe(v2.actualsId);
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, v2.actualsId)]);
    expect(lake.objects.has(lakePaths.replacedLabelled('demand', v1.record!.actualsId, DAY))).toBe(true);
    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
  });

  it('when the same version\'s event comes again, or its completion is retried, then nothing changes', async () => {
    const { w, lake } = await world();
    await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    const second = await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1));
    const v2 = await joinInProcess(w, second);
    const before = await w.runs.actuals.list('demand');

    expect((await joinInProcess(w, second)).outcome).toBe('done');
    await completeActualsJoin(w.deps, { model: 'demand', actualsId: v2.record!.actualsId, summaries: v2.summaries, completedAt: '2026-03-11T00:00:00.000Z' });

    expect(await w.runs.actuals.list('demand')).toEqual(before);
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, v2.record!.actualsId)]);
    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
  });

  it('when a replacement stopped after moving the files (a crash), then the retry still recomputes the window and marks the record', async () => {
    const { w, lake } = await world();
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    const v2 = await joinUntilComplete(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));
    const id1 = v1.record!.actualsId;
    // The first attempt dies on its first window update: v1's file has been moved, the window not recomputed.
    const replace = w.runs.windows.replace.bind(w.runs.windows);
    w.runs.windows.replace = () => Promise.reject(new Error('Cosmos is down'));
    await expect(completeActualsJoin(w.deps, { model: 'demand', actualsId: v2.actualsId, summaries: v2.summaries, completedAt: w.now.toISOString() })).rejects.toThrow('Cosmos is down');
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, v2.actualsId)]);
    expect((await record(w, id1)).replacedBy).toBeUndefined();
    expect(await windowDoc(w)).toMatchObject({ labelled: 3 });

    w.runs.windows.replace = replace;
    await completeActualsJoin(w.deps, { model: 'demand', actualsId: v2.actualsId, summaries: v2.summaries, completedAt: w.now.toISOString() });

    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
    expect((await record(w, id1)).replacedBy?.actualsId).toBe(v2.actualsId);
  });

  it('when the newer version fails, then the older one keeps counting; when an older version fails after the newer one completed, then what it placed leaves the window', async () => {
    const { w, lake } = await world();
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    const broken = await joinInProcess(w, await dropActuals(w, 'sales.csv', actualsCsv(['id', 'not_sales'], [['A', 1]])));
    expect(broken.record).toMatchObject({ state: 'failed' });
    expect((await record(w, v1.record!.actualsId)).replacedBy).toBeUndefined();
    expect(await windowDoc(w)).toMatchObject({ labelled: 3 });

    // An older version that placed its file, then failed, after the newest completed.
    const path = lakePaths.actuals('demand', 'other.csv');
    const old = await joinUntilComplete(w, await dropActuals(w, 'other.csv', sales(['C', 'D'], 5)));
    const v3 = await joinInProcess(w, await dropActuals(w, 'other.csv', sales(['D'], 7)));
    expect(labelledFiles(lake)).toContain(lakePaths.labelled('demand', DAY, old.actualsId));
    const oldRecord = await record(w, old.actualsId);
    await failActualsJoin(w.deps, { model: 'demand', path, etag: oldRecord.source.etag, size: 1, lastModified: oldRecord.source.lastModified!, actualsId: old.actualsId, instanceId: 'i', error: 'an outage outlasted the retries', at: w.now.toISOString() });

    expect(await record(w, old.actualsId)).toMatchObject({ state: 'failed', replacedBy: { actualsId: v3.record!.actualsId } });
    expect(labelledFiles(lake)).not.toContain(lakePaths.labelled('demand', DAY, old.actualsId));
    expect(await windowDoc(w)).toMatchObject({ labelled: 4 });
  });

  it('when the window a replacement recomputes holds late files of an actuals record that does not read, then the replacement answers that window\'s update naming the record, why and the files left out, as a window refresh does', async () => {
    const { w, lake } = await world();
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    // Another file's late match in the window, whose record is stored damaged: its late file cannot count.
    (w.runs.actuals as InMemoryActualsCollection).storeUnchecked('demand', 'a-bad', { ...anActualsRecord('demand', 'a-bad'), matched: 'many' });
    await lake.write(lakePaths.lateLabelled('demand', DAY, 'a-bad', 'run-x'), Buffer.from('PAR1'));
    const v2 = await joinUntilComplete(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));

    const { record: completed, replacement } = await completeActualsJoin(w.deps, { model: 'demand', actualsId: v2.actualsId, summaries: v2.summaries, completedAt: w.now.toISOString() });

    expect(completed).toMatchObject({ actualsId: v2.actualsId, state: 'completed' });
    expect(replacement.replaced.map((r) => r.actualsId)).toEqual([v1.record!.actualsId]);
    expect(replacement.windows).toEqual([
      { windowId: DAY, labelled: 2, labelCoverage: 0.5, provisional: false, uncountedRecords: [{ actualsId: 'a-bad', reason: expect.stringMatching(/^its stored actuals document is invalid: [\s\S]*matched/), files: 1 }] },
    ]);
    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
    // Completing it again replaces nothing more: no window to warn about.
    expect((await completeActualsJoin(w.deps, { model: 'demand', actualsId: v2.actualsId, summaries: v2.summaries, completedAt: w.now.toISOString() })).replacement).toEqual({ replaced: [], windows: [] });
  });

  it('when versions of other paths completed, then they are left alone', async () => {
    const { w } = await world();
    const a = await joinInProcess(w, await dropActuals(w, 'a.csv', sales(['A', 'B', 'C'])));
    await joinInProcess(w, await dropActuals(w, 'b.csv', sales(['A'], 1)));
    expect(await replaceOlderVersions(w.deps, { model: 'demand', actualsId: a.record!.actualsId, at: w.now.toISOString() })).toEqual({ replaced: [], windows: [] });
    expect((await record(w, a.record!.actualsId)).replacedBy).toBeUndefined();
    expect(await windowDoc(w)).toMatchObject({ labelled: 3 });
  });

  it('when the model has a long history of other files, then a join\'s completion reads only its path\'s records and a completed version\'s windows, not the model\'s whole history', async () => {
    const { w, lake } = await world();
    const v1 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B', 'C'])));
    // 300 other files, each labelled in two windows.
    for (let i = 0; i < 300; i += 1) {
      const actualsId = `other-${i}`;
      await w.runs.actuals.create('demand', actualsId, { ...v1.record!, actualsId, source: { ...v1.record!.source, path: `actuals/demand/other-${i}.csv` }, windows: ['20260201T0000Z', '20260202T0000Z'] });
      for (const windowId of ['20260201T0000Z', '20260202T0000Z']) await lake.write(lakePaths.labelled('demand', windowId, actualsId), Buffer.from('PAR1'));
    }
    const read = { records: 0, listed: 0 };
    const { actuals } = w.runs;
    w.deps.runs = {
      ...w.runs,
      actuals: Object.assign(Object.create(actuals) as typeof actuals, {
        listReadable: async (model: string) => {
          const listing = await actuals.listReadable(model);
          read.records += listing.documents.length;
          return listing;
        },
        listReadableByPath: async (model: string, path: string) => {
          const listing = await actuals.listReadableByPath(model, path);
          read.records += listing.documents.length;
          return listing;
        },
      }),
    };
    const list = lake.list.bind(lake);
    w.deps.lake = Object.assign(Object.create(lake) as MemoryLake, {
      list: async function* (prefix: string) {
        for await (const o of list(prefix)) {
          read.listed += 1;
          yield o;
        }
      },
    });

    const v2 = await joinInProcess(w, await dropActuals(w, 'sales.csv', sales(['A', 'B'], 1)));

    expect(await record(w, v1.record!.actualsId)).toMatchObject({ replacedBy: { actualsId: v2.record!.actualsId } });
    expect(await windowDoc(w)).toMatchObject({ labelled: 2 });
    // The path's two versions; the objects listed are the window's files and the run's, not the 600 other labelled files.
    expect(read.records).toBe(2);
    expect(read.listed).toBeLessThan(20);
  });

  it('when a version of another path is replaced while a join reads the window\'s files (its file moved between the listing and the read), then that join reads the window again and completes instead of failing on the missing file', async () => {
    const { w, lake } = await world();
    const a1 = await joinInProcess(w, await dropActuals(w, 'a.csv', sales(['A', 'B', 'C'])));
    const a1File = lakePaths.labelled('demand', DAY, a1.record!.actualsId);
    const plan = w.files.plan.bind(w.files);
    w.deps.files = Object.assign(Object.create(w.files) as typeof w.files, {
      plan: async (...args: Parameters<typeof w.files.plan>) => {
        // a.csv's v2 completing elsewhere moves v1's file out just as b.csv's window step reads it.
        if (args[0] === a1File && lake.objects.has(a1File)) {
          await lake.copy(a1File, lakePaths.replacedLabelled('demand', a1.record!.actualsId, DAY));
          await lake.delete(a1File);
        }
        return plan(...args);
      },
    });

    const b = await joinInProcess(w, await dropActuals(w, 'b.csv', sales(['D'], 1)));

    expect(b.thrown).toBeUndefined();
    expect(b.record).toMatchObject({ state: 'completed', matched: 1 });
    expect(await windowDoc(w)).toMatchObject({ labelled: 1 });
    expect(labelledFiles(lake)).toEqual([lakePaths.labelled('demand', DAY, b.record!.actualsId)]);
  });
});
