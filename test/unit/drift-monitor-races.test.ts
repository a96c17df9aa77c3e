/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * The drift monitor under production timing: other writers (the lifecycle closing a request,
 * another monitor invocation) acting while a run is under way. Interleavings are made
 * deterministic with hooks in the fakes behind the ports.
 */
import { lakePaths } from '../../shared/domain/lake-paths';
import type { RetrainingRecord } from '../../shared/schemas/monitoring';
import { MODEL, monitorWorld, shifted } from '../support/monitoring-kit';

/** Daily windows of June 2026: day(10) is 20260610T0000Z. */
const day = (d: number) => `202606${String(d).padStart(2, '0')}T0000Z`;
const TWO_IN_A_ROW = { drift: { consecutiveWindows: 2, cooldown: 'PT0S' } };

type World = Awaited<ReturnType<typeof monitorWorld>>;

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
});
