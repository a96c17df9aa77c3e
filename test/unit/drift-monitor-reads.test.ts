/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { lakePaths } from '../../shared/domain/lake-paths';
import { windowFromId, windowIdOf } from '../../shared/domain/windows';
import type { DocumentListing } from '../../shared/ports/run-store';
import { retrainingRequestId } from '../../shared/schemas/messages';
import type { MonitoringWindow, RetrainingRecord } from '../../shared/schemas/monitoring';
import { MONITOR_STATE_ID } from '../../shared/usecases/drift-monitor';
import { MODEL, monitorWorld, shifted, usual } from '../support/monitoring-kit';

/** Daily windows: day(10) is 20260610T0000Z; days before 1 and after 30 run on (day(-1) is 30 May). */
const DAY = 86_400_000;
const day = (d: number) => windowIdOf(Date.parse('2026-06-01T00:00:00Z') + (d - 1) * DAY);
const ROLLING_2 = { drift: { reference: { kind: 'rolling', windows: 2 }, consecutiveWindows: 1, cooldown: 'PT0S' } };

type World = Awaited<ReturnType<typeof monitorWorld>>;

/** What a run reads of the model's history: window documents listed, and profile listings with the objects they gave. */
function countReads(world: World) {
  const reads = { windowDocuments: 0, profileListings: 0, profilesListed: 0 };
  const windows = world.runs.windows;
  const counted =
    <A extends unknown[]>(list: (...args: A) => Promise<DocumentListing<MonitoringWindow>>) =>
    async (...args: A) => {
      const listing = await list(...args);
      reads.windowDocuments += listing.documents.length + listing.unreadable.length;
      return listing;
    };
  windows.listReadable = counted(windows.listReadable.bind(windows));
  windows.listReadableInRange = counted(windows.listReadableInRange.bind(windows));
  windows.listReadablePerformanceUnjudged = counted(windows.listReadablePerformanceUnjudged.bind(windows));
  const list = windows.list.bind(windows);
  windows.list = async (model) => {
    const all = await list(model);
    reads.windowDocuments += all.length;
    return all;
  };
  const folder = lakePaths.windowsProfilesFolder(MODEL);
  const listLake = world.lake.list.bind(world.lake);
  world.lake.list = (prefix) => {
    if (!prefix.startsWith(folder)) return listLake(prefix);
    reads.profileListings++;
    return (async function* () {
      for await (const object of listLake(prefix)) {
        reads.profilesListed++;
        yield object;
      }
    })();
  };
  return reads;
}

/** A window judged in an earlier run, with its document and one run profile (a copy of `profile`). */
async function judgedBefore(world: World, id: string, profile: Buffer): Promise<void> {
  await world.lake.write(lakePaths.windowRunProfile(MODEL, id, `run-${id}`), profile);
  await world.runs.windows.create(MODEL, id, { modelName: MODEL, window: windowFromId(id, DAY), version: 1, predictions: 200, labelled: 0, labelCoverage: 0, performance: null, drift: null });
}

async function monitorStateAt(world: World, evaluatedUntil: string): Promise<void> {
  await world.runs.monitors.create(MODEL, MONITOR_STATE_ID, { modelName: MODEL, evaluatedUntil, recent: ['no_drift'], lastAlertAt: null, updatedAt: evaluatedUntil });
}

const profileBody = (world: World, id: string) => world.lake.body(lakePaths.windowRunProfile(MODEL, id, `run-${id}`));

