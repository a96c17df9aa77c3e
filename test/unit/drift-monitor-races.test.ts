/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * The drift monitor under production timing: other writers (the lifecycle closing a request,
 * another monitor invocation) acting while a run is under way. Interleavings are made
 * deterministic with hooks in the fakes behind the ports.
 */
import { lakePaths } from '../../shared/domain/lake-paths';
import type { RetrainingRecord } from '../../shared/schemas/monitoring';
import { MONITOR_STATE_ID, runDriftMonitor } from '../../shared/usecases/drift-monitor';
import { championBaselineRmse, MODEL, monitorWorld, shifted, TestClock, usual } from '../support/monitoring-kit';

/** Daily windows of June 2026: day(10) is 20260610T0000Z. */
const day = (d: number) => `202606${String(d).padStart(2, '0')}T0000Z`;
const TWO_IN_A_ROW = { drift: { consecutiveWindows: 2, cooldown: 'PT0S' } };

type World = Awaited<ReturnType<typeof monitorWorld>>;

/** A promise with its resolve function: a gate a fake waits on. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Runs `action` once, the first time the monitor reads a run profile of window `windowId`. */
function onProfileRead(world: World, windowId: string, action: () => Promise<void>): void {
  const read = world.lake.readBuffer.bind(world.lake);
  let done = false;
  world.lake.readBuffer = async (path, range) => {
    if (!done && path.startsWith(`${lakePaths.windowsProfilesFolder(MODEL)}${windowId}/`)) {
      done = true;
      await action();
    }
    return read(path, range);
  };
}

