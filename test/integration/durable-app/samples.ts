/**
 * A small sample app of Durable patterns for the devhost durable tests (not product code).
 * Registered through the real `@azure/functions` / `durable-functions` packages into the
 * devhost worker of the loading module registry.
 */
import fs from 'node:fs';

import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import * as df from 'durable-functions';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Attempts per key of `sampleFlaky`, so tests can see how often the engine retried. */
export const flakyAttempts = new Map<string, number>();
/** Switch read by `sampleShifty` to simulate a code change while an instance is in flight. */
export const shifty = { useSecondActivity: false };

df.app.activity('sampleHello', { handler: (name: string) => `Hello ${name}!` });
df.app.activity('sampleDouble', { handler: (n: number) => n * 2 });
df.app.activity('sampleNoop', { handler: () => null });
df.app.activity('sampleCheck', { handler: (n: number) => ({ checked: n }) });
df.app.activity('sampleFlaky', {
  handler: (input: { key: string; failures: number }) => {
    const attempt = (flakyAttempts.get(input.key) ?? 0) + 1;
    flakyAttempts.set(input.key, attempt);
    if (attempt <= input.failures) throw new Error(`transient failure on attempt ${attempt}`);
    return { attempt };
  },
});
df.app.activity('samplePermanent', {
  handler: () => {
    throw new Error('disk on fire');
  },
});
/** Runs of `sampleGated`, and what each run waits on before it answers: a test holds it to stop an engine with the activity in flight. */
export const gated = { runs: 0, hold: Promise.resolve() };
df.app.activity('sampleGated', {
  handler: async (n: number) => {
    gated.runs += 1;
    await gated.hold;
    return n + 1;
  },
});
/** Slow enough to be caught mid-flight by a kill; appends each execution to SAMPLE_EXEC_LOG. */
df.app.activity('sampleSlowSquare', {
  handler: async (n: number) => {
    await sleep(40);
    const log = process.env.SAMPLE_EXEC_LOG;
    if (log) fs.appendFileSync(log, `${n}\n`);
    return n * n;
  },
});

const chain: OrchestrationHandler = function* (context: OrchestrationContext) {
  const out: string[] = [];
  out.push(yield context.df.callActivity('sampleHello', 'Tokyo'));
  out.push(yield context.df.callActivity('sampleHello', 'Seattle'));
  out.push(yield context.df.callActivity('sampleHello', 'London'));
  return out;
};
df.app.orchestration('sampleChain', chain);

df.app.orchestration('sampleFanOut', function* (context: OrchestrationContext) {
  const { count, activity } = context.df.getInput<{ count: number; activity?: string }>();
  const tasks = Array.from({ length: count }, (_, i) => context.df.callActivity(activity ?? 'sampleDouble', i));
  const results: number[] = yield context.df.Task.all(tasks);
  return results.reduce((a, b) => a + b, 0);
});

/** Monitor: check, report custom status, sleep on a durable timer, continue as new. */
df.app.orchestration('sampleMonitor', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ iteration: number; max: number; intervalMs: number }>();
  const result: { checked: number } = yield context.df.callActivity('sampleCheck', input.iteration);
  context.df.setCustomStatus({ lastChecked: result.checked });
  if (input.iteration + 1 >= input.max) return `monitored ${input.max} times`;
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.intervalMs));
  context.df.continueAsNew({ ...input, iteration: input.iteration + 1 });
  return undefined;
});

/** Human interaction: an approval event raced against a timeout; the losing timer is cancelled. */
df.app.orchestration('sampleApproval', function* (context: OrchestrationContext) {
  const { timeoutMs } = context.df.getInput<{ timeoutMs: number }>();
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutMs);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent('approval');
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    return { outcome: 'approved', by: (approval.result as { by: string }).by };
  }
  return { outcome: 'timed out' };
});

df.app.orchestration('sampleRetry', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ key: string; failures: number; attempts: number; activity?: string }>();
  const options = new df.RetryOptions(20, input.attempts);
  options.backoffCoefficient = 2;
  return yield context.df.callActivityWithRetry(input.activity ?? 'sampleFlaky', options, {
    key: input.key,
    failures: input.failures,
  });
});

df.app.orchestration('sampleChildDouble', function* (context: OrchestrationContext) {
  const n = context.df.getInput<number>();
  const doubled: number = yield context.df.callActivity('sampleDouble', n);
  if (doubled < 0) throw new Error(`negative input ${n}`);
  return doubled;
});

