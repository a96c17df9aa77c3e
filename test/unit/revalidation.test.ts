/**
 * When an actuals join asks for a revalidation: only for labelled segments the champion's
 * reference profile lacks, only once the record is complete, only with a champion and a reference.
 */
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { lakePaths } from '../../shared/domain/lake-paths';
import { computeMetricsByKeys } from '../../shared/domain/metrics';
import { modelInputSchema } from '../../shared/schemas/model';
import type { ActualsRecord } from '../../shared/schemas/monitoring';
import { referenceProfileOf } from '../../shared/usecases/profiling';
import { type RevalidationDeps, revalidationFor, revalidationReason } from '../../shared/usecases/revalidation';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { inMemoryRunStore } from '../support/in-memory-run-store';
import { MemoryLake } from '../support/memory-lake';
import { aRegionalModel } from '../support/model-kit';

const MODEL = 'demand';
const AT = '2026-12-01T00:00:00.000Z';
const profile = { schemaVersion: 1 as const, rowCount: 10, columns: {} };
const report = (rows: number) => ({ task: 'regression' as const, rows, metrics: {} });

function anActualsRecord(overrides: Partial<ActualsRecord> = {}): ActualsRecord {
  return {
    actualsId: 'sales-0123456789abcdef',
    modelName: MODEL,
    source: { path: `actuals/${MODEL}/sales.csv`, etag: '"1"', size: 100 },
    state: 'completed',
    instanceId: `actuals:${MODEL}:sales-0123456789abcdef`,
    rows: 30,
    matched: 30,
    unmatched: 0,
    duplicateIds: 0,
    rejectionReasons: {},
    metrics: {
      overall: report(30),
      segments: [
        { segment: 'region=east', rows: 10, report: report(10) },
        { segment: 'region=north', rows: 20, report: report(20) },
        { segment: 'season=winter', rows: 0, report: report(0) },
      ],
    },
    windows: ['20261130T0000Z'],
    createdAt: AT,
    completedAt: AT,
    ...overrides,
  };
}

async function aWorld(options: { champion?: number | null; reference?: boolean; record?: ActualsRecord; segmentMaxValues?: number } = {}) {
  const registry = new InMemoryModelRegistry();
  const lake = new MemoryLake();
  const runs = inMemoryRunStore();
  const champion = options.champion === undefined ? 1 : options.champion;
  if (champion !== null) await registry.swapChampion({ modelName: MODEL, version: champion, previous: [], epoch: 1, since: AT }, undefined);
  if (options.reference !== false && champion !== null) {
    const reference = { schemaVersion: 1, model: MODEL, version: champion, source: 'datasets/demand/validation.csv', overall: profile, segments: { 'region=north': profile, 'region=south': profile } };
    await lake.write(lakePaths.referenceProfile(MODEL, champion), Buffer.from(JSON.stringify(reference)));
  }
  const record = options.record ?? anActualsRecord();
  await runs.actuals.create(MODEL, record.actualsId, record);
  const deps: RevalidationDeps = { registry, lake, runs, files: new LakeTabularFiles(lake), ...(options.segmentMaxValues !== undefined ? { segmentMaxValues: options.segmentMaxValues } : {}) };
  return { deps, actualsId: record.actualsId };
}