describe('drift monitor reads', () => {
  it('when a model has 2,000 windows of history and 3 due, then a run reads the due windows, their reference and the late actuals, not the history', async () => {
    const world = await monitorWorld(ROLLING_2);
    await world.scored(day(16), usual(16));
    const profile = profileBody(world, day(16));
    for (let d = 16 - 1999; d <= 16; d++) await judgedBefore(world, day(d), profile);
    await monitorStateAt(world, windowFromId(day(17), DAY).start);
    for (const d of [17, 18, 19]) await world.scored(day(d), usual(d));
    // Late actuals on a window judged long ago.
    await world.labelled(day(-900), 1.0);
    const reads = countReads(world);

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]!.windows.map((w) => [w.windowId, w.drift])).toEqual([
      [day(17), 'ok'],
      [day(18), 'ok'],
      [day(19), 'ok'],
      [day(-900), null],
    ]);
    expect((await world.runs.windows.get(MODEL, day(17)))!.value.drift!.reference).toBe(`rolling windows ${day(15)} ${day(16)}`);
    // The late window's document; the due ones have none yet. The profiles of the 3 due windows and their 2 reference windows.
    expect(reads.windowDocuments).toBe(1);
    expect(reads.profilesListed).toBe(5);
    expect(reads.profileListings).toBeLessThanOrEqual(20);
  });

  it('when the windows before a due one have gaps, then the rolling reference still is the last stored windows before it, however far back', async () => {
    const world = await monitorWorld(ROLLING_2);
    await world.scored(day(-40), usual(1));
    await world.scored(day(-39), usual(2));
    await world.scored(day(-30), shifted(3));
    await monitorStateAt(world, windowFromId(day(-29), DAY).start);
    await world.scored(day(10), usual(10));
    const reads = countReads(world);

    await world.run();

    expect((await world.runs.windows.get(MODEL, day(10)))!.value.drift!.reference).toBe(`rolling windows ${day(-39)} ${day(-30)}`);
    expect(reads.profilesListed).toBeLessThan(10);
  });

  it('when the reference is the same period a season earlier, then each due window is compared with the windows of that span only', async () => {
    const world = await monitorWorld({ drift: { reference: { kind: 'same_period', lag: 'season', windows: 2 }, consecutiveWindows: 1, cooldown: 'PT0S' } });
    const march = (d: number) => windowIdOf(Date.parse('2026-03-01T00:00:00Z') + (d - 1) * DAY);
    for (const d of [9, 10, 11, 12]) await world.scored(march(d), usual(d));
    await monitorStateAt(world, windowFromId(day(10), DAY).start);
    await world.scored(day(10), usual(10));
    await world.scored(day(11), usual(11));

    await world.run();

    expect((await world.runs.windows.get(MODEL, day(10)))!.value.drift!.reference).toBe(`same_period windows ${march(10)} ${march(11)}`);
    expect((await world.runs.windows.get(MODEL, day(11)))!.value.drift!.reference).toBe(`same_period windows ${march(11)} ${march(12)}`);
  });

  it('when window documents that do not read come first in the range, then they do not crowd out the due windows after them', async () => {
    const world = await monitorWorld({}, { maxWindowsPerModel: 2 });
    for (const d of [1, 2, 3]) world.runs.windows.storeUnchecked(MODEL, day(d), { modelName: MODEL, window: 'not a window' });
    await world.labelled(day(4), 1.0);
    await world.labelled(day(5), 1.0);

    const report = await world.run();

    expect(report.models[0]!.windows.map((w) => w.windowId)).toEqual([day(4), day(5)]);
    expect(report.models[0]!.unreadableWindows!.map((u) => u.id)).toEqual([day(1), day(2), day(3)]);
  });

  it('when the monitor is catching up on a backlog of windows with actuals, then a run reads the due ones, not the backlog after them', async () => {
    const world = await monitorWorld({}, { maxWindowsPerModel: 2 });
    await monitorStateAt(world, windowFromId(day(-20), DAY).start);
    for (let d = -20; d <= 18; d++) await world.labelled(day(d), 1.0);
    const reads = countReads(world);

    const report = await world.run();

    expect(report.models[0]!.windows.map((w) => w.windowId)).toEqual([day(-20), day(-19)]);
    expect(reads.windowDocuments).toBe(2);
  });
});

