import fs from 'node:fs';
import path from 'node:path';

import type { DurableEngine, HistoryEvent } from '../../devhost/durable';
import { EventType, history } from '../../devhost/durable';
import { retryDelayMs, retryTimedOut } from '../../devhost/durable/retry';
import { DurableStore } from '../../devhost/durable/store';
import { removeTempDirs, startEngine, tempDir } from './durable-app/fixture';
import { flakyAttempts, shifty, shiftyThrows } from './durable-app/samples';

let engine: DurableEngine;

beforeAll(() => {
  engine = startEngine(path.join(tempDir(), 'hub.sqlite'));
});
afterAll(async () => {
  await engine.stop();
  removeTempDirs();
});

const json = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));
const ofType = (events: readonly HistoryEvent[], type: number) => events.filter((e) => e.EventType === type);

describe('durable engine', () => {
  it('when a chain of activities runs, then each result feeds the output in order', async () => {
    const id = engine.startNew('sampleChain');
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
    const history = engine.getHistory(id);
    expect(ofType(history, EventType.TaskScheduled).map((e) => e.EventId)).toEqual([0, 1, 2]);
    expect(ofType(history, EventType.TaskCompleted).map((e) => e.TaskScheduledId)).toEqual([0, 1, 2]);
  });

  it('when 100 activities fan out, then the fan-in sums every result and each completes once', async () => {
    const id = engine.startNew('sampleFanOut', { input: JSON.stringify({ count: 100 }) });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toBe(2 * ((99 * 100) / 2));
    const completed = ofType(engine.getHistory(id), EventType.TaskCompleted).map((e) => e.TaskScheduledId);
    expect(completed).toHaveLength(100);
    expect(new Set(completed).size).toBe(100);
  });

  it('when a monitor loops on a timer with continue-as-new, then it ends after the last iteration with its custom status', async () => {
    const id = engine.startNew('sampleMonitor', { input: JSON.stringify({ iteration: 0, max: 3, intervalMs: 50 }) });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toBe('monitored 3 times');
    expect(json(done.customStatus)).toEqual({ lastChecked: 2 });
    expect(json(done.input)).toEqual({ iteration: 2, max: 3, intervalMs: 50 });
    // The history is the last execution's only.
    expect(ofType(engine.getHistory(id), EventType.ExecutionStarted)).toHaveLength(1);
  });

  it('when the approval event arrives before the timeout, then the event wins and the timer is cancelled', async () => {
    const id = engine.startNew('sampleApproval', { input: JSON.stringify({ timeoutMs: 60_000 }) });
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    expect(engine.raiseEvent(id, 'approval', JSON.stringify({ by: 'ada' }))).toBe('accepted');
    const done = await engine.waitFor(id);
    expect(json(done.output)).toEqual({ outcome: 'approved', by: 'ada' });
    expect(engine.store.nextVisibleAt(0)).toBeUndefined();
  });

  it('when no approval arrives, then the durable timer fires and the timeout wins', async () => {
    const id = engine.startNew('sampleApproval', { input: JSON.stringify({ timeoutMs: 100 }) });
    const done = await engine.waitFor(id);
    expect(json(done.output)).toEqual({ outcome: 'timed out' });
    expect(ofType(engine.getHistory(id), EventType.TimerFired)).toHaveLength(1);
  });

  it('when an event is raised before the orchestrator waits for it, then it is buffered and delivered', async () => {
    const id = engine.startNew('sampleEcho', { input: JSON.stringify('in') });
    engine.raiseEvent(id, 'ping', JSON.stringify({ early: true }));
    const done = await engine.waitFor(id);
    expect(json(done.output)).toEqual({ input: 'in', received: { early: true } });
  });

  it('when an activity fails twice then succeeds, then the retry policy runs it a third time', async () => {
    const id = engine.startNew('sampleRetry', { input: JSON.stringify({ key: 'transient', failures: 2, attempts: 5 }) });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toEqual({ attempt: 3 });
    expect(flakyAttempts.get('transient')).toBe(3);
    const history = engine.getHistory(id);
    // attempt 0, timer 1, attempt 2, timer 3, attempt 4: the ids the SDK's RetryableTask expects.
    expect(ofType(history, EventType.TaskScheduled).map((e) => e.EventId)).toEqual([0, 2, 4]);
    expect(ofType(history, EventType.TimerFired).map((e) => e.TimerId)).toEqual([1, 3]);
    const [firstTimer, secondTimer] = ofType(history, EventType.TimerCreated);
    const backoff = (e: HistoryEvent | undefined) => Date.parse(e!.FireAt!) - Date.parse(e!.Timestamp);
    expect(backoff(firstTimer)).toBe(20);
    expect(backoff(secondTimer)).toBe(40);
  });

  it('when many retried calls fail and retry concurrently, then each succeeds on its own attempt', async () => {
    const id = engine.startNew('sampleFanOutRetry', { input: JSON.stringify({ prefix: 'fan-', count: 12 }) });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toEqual({ plain: 42, attempts: Array.from({ length: 12 }, (_, i) => (i % 3) + 1) });
  });

  it('when an activity fails on every attempt, then the orchestration fails with the activity message', async () => {
    const id = engine.startNew('sampleRetry', {
      input: JSON.stringify({ key: 'permanent', failures: 0, attempts: 3, activity: 'samplePermanent' }),
    });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(json(done.output)).toContain("Activity function 'samplePermanent' failed: disk on fire");
    expect(ofType(engine.getHistory(id), EventType.TaskFailed)).toHaveLength(3);
  });

  it('when a parent calls sub-orchestrations, then their outputs return to it', async () => {
    const id = engine.startNew('sampleParent', { input: '21', instanceId: 'parent-1' });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toEqual({ viaChild: 42, chained: ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'] });
    // A child without an id gets `{parent executionId}:{task id}`, as in DurableTask.Core.
    const executionId = engine.getInstance('parent-1')?.executionId ?? '';
    expect(engine.getInstance(`${executionId}:0`)?.runtimeStatus).toBe('Completed');
    expect(engine.getInstance('parent-1-chain')?.parent?.instanceId).toBe('parent-1');
  });

  it('when a sub-orchestration fails, then the parent can catch its failure', async () => {
    const id = engine.startNew('sampleParentOfFailure');
    const done = await engine.waitFor(id);
    expect(json(done.output)).toMatch(/^caught: Orchestrator function 'sampleChildDouble' failed: negative input -1/);
  });

  it('when two parents start a sub-orchestration under one instance id, then the second fails while the first runs, with a warning that Azure does not refuse it; once it has ended, the id starts it again', async () => {
    const lines: string[] = [];
    const own = startEngine(path.join(tempDir(), 'hub.sqlite'), { log: (line) => lines.push(line) });
    try {
      const first = own.startNew('sampleParentOfNamedChild', { input: JSON.stringify({ childId: 'shared-child' }), instanceId: 'parent-a' });
      await own.waitFor('shared-child', (i) => i.runtimeStatus === 'Running');
      const second = own.startNew('sampleParentOfNamedChild', { input: JSON.stringify({ childId: 'shared-child' }), instanceId: 'parent-b' });
      expect(json((await own.waitFor(second)).output)).toEqual({
        caught: 'An Orchestration instance with the status Running already exists.',
      });
      expect(lines.filter((l) => l.includes("starts a sub-orchestration on instance id 'shared-child', which is Running"))).toEqual([
        expect.stringMatching(/^\[durable\] sampleParentOfNamedChild parent-b: .*the Azure Storage backend runs it as a new execution over the running one/),
      ]);
      // The first child and its parent are untouched.
      own.raiseEvent('shared-child', 'ping', '"one"');
      expect(json((await own.waitFor(first)).output)).toEqual({ child: { input: 'parent-a', received: 'one' } });

      // Ended: the same id runs again for a new parent, as a finished instance id does on Azure.
      const third = own.startNew('sampleParentOfNamedChild', { input: JSON.stringify({ childId: 'shared-child' }), instanceId: 'parent-c' });
      await own.waitFor('shared-child', (i) => i.runtimeStatus === 'Running' && i.parent?.instanceId === 'parent-c');
      own.raiseEvent('shared-child', 'ping', '"two"');
      expect(json((await own.waitFor(third)).output)).toEqual({ child: { input: 'parent-c', received: 'two' } });
      expect(lines.filter((l) => l.includes('starts a sub-orchestration on instance id'))).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it('when a waiting instance is terminated, then it ends Terminated with the reason', async () => {
    const id = engine.startNew('sampleForever');
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    expect(engine.terminate(id, 'no longer needed')).toBe('accepted');
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Terminated');
    expect(json(done.output)).toBe('no longer needed');
    expect(engine.raiseEvent(id, 'never', undefined)).toBe('gone');
  });

  it('when an instance is suspended, then events wait until it is resumed', async () => {
    const id = engine.startNew('sampleEcho', { input: '1' });
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    engine.suspend(id, 'hold');
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Suspended');
    engine.raiseEvent(id, 'ping', '"pong"');
    await new Promise((r) => setTimeout(r, 100));
    expect(engine.getInstance(id)?.runtimeStatus).toBe('Suspended');
    engine.resume(id, 'go on');
    const done = await engine.waitFor(id);
    expect(json(done.output)).toEqual({ input: 1, received: 'pong' });
  });

  it('when the orchestrator code changes under an in-flight instance, then it fails with a non-determinism error', async () => {
    shifty.useSecondActivity = false;
    const id = engine.startNew('sampleShifty');
    await engine.waitFor(id, () => ofType(engine.getHistory(id), EventType.TaskCompleted).length === 1);
    shifty.useSecondActivity = true;
    try {
      engine.raiseEvent(id, 'go', 'true');
      const done = await engine.waitFor(id);
      expect(done.runtimeStatus).toBe('Failed');
      expect(json(done.output)).toMatch(/Non-deterministic workflow detected/);
      expect(json(done.output)).toContain("CallActivity 'sampleHello'");
      expect(json(done.output)).toContain("CallActivity 'sampleDouble'");
    } finally {
      shifty.useSecondActivity = false;
    }
  });

  it('when changed orchestrator code throws on a recorded result, then the failure still names the non-determinism', async () => {
    shiftyThrows.greet = false;
    const id = engine.startNew('sampleShiftyThrows');
    await engine.waitFor(id, () => ofType(engine.getHistory(id), EventType.TaskCompleted).length === 1);
    shiftyThrows.greet = true;
    try {
      engine.raiseEvent(id, 'go', 'true');
      const done = await engine.waitFor(id);
      expect(done.runtimeStatus).toBe('Failed');
      expect(json(done.output)).toMatch(/Non-deterministic workflow detected/);
      expect(json(done.output)).not.toContain('expected a greeting');
    } finally {
      shiftyThrows.greet = false;
    }
  });

  it('when a sub-orchestration with retry fails once, then a second child instance runs and its output returns', async () => {
    const id = engine.startNew('sampleParentWithRetry', {
      instanceId: 'retry-parent',
      input: JSON.stringify({ key: 'child-retry', failures: 1 }),
    });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(json(done.output)).toEqual({ attempt: 2 });
    const created = ofType(engine.getHistory(id), EventType.SubOrchestrationInstanceCreated);
    const executionId = engine.getInstance('retry-parent')?.executionId ?? '';
    expect(created.map((e) => [e.EventId, e.InstanceId])).toEqual([
      [0, `${executionId}:0`],
      [2, `${executionId}:2`],
    ]);
    expect(engine.getInstance(`${executionId}:0`)?.runtimeStatus).toBe('Failed');
    expect(engine.getInstance(`${executionId}:2`)?.runtimeStatus).toBe('Completed');
  });

  it('when the retry timeout passes before the next attempt, then no further attempt runs and the last error fails it', async () => {
    const id = engine.startNew('sampleRetryTimeout', { input: JSON.stringify({ key: 'timeout' }) });
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(json(done.output)).toContain('transient failure on attempt 1');
    expect(flakyAttempts.get('timeout')).toBe(1);
    // The SDK still walks through its attempt ids; the skipped attempts fail at once.
    expect(ofType(engine.getHistory(id), EventType.TaskFailed)).toHaveLength(5);
  });

  it('when an orchestrator calls an activity the app does not register, then it fails naming the activity', async () => {
    const id = engine.startNew('sampleCallsMissingActivity');
    const done = await engine.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(json(done.output)).toContain("The function 'sampleNoSuchActivity' doesn't exist");
  });

  it('when a work item completes twice, then its completion is recorded once', () => {
    const store = new DurableStore(path.join(tempDir(), 'idempotent.sqlite'));
    try {
      const item = { id: 'i|e|0', instanceId: 'i', executionId: 'e', taskId: 0, name: 'sampleNoop', input: undefined };
      store.addWorkItem(item);
      const event = history.taskCompleted(new Date(), 0, '1');
      expect(store.completeWorkItem(item, event, Date.now())).toBe(true);
      expect(store.completeWorkItem(item, event, Date.now())).toBe(false);
      expect(store.visibleMessages('i', Date.now())).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('when the task hub file is not a database, then opening it fails naming the file and how to start anyway', () => {
    const file = path.join(tempDir(), 'garbage.sqlite');
    fs.writeFileSync(file, 'half a page of something that is not SQLite, e.g. a copy cut short');
    let thrown: unknown;
    try {
      new DurableStore(file).close();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ name: 'StartupError' });
    expect((thrown as Error).message).toContain(`${file} is not a readable task hub (file is not a database)`);
    expect((thrown as Error).message).toContain('delete it with its -wal and -shm files');
  });

  it('when an unknown orchestration is started, then startNew refuses it', () => {
    expect(() => engine.startNew('noSuchOrchestration')).toThrow(
      "The function 'noSuchOrchestration' doesn't exist, is disabled, or is not an orchestrator function.",
    );
  });
});

describe('retry backoff', () => {
  const options = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 9, backoffCoefficient: 3 };

  it('when attempts fail in turn, then the delay grows by the backoff coefficient up to the max interval', () => {
    expect([1, 2, 3].map((attempt) => retryDelayMs(options, attempt, 0, 0))).toEqual([100, 300, 900]);
    const capped = { ...options, maxRetryIntervalInMilliseconds: 500 };
    expect([1, 2, 3].map((attempt) => retryDelayMs(capped, attempt, 0, 0))).toEqual([100, 300, 500]);
  });

  it('when the retry timeout has passed since the first attempt, then there is no further delay', () => {
    const bounded = { ...options, retryTimeoutInMilliseconds: 1000 };
    expect(retryDelayMs(bounded, 1, 0, 999)).toBe(100);
    expect(retryDelayMs(bounded, 1, 0, 1000)).toBe(0);
    expect(retryTimedOut(bounded, 0, 1000)).toBe(true);
  });
});