describe('revalidationFor', () => {
  it('when a completed join labelled rows of a segment the reference lacks, then the champion is revalidated for those segments only', async () => {
    const { deps, actualsId } = await aWorld();
    const found = await revalidationFor(deps, { model: MODEL, actualsId });
    // north is known; winter has no labelled row.
    expect(found).toEqual({ model: MODEL, version: 1, actualsId, windows: ['20261130T0000Z'], newSegments: ['region=east'] });
    expect(revalidationReason(found!)).toBe(`new segment value(s) region=east labelled by actuals ${actualsId}`);
  });

  it('when a key past SEGMENT_MAX_VALUES folded rows into region=__other__, then that is no segment to revalidate: the named new ones are, once', async () => {
    const segments = [
      { segment: 'region=__other__', rows: 5000, report: report(5000) },
      { segment: 'region=east', rows: 10, report: report(10) },
      { segment: 'region=north', rows: 20, report: report(20) },
    ];
    const cappedSegments = { region: { limit: 2, distinctValues: 5002, foldedValues: 5000, foldedRows: 5000 } };
    const record = anActualsRecord({ metrics: { overall: report(5030), segments, cappedSegments } });
    const { deps, actualsId } = await aWorld({ record });
    expect((await revalidationFor(deps, { model: MODEL, actualsId }))?.newSegments).toEqual(['region=east']);
    const onlyFolded = anActualsRecord({ actualsId: 'folded-0123456789abcdef', metrics: { overall: report(5020), segments: [segments[0]!, segments[2]!], cappedSegments } });
    const folded = await aWorld({ record: onlyFolded });
    expect(await revalidationFor(folded.deps, { model: MODEL, actualsId: folded.actualsId })).toBeNull();
  });

  it('when the reference already folded values of a key past SEGMENT_MAX_VALUES, then a value it lacks of that key starts no revalidation: the rewritten reference would fold it again, and every file labelling it would revalidate anew', async () => {
    const definition = modelInputSchema.parse(aRegionalModel(MODEL));
    // The reference a revalidation writes for validation data of north, south and one east row under a cap of 2.
    const regions = ['north', 'north', 'north', 'south', 'south', 'south', 'east'];
    const rows = { rowCount: regions.length, numeric: { x: Float64Array.from(regions, (_, i) => i), prediction: Float64Array.from(regions, (_, i) => i) }, categorical: { region: regions } };
    const reference = { schemaVersion: 1, model: MODEL, version: 1, source: 'datasets/demand/revalidation/x/validation.csv', ...referenceProfileOf(definition, rows, 2) };
    expect(Object.keys(reference.segments).filter((s) => s.startsWith('region=')).sort()).toEqual(['region=__other__', 'region=north', 'region=south']);
    const { deps, actualsId } = await aWorld({ segmentMaxValues: 2 });
    await deps.lake.write(lakePaths.referenceProfile(MODEL, 1), Buffer.from(JSON.stringify(reference)));
    expect(await revalidationFor(deps, { model: MODEL, actualsId })).toBeNull();
  });

  it('when every labelled segment is known, then nothing is revalidated', async () => {
    const record = anActualsRecord({ metrics: { overall: report(20), segments: [{ segment: 'region=north', rows: 20, report: report(20) }] } });
    const { deps, actualsId } = await aWorld({ record });
    expect(await revalidationFor(deps, { model: MODEL, actualsId })).toBeNull();
  });

  it('when labelled rows have no segment value, and the validation data had such rows, then that is no new segment: metrics and profiles name it differently', async () => {
    const regions = ['north', null, 'south', null];
    const rows = { rowCount: 4, numeric: { x: Float64Array.from([1, 2, 3, 4]), prediction: Float64Array.from([1, 2, 3, 4]) }, categorical: { region: regions } };
    const definition = modelInputSchema.parse(aRegionalModel(MODEL));
    const reference = { schemaVersion: 1, model: MODEL, version: 1, source: 'datasets/demand/validation.csv', ...referenceProfileOf(definition, rows) };
    const labelled = { actual: Float64Array.from([1, 2, 3, 4]), predicted: Float64Array.from([1, 2, 3, 5]) };
    const metrics = computeMetricsByKeys('regression', labelled, ['region'], { region: regions }, { bootstrap: { resamples: 0 } });
    expect(metrics.segments.map((s) => s.segment)).toContain('region=(missing)');
    const { deps, actualsId } = await aWorld({ record: anActualsRecord({ metrics }) });
    await deps.lake.write(lakePaths.referenceProfile(MODEL, 1), Buffer.from(JSON.stringify(reference)));
    expect(await revalidationFor(deps, { model: MODEL, actualsId })).toBeNull();
  });

  it('when the join is not complete, has no metrics, or there is no champion or reference, then nothing is revalidated', async () => {
    for (const world of [
      await aWorld({ record: anActualsRecord({ state: 'running' }) }),
      await aWorld({ record: anActualsRecord({ state: 'failed' }) }),
      await aWorld({ record: anActualsRecord({ metrics: null }) }),
      await aWorld({ champion: null }),
      await aWorld({ reference: false }),
    ]) {
      expect(await revalidationFor(world.deps, { model: MODEL, actualsId: world.actualsId })).toBeNull();
    }
    const { deps } = await aWorld();
    expect(await revalidationFor(deps, { model: MODEL, actualsId: 'no-such-file' })).toBeNull();
  });
});