describe('drift monitor reads of retraining requests', () => {
  const TWO_IN_A_ROW = { drift: { consecutiveWindows: 2, cooldown: 'PT0S' }, retraining: { cooldown: 'P7D' } };
  /** A request of the model's past (a day of 2025), closed long before the retraining cooldown. */
  const pastRequest = (d: number): RetrainingRecord => {
    const windowId = windowIdOf(Date.parse('2025-01-01T00:00:00Z') + d * DAY);
    return { requestId: retrainingRequestId(MODEL, windowId), modelName: MODEL, version: 1, reason: 'drift', windowId, state: 'closed', requestedAt: windowFromId(windowId, DAY).end, outcome: 'rejected', resultVersion: 2 };
  };

  it('when a model has 300 closed requests of its past and its drift breaches, then the presumed-lost check and the gate read the open and recent requests only, which block as before', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    for (let d = 0; d < 300; d++) await world.runs.retraining.create(MODEL, pastRequest(d).requestId, pastRequest(d));
    world.runs.retraining.storeUnchecked(MODEL, 'retrain:damaged', { ...pastRequest(300), requestId: 'retrain:damaged', version: 0 });
    // Open but within its bound: read on every run, and it blocks the breach.
    const open: RetrainingRecord = { ...pastRequest(301), state: 'training', trainer: 'builtin', requestedAt: '2026-06-20T11:00:00.000Z', updatedAt: '2026-06-20T11:00:00.000Z' };
    await world.runs.retraining.create(MODEL, open.requestId, open);
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));
    const before = world.runs.retraining.listed;

    const blocked = await world.run();

    expect(blocked.failures).toEqual([]);
    expect(blocked.models[0]!.windows.find((w) => w.windowId === day(11))!.retraining).toMatchObject({ requestId: null, blockedBy: expect.stringMatching(`^request ${open.requestId} is still open`) });
    // The open request, once for the presumed-lost check and once for the gate.
    expect(world.runs.retraining.listed - before).toBe(2);

    await world.runs.retraining.replace(MODEL, open.requestId, { ...open, state: 'closed', outcome: 'rejected', updatedAt: '2026-06-20T11:30:00.000Z' }, (await world.runs.retraining.get(MODEL, open.requestId))!.etag);
    await world.scored(day(12), shifted(12));
    const next = await world.run();

    expect(next.failures).toEqual([]);
    // Closed, but requested within the cooldown: the gate reads it, and it still blocks.
    expect(next.models[0]!.windows.find((w) => w.windowId === day(12))!.retraining).toMatchObject({ requestId: null, blockedBy: expect.stringMatching(/^in the retraining cooldown/) });
    expect(world.runs.retraining.listed - before).toBe(3);
    expect(world.queue.messages).toEqual([]);
  });

  it('when the cooldown has passed, then a breach with 300 closed requests of the past and a damaged one among them sends its request, having read none of them', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    for (let d = 0; d < 300; d++) await world.runs.retraining.create(MODEL, pastRequest(d).requestId, pastRequest(d));
    world.runs.retraining.storeUnchecked(MODEL, 'retrain:damaged', { ...pastRequest(300), requestId: 'retrain:damaged', version: 0 });
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));
    const before = world.runs.retraining.listed;

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]!.requests).toEqual([retrainingRequestId(MODEL, day(11))]);
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([retrainingRequestId(MODEL, day(11))]);
    expect(world.runs.retraining.listed - before).toBe(0);
  });

  it('when a request made within the cooldown does not read (closed or not), then a breach sends nothing: the gate fails closed naming it', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    const damaged = { ...pastRequest(0), requestId: 'retrain:damaged', requestedAt: '2026-06-18T00:00:00.000Z', version: 0 };
    world.runs.retraining.storeUnchecked(MODEL, damaged.requestId, damaged);
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));

    const report = await world.run();

    expect(world.queue.messages).toEqual([]);
    expect(report.models[0]!.error).toContain(`the stored retraining document 'retrain:damaged' of '${MODEL}' cannot be read`);
  });
});