describe('drift monitor: other writers during a run', () => {
  it('when the open request closes while the monitor judges a breaching window, then the breach asks for retraining (the gate reads the records it decides on)', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    const open: RetrainingRecord = {
      requestId: `retrain:${MODEL}:${day(1)}`,
      modelName: MODEL,
      version: 1,
      reason: 'drift',
      windowId: day(1),
      state: 'registered',
      resultVersion: 2,
      requestedAt: '2026-06-01T00:00:00.000Z',
    };
    await world.runs.retraining.create(MODEL, open.requestId, open);
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));
    // The lifecycle of the version it produced ends (lifecycleCloseRetraining) while day 11 is judged.
    onProfileRead(world, day(11), async () => {
      const stored = (await world.runs.retraining.get(MODEL, open.requestId))!;
      await world.runs.retraining.replace(MODEL, open.requestId, { ...stored.value, state: 'closed', outcome: 'rejected', closedAt: '2026-06-20T12:00:01.000Z' }, stored.etag);
    });

    const report = await world.run();

    expect(report.models[0]!.windows.map((w) => [w.windowId, w.drift])).toEqual([
      [day(10), 'warning'],
      [day(11), 'breach'],
    ]);
    const requestId = `retrain:${MODEL}:${day(11)}`;
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([requestId]);
    expect((await world.runs.windows.get(MODEL, day(11)))!.value.retraining).toEqual({ reason: 'drift', requestId });
  });

  it('when two invocations run at once (the timer and an admin call) with slightly different views, then only one of them judges the model and one request is open', async () => {
    const world = await monitorWorld({ drift: { consecutiveWindows: 1, cooldown: 'PT0S' }, retraining: { cooldown: 'PT0S' } });
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), usual(10));
    await world.scored(day(11), usual(11));
    world.clock.at = new Date('2026-06-12T06:00:00Z');
    await world.run(); // days 10 and 11 judged
    // Late actuals for day 11 (a performance breach) and a drifting day 12.
    await world.labelled(day(11), baseline * 2, { updatedAt: '2026-06-12T20:00:00.000Z' });
    await world.scored(day(12), shifted(12));

    // Invocation A (its clock just before day 12 ends) pauses at its retraining gate, the records read.
    const a = { ...world.deps, clock: new TestClock(new Date('2026-06-12T23:59:59Z')) };
    const atGate = gate();
    const goOn = gate();
    const list = world.runs.retraining.listReadableOpenOrRequestedSince.bind(world.runs.retraining);
    let paused = false;
    world.runs.retraining.listReadableOpenOrRequestedSince = async (model, since) => {
      const records = await list(model, since);
      if (!paused) {
        paused = true;
        atGate.open();
        await goOn.opened;
      }
      return records;
    };
    const first = runDriftMonitor(a);
    await atGate.opened;
    // Invocation B (a moment later: day 12 is over) runs meanwhile.
    const b = { ...world.deps, clock: new TestClock(new Date('2026-06-13T00:00:01Z')) };
    const second = await runDriftMonitor(b);
    goOn.open();
    const firstReport = await first;

    const open = (await world.runs.retraining.list(MODEL)).filter((r) => r.state !== 'closed' && r.state !== 'failed');
    expect(open.map((r) => r.requestId)).toHaveLength(1);
    expect(world.queue.messages.map((m) => m.messageId)).toEqual(open.map((r) => r.requestId));
    expect(firstReport.failures).toEqual([]);
    expect(second.failures).toEqual([]);
    // B left the model to A: it judged nothing and wrote nothing.
    expect(second.models).toEqual([{ model: MODEL, version: 1, windows: [], requests: [], skipped: expect.stringMatching(/^another drift monitor run holds the model until /) }]);
    expect(world.events.ofType('drift.evaluated').map((e) => e.data.windowId)).toEqual([day(10), day(11)]);
    expect(firstReport.models[0]!.requests).toEqual([`retrain:${MODEL}:${day(11)}`]);
    // A released the model: the next run judges day 12 (blocked by A's open request).
    const next = await runDriftMonitor(b);
    expect(next.models[0]!.windows.map((w) => [w.windowId, w.drift, w.retraining?.blockedBy])).toEqual([[day(12), 'breach', `request retrain:${MODEL}:${day(11)} is still open (queued; last progress 2026-06-12T23:59:59.000Z, presumed lost without progress after 2026-06-13T23:59:59.000Z)`]]);
  });

  it('when a run died holding the model, then the model waits until its lease runs out and the next run judges it from where it stopped', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    await world.scored(day(10), usual(10));
    await world.runs.monitors.create(MODEL, MONITOR_STATE_ID, {
      modelName: MODEL,
      evaluatedUntil: null,
      recent: [],
      lastAlertAt: null,
      updatedAt: '2026-06-20T11:55:00.000Z',
      lease: { holder: 'a-run-that-died', until: '2026-06-20T12:10:00.000Z' },
    });

    const held = await world.run();
    expect(held.models[0]).toMatchObject({ windows: [], skipped: 'another drift monitor run holds the model until 2026-06-20T12:10:00.000Z' });
    expect(await world.runs.windows.get(MODEL, day(10))).toBeUndefined();

    world.clock.at = new Date('2026-06-20T12:10:00Z');
    const after = await world.run();
    expect(after.models[0]!.skipped).toBeUndefined();
    expect(after.models[0]!.windows.map((w) => w.windowId)).toEqual([day(10)]);
    expect((await world.runs.monitors.get(MODEL, MONITOR_STATE_ID))!.value).toMatchObject({ evaluatedUntil: '2026-06-11T00:00:00.000Z', lease: null });
  });

  it("when an actuals join's write lands while the monitor judges the window, stamped a moment before the monitor's clock, then the new performance is judged (now, or on the next run)", async () => {
    // The join stamps performance.updatedAt on its machine before its write goes through (a
    // throttled write is retried for seconds; clocks of two machines differ): a stamp earlier than
    // the monitor's clock can land after the monitor listed the windows.
    const world = await monitorWorld();
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), usual(10));
    onProfileRead(world, day(10), () => world.labelled(day(10), baseline * 2, { updatedAt: '2026-06-20T11:59:59.000Z' }));

    const first = await world.run();
    world.clock.at = new Date('2026-06-20T14:00:00Z');
    const second = await world.run();

    const judged = [...first.models[0]!.windows, ...second.models[0]!.windows].map((w) => [w.windowId, w.performance]);
    expect(judged.at(-1)).toEqual([day(10), 'breach']);
    expect(world.queue.messages.map((m) => [m.messageId, m.body.reason])).toEqual([[`retrain:${MODEL}:${day(10)}`, 'performance']]);
    const stored = (await world.runs.windows.get(MODEL, day(10)))!.value;
    expect([stored.performanceVerdict, stored.performanceEvaluation!.value]).toEqual(['breach', baseline * 2]);
  });

  it("when an actuals join's write lands between the monitor's read of the window and its write, then the next run judges the new performance", async () => {
    const world = await monitorWorld();
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), usual(10));
    await world.labelled(day(10), baseline, { updatedAt: '2026-06-20T11:00:00.000Z' });
    const replace = world.runs.windows.replace.bind(world.runs.windows);
    let raced = false;
    world.runs.windows.replace = async (model, id, doc, etag) => {
      if (!raced && id === day(10) && doc.performanceEvaluation) {
        raced = true;
        await world.labelled(day(10), baseline * 2, { updatedAt: '2026-06-20T11:59:59.000Z' });
      }
      return replace(model, id, doc, etag);
    };

    const first = await world.run();
    expect(first.models[0]!.windows.map((w) => w.performance)).toEqual(['ok']);
    world.clock.at = new Date('2026-06-20T14:00:00Z');
    const second = await world.run();

    expect(second.models[0]!.windows).toEqual([{ windowId: day(10), drift: null, performance: 'breach', retraining: { reason: 'performance', requestId: `retrain:${MODEL}:${day(10)}` } }]);
    const stored = (await world.runs.windows.get(MODEL, day(10)))!.value;
    expect([stored.performanceVerdict, stored.performanceEvaluation!.value, stored.performance!.metrics.overall.metrics.rmse!.value]).toEqual(['breach', baseline * 2, baseline * 2]);
  });

  it("when a run stops before judging anything (the champion's evidence cannot be read), then it gives the model back: a run right after is not held off", async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10));
    const readBuffer = world.lake.readBuffer.bind(world.lake);
    world.lake.readBuffer = (path, range) => (path.startsWith(`evidence/${MODEL}/`) ? Promise.reject(new Error('the storage account is unreachable')) : readBuffer(path, range));

    const failed = await world.run();
    expect(failed.failures.map((f) => String(f.error))).toEqual(['Error: the storage account is unreachable']);

    world.lake.readBuffer = readBuffer;
    const again = await world.run();
    expect(again.models[0]!.skipped).toBeUndefined();
    expect(again.models[0]!.windows.map((w) => w.windowId)).toEqual([day(10)]);
  });

  it('when late actuals make a window that raised a request breach again while a later request is open, then the window still names its own request', async () => {
    const world = await monitorWorld({ drift: { consecutiveWindows: 1, cooldown: 'PT0S' }, retraining: { cooldown: 'PT0S' } });
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), shifted(10));
    world.clock.at = new Date('2026-06-11T06:00:00Z');
    await world.run();
    const own = `retrain:${MODEL}:${day(10)}`;
    const stored = (await world.runs.retraining.get(MODEL, own))!;
    await world.runs.retraining.replace(MODEL, own, { ...stored.value, state: 'closed', outcome: 'production', closedAt: '2026-06-11T07:00:00.000Z' }, stored.etag);
    await world.scored(day(11), shifted(11));
    world.clock.at = new Date('2026-06-12T06:00:00Z');
    await world.run();
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([own, `retrain:${MODEL}:${day(11)}`]);

    // Actuals for day 10 come late, and breach; the day 11 request is still open.
    await world.labelled(day(10), baseline * 2, { updatedAt: '2026-06-12T08:00:00.000Z' });
    world.clock.at = new Date('2026-06-12T09:00:00Z');
    const late = await world.run();

    expect(late.models[0]!.windows.map((w) => [w.windowId, w.performance])).toEqual([[day(10), 'breach']]);
    expect((await world.runs.windows.get(MODEL, day(10)))!.value.retraining).toEqual({ reason: 'drift', requestId: own });
    expect(world.queue.messages).toHaveLength(2);
  });
});

