import { lakePaths } from '../../../shared/domain/lake-paths';
import { CountedLabelledFiles } from '../../../shared/usecases/actuals/counted-labelled';
import { anActualsRecord } from '../../support/builders';
import { type InMemoryActualsCollection, inMemoryRunStore } from '../../support/in-memory-run-store';

const MODEL = 'demand';
const DAY1 = '20260301T0000Z';
const own = (actualsId: string) => ({ path: lakePaths.labelled(MODEL, DAY1, actualsId) });
const late = (actualsId: string, runId: string) => ({ path: lakePaths.lateLabelled(MODEL, DAY1, actualsId, runId) });

/** Records `a-good` (its late match with run-1 recorded in DAY1) and `a-bad` (stored damaged: `matched` is no count). */
async function records() {
  const { actuals } = inMemoryRunStore();
  const at = '2026-03-10T13:00:00.000Z';
  await actuals.create(MODEL, 'a-good', anActualsRecord(MODEL, 'a-good', undefined, { windows: [DAY1], lateMatches: [{ runId: 'run-1', matched: 2, at, windows: [DAY1] }] }));
  actuals.storeUnchecked(MODEL, 'a-bad', { ...anActualsRecord(MODEL, 'a-bad', undefined, { lateMatches: [{ runId: 'run-1', matched: 2, at, windows: [DAY1] }] }), matched: 'many' });
  return actuals;
}

/** The collection with every point read failing, as a Cosmos DB outage past the SDK's retries. */
function readsDown(actuals: InMemoryActualsCollection, failing: (id: string) => boolean) {
  return Object.assign(Object.create(actuals) as InMemoryActualsCollection, {
    get: (model: string, id: string) => (failing(id) ? Promise.reject(new Error('Cosmos DB is unavailable (503)')) : actuals.get(model, id)),
  });
}

describe('CountedLabelledFiles: which labelled files count', () => {
  it('when an actuals record does not read, then none of its late files count, its own file and the other records\' files count as before, and it is named with why and how many files it left out', async () => {
    const counted = new CountedLabelledFiles(await records(), MODEL);
    const files = [own('a-good'), late('a-good', 'run-1'), late('a-good', 'run-2'), own('a-bad'), late('a-bad', 'run-1'), late('a-bad', 'run-2')];

    expect(await counted.keep(files)).toEqual([own('a-good'), late('a-good', 'run-1'), own('a-bad')]);
    expect(counted.uncounted()).toEqual([{ actualsId: 'a-bad', reason: expect.stringMatching(/^its stored actuals document is invalid: [\s\S]*matched/), files: 2 }]);
  });

  it('when a record does not read, then it is read once and listed once (from its id, one document), however many of its late files are checked', async () => {
    const actuals = await records();
    const reads: string[] = [];
    const listings: unknown[] = [];
    const watched = Object.assign(Object.create(actuals) as InMemoryActualsCollection, {
      get: (model: string, id: string) => (reads.push(id), actuals.get(model, id)),
      listReadableInRange: (model: string, range: Parameters<InMemoryActualsCollection['listReadableInRange']>[1]) => (listings.push(range), actuals.listReadableInRange(model, range)),
    });
    const counted = new CountedLabelledFiles(watched, MODEL);

    await counted.keep([late('a-bad', 'run-1'), late('a-bad', 'run-2')]);
    await counted.keep([late('a-bad', 'run-3'), own('a-good')]);
    expect(reads).toEqual(['a-bad']);
    expect(listings).toEqual([{ from: 'a-bad', limit: 1 }]);
    expect(counted.uncounted()).toEqual([expect.objectContaining({ actualsId: 'a-bad', files: 3 })]);
  });

  it('when a record cannot be read for an outage, then the check fails with the outage, so the reader is retried rather than count too little', async () => {
    const counted = new CountedLabelledFiles(readsDown(await records(), (id) => id === 'a-good'), MODEL);

    await expect(counted.keep([own('a-bad'), late('a-good', 'run-1')])).rejects.toThrow('Cosmos DB is unavailable (503)');
  });

  it('when the read of a missing record fails for an outage and the next record by id is damaged, then that one is not taken for it: the outage is thrown', async () => {
    // `a-b` sorts just before `a-bad`: a listing from `a-b` finds `a-bad` first.
    const counted = new CountedLabelledFiles(readsDown(await records(), (id) => id === 'a-b'), MODEL);

    await expect(counted.keep([late('a-b', 'run-1')])).rejects.toThrow('Cosmos DB is unavailable (503)');
  });

  it('when every record reads, then nothing is named uncounted', async () => {
    const counted = new CountedLabelledFiles(await records(), MODEL);

    expect(await counted.keep([own('a-good'), late('a-good', 'run-1'), own('a-bad')])).toHaveLength(3);
    expect(counted.uncounted()).toEqual([]);
  });
});
