import '../integration/durable-app/samples';

import type { OrchestrationContext } from 'durable-functions';
import * as df from 'durable-functions';

import { orchestrationHarness } from '../support/orchestration-harness';

// Sets a custom status whose JSON is `units` UTF-16 units long, then waits for an event.
df.app.orchestration('harnessStatusOfSize', function* (context: OrchestrationContext) {
  const units = context.df.getInput<number>();
  context.df.setCustomStatus('s'.repeat(units - 2));
  yield context.df.waitForExternalEvent('never');
});

describe('orchestration harness', () => {
  it('when activities complete one by one, then the chain schedules the next and returns every result', async () => {
    const h = orchestrationHarness('sampleChain');
    let step = await h.start();
    expect(step.newActions).toEqual([{ taskId: 0, kind: 'CallActivity', name: 'sampleHello', input: 'Tokyo' }]);
    step = await h.completeActivity(0, 'Hello Tokyo!');
    expect(step.newActions).toEqual([{ taskId: 1, kind: 'CallActivity', name: 'sampleHello', input: 'Seattle' }]);
    step = await h.completeActivity(1, 'Hello Seattle!');
    step = await h.completeActivity(2, 'Hello London!');
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  it('when the approval event is raised, then the approval branch wins and the timer is cancelled', async () => {
    const start = new Date('2026-03-01T12:00:00Z');
    const h = orchestrationHarness('sampleApproval', { input: { timeoutMs: 3_600_000 }, startTime: start });
    const first = await h.start();
    expect(first.newActions).toEqual([
      { taskId: null, kind: 'WaitForExternalEvent', name: 'approval' },
      { taskId: 0, kind: 'CreateTimer', fireAt: new Date('2026-03-01T13:00:00Z'), isCanceled: false },
    ]);
    const step = await h.advance(60_000).raiseEvent('approval', { by: 'ada' });
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual({ outcome: 'approved', by: 'ada' });
    expect(step.actions.find((a) => a.kind === 'CreateTimer')?.isCanceled).toBe(true);
  });

  it('when the timeout fires first, then the timeout branch returns', async () => {
    const h = orchestrationHarness('sampleApproval', { input: { timeoutMs: 1000 } });
    await h.start();
    const step = await h.fireTimer(0);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual({ outcome: 'timed out' });
  });

  it('when a retried activity fails, then the SDK waits for a backoff timer and then a new attempt id', async () => {
    const h = orchestrationHarness('sampleRetry', { input: { key: 'k', failures: 1, attempts: 2 } });
    const first = await h.start();
    expect(first.newActions).toMatchObject([{ taskId: 0, kind: 'CallActivityWithRetry', name: 'sampleFlaky' }]);
    const failed = await h.failActivity(0, 'transient');
    expect(failed.retryTimer?.taskId).toBe(1);
    expect(failed.isDone).toBe(false);
    const fired = await h.fireTimer(1);
    expect(fired.retryAttempt).toBe(2);
    const done = await h.completeActivity(2, { attempt: 2 });
    expect(done.isDone).toBe(true);
    expect(done.output).toEqual({ attempt: 2 });
  });

  it('when every attempt fails, then the orchestration fails with the activity message', async () => {
    const h = orchestrationHarness('sampleRetry', { input: { key: 'k', failures: 9, attempts: 2 } });
    await h.start();
    await h.failActivity(0, 'boom 1');
    await h.fireTimer(1);
    const last = await h.failActivity(2, 'boom 2');
    const final = await h.fireTimer(last.retryTimer!.taskId);
    expect(final.retryAttempt).toBeUndefined();
    expect(final.failed).toBe(true);
    expect(final.error).toContain("Activity function 'sampleFlaky' failed: boom 2");
  });

  it('when a monitor iteration ends, then it continues as new with the next input', async () => {
    const h = orchestrationHarness('sampleMonitor', { input: { iteration: 0, max: 5, intervalMs: 1000 } });
    await h.start();
    const checked = await h.completeActivity(0, { checked: 0 });
    expect(checked.customStatus).toEqual({ lastChecked: 0 });
    expect(checked.newActions).toMatchObject([{ taskId: 1, kind: 'CreateTimer' }]);
    const next = await h.fireTimer(1);
    expect(next.isDone).toBe(true);
    expect(next.continuedAsNewWith).toEqual({ iteration: 1, max: 5, intervalMs: 1000 });
  });

  it('when a sub-orchestration fails, then the parent sees the failure', async () => {
    const h = orchestrationHarness('sampleParentOfFailure');
    const first = await h.start();
    expect(first.newActions).toEqual([{ taskId: 0, kind: 'CallSubOrchestrator', name: 'sampleChildDouble', input: -1 }]);
    const step = await h.failSubOrchestration(0, 'negative input -1');
    expect(step.output).toBe("caught: Orchestrator function 'sampleChildDouble' failed: negative input -1 ");
  });

  it('when a fan-out is completed task by task, then the pending list shrinks and the fan-in sums the results', async () => {
    const h = orchestrationHarness('sampleFanOut', { input: { count: 4 } });
    const first = await h.start();
    expect(first.newActions.map((a) => [a.taskId, a.name, a.input])).toEqual([
      [0, 'sampleDouble', 0],
      [1, 'sampleDouble', 1],
      [2, 'sampleDouble', 2],
      [3, 'sampleDouble', 3],
    ]);
    let step = first;
    for (const task of h.pendingTasks()) {
      expect(step.isDone).toBe(false);
      step = await h.completeActivity(task.taskId!, (task.input as number) * 2);
    }
    expect(h.pendingTasks()).toEqual([]);
    expect(step.isDone).toBe(true);
    expect(step.output).toBe(12);
    expect(h.lastScheduled('sampleDouble')?.taskId).toBe(3);
  });

  it('when a step names a task that was never scheduled, then the harness says so', async () => {
    const h = orchestrationHarness('sampleChain');
    await h.start();
    await expect(h.completeActivity(7, 'x')).rejects.toThrow('No task with id 7 was scheduled');
    expect(() => orchestrationHarness('notRegistered')).toThrow("No function 'notRegistered' is registered");
  });

  it('when an orchestrator sets a custom status over 16 KB of UTF-16 JSON, then the step fails with the extension\'s error, as on Azure', async () => {
    const fits = await orchestrationHarness('harnessStatusOfSize', { input: 8703 }).start();
    expect(fits.failed).toBe(false);
    expect(fits.newActions).toEqual([{ taskId: null, kind: 'WaitForExternalEvent', name: 'never' }]);
    const over = await orchestrationHarness('harnessStatusOfSize', { input: 8704 }).start();
    expect(over).toMatchObject({
      failed: true,
      error: 'The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.',
      customStatus: null,
      newActions: [],
    });
  });
});