df.app.orchestration('sampleParent', function* (context: OrchestrationContext) {
  const n = context.df.getInput<number>();
  const viaChild: number = yield context.df.callSubOrchestrator('sampleChildDouble', n);
  const chained: string[] = yield context.df.callSubOrchestrator('sampleChain', undefined, `${context.df.instanceId}-chain`);
  return { viaChild, chained };
});

df.app.orchestration('sampleParentOfFailure', function* (context: OrchestrationContext) {
  try {
    yield context.df.callSubOrchestrator('sampleChildDouble', -1);
    return 'unexpected';
  } catch (err) {
    return `caught: ${(err as Error).message.split('\n')[0]}`;
  }
});

df.app.orchestration('sampleForever', function* (context: OrchestrationContext) {
  context.df.setCustomStatus('waiting');
  return yield context.df.waitForExternalEvent('never');
});

df.app.orchestration('sampleShifty', function* (context: OrchestrationContext) {
  const first: unknown = shifty.useSecondActivity
    ? yield context.df.callActivity('sampleDouble', 1)
    : yield context.df.callActivity('sampleHello', 'first');
  const go: unknown = yield context.df.waitForExternalEvent('go');
  return { first, go };
});

df.app.orchestration('sampleEcho', function* (context: OrchestrationContext) {
  const received: unknown = yield context.df.waitForExternalEvent('ping');
  return { input: context.df.getInput<unknown>(), received };
});

/** Starts `sampleEcho` as a sub-orchestration under the instance id it is given, and says how that went. */
df.app.orchestration('sampleParentOfNamedChild', function* (context: OrchestrationContext) {
  const { childId } = context.df.getInput<{ childId: string }>();
  try {
    return { child: (yield context.df.callSubOrchestrator('sampleEcho', context.df.instanceId, childId)) as unknown };
  } catch (err) {
    return { caught: (err as Error).message.split('\n')[0]!.trim() };
  }
});

/** A child orchestration that fails while `sampleFlaky` still fails for its key. */
df.app.orchestration('sampleFlakyChild', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ key: string; failures: number }>();
  return yield context.df.callActivity('sampleFlaky', input);
});

df.app.orchestration('sampleParentWithRetry', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ key: string; failures: number }>();
  return yield context.df.callSubOrchestratorWithRetry('sampleFlakyChild', new df.RetryOptions(20, 3), input);
});

/** Retries bounded by a retry timeout shorter than the first backoff. */
df.app.orchestration('sampleRetryTimeout', function* (context: OrchestrationContext) {
  const { key } = context.df.getInput<{ key: string }>();
  const options = new df.RetryOptions(60, 5);
  options.retryTimeoutInMilliseconds = 30;
  return yield context.df.callActivityWithRetry('sampleFlaky', options, { key, failures: 99 });
});

df.app.orchestration('sampleCallsMissingActivity', function* (context: OrchestrationContext) {
  return yield context.df.callActivity('sampleNoSuchActivity', 1);
});

/** Retried calls racing each other in one Task.all: their retry ids interleave. */
df.app.orchestration('sampleFanOutRetry', function* (context: OrchestrationContext) {
  const { prefix, count } = context.df.getInput<{ prefix: string; count: number }>();
  const options = new df.RetryOptions(10, 3);
  const tasks = Array.from({ length: count }, (_, i) =>
    context.df.callActivityWithRetry('sampleFlaky', options, { key: `${prefix}${i}`, failures: i % 3 }),
  );
  const plain: number = yield context.df.callActivity('sampleDouble', 21);
  const results: Array<{ attempt: number }> = yield context.df.Task.all(tasks);
  return { plain, attempts: results.map((r) => r.attempt) };
});

/** Like sampleShifty, but the changed code also trips over the recorded result and throws. */
export const shiftyThrows = { greet: false };
df.app.orchestration('sampleShiftyThrows', function* (context: OrchestrationContext) {
  const first: unknown = shiftyThrows.greet
    ? yield context.df.callActivity('sampleHello', 'first')
    : yield context.df.callActivity('sampleDouble', 1);
  if (shiftyThrows.greet && typeof first !== 'string') throw new Error('expected a greeting');
  const go: unknown = yield context.df.waitForExternalEvent('go');
  return { first, go };
});
