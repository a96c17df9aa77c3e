/**
 * The durable-functions v3 samples (Azure/azure-functions-durable-js samples-ts/functions), kept
 * as close to the originals as the fidelity suite allows: luxon, readdirp and axios are replaced
 * by plain Node, and intervals are shortened so the suite stays fast. Not product code.
 */
import { type InvocationContext } from '@azure/functions';
import type { ActivityHandler, OrchestrationContext, OrchestrationHandler, RetryOptions } from 'durable-functions';
import * as df from 'durable-functions';

/** How many times each activity body ran, so tests can count attempts. */
export const attempts = new Map<string, number>();
const count = (name: string) => attempts.set(name, (attempts.get(name) ?? 0) + 1);

// samples-ts/functions/sayHello.ts
const helloActivityName = 'sayHello';

const helloSequence: OrchestrationHandler = function* (context: OrchestrationContext) {
  context.log('Starting chain sample');
  const output: string[] = [];
  output.push(yield context.df.callActivity(helloActivityName, 'Tokyo'));
  output.push(yield context.df.callActivity(helloActivityName, 'Seattle'));
  output.push(yield context.df.callActivity(helloActivityName, 'Cairo'));
  return output;
};
df.app.orchestration('helloSequence', helloSequence);

const helloActivity: ActivityHandler = function (input: unknown): string {
  return `Hello ${String(input)}`;
};
df.app.activity(helloActivityName, { handler: helloActivity });

// samples-ts/functions/callActivityWithRetry.ts (first retry after 50 ms instead of 1 s)
const callActivityWithRetry: OrchestrationHandler = function* (context: OrchestrationContext) {
  const retryOptions: RetryOptions = new df.RetryOptions(50, 2);
  let returnValue: unknown;
  try {
    returnValue = yield context.df.callActivityWithRetry('flakyFunction', retryOptions);
  } catch {
    context.log('Orchestrator caught exception. Flaky function is extremely flaky.');
  }
  return returnValue;
};
df.app.orchestration('callActivityWithRetry', callActivityWithRetry);

const flakyFunction: ActivityHandler = function (_input: unknown, context: InvocationContext): void {
  count('flakyFunction');
  context.log('Flaky Function Flaking!');
  throw new Error('FlakyFunction flaked');
};
df.app.activity('flakyFunction', { handler: flakyFunction });

/** Reports what an activity was handed: its input and whether the second argument is the context. */
df.app.activity('describeArguments', {
  handler: (input: unknown, context: InvocationContext) => ({
    inputType: input === undefined ? 'undefined' : input === null ? 'null' : typeof input,
    input: input ?? null,
    contextFunctionName: (context as InvocationContext | undefined)?.functionName ?? null,
    instanceId: (context as InvocationContext | undefined)?.triggerMetadata?.instanceId ?? null,
  }),
});

df.app.orchestration('callWithoutInput', function* (context: OrchestrationContext) {
  const withoutInput: unknown = yield context.df.callActivity('describeArguments');
  const withInput: unknown = yield context.df.callActivity('describeArguments', { city: 'Oslo' });
  return { withoutInput, withInput };
});

// samples-ts/functions/sayHello.ts (the other orchestrations of the file)
df.app.orchestration('sayHelloWithActivity', function* (context: OrchestrationContext) {
  const input: unknown = context.df.getInput();
  const output: string = yield context.df.callActivity(helloActivityName, input);
  return output;
});

df.app.orchestration('sayHelloWithCustomStatus', function* (context: OrchestrationContext) {
  const input: unknown = context.df.getInput();
  const output: string = yield context.df.callActivity(helloActivityName, input);
  context.df.setCustomStatus(output);
  return output;
});

// The published sample passes `{ input }`, but v3's signature is (name, input, instanceId): on
// Azure that greets "[object Object]". Here the input is passed as v3 expects.
df.app.orchestration('sayHelloWithSubOrchestrator', function* (context: OrchestrationContext) {
  const input: unknown = context.df.getInput();
  const output: string = yield context.df.callSubOrchestrator('sayHelloWithActivity', input);
  return output;
});

// samples-ts/functions/callSubOrchestratorWithRetry.ts (first retry after 50 ms instead of 10 s).
// As published it passes `{ input, instanceId }` as the input, so `childId` is not used: each
// attempt's child gets DTFx's default id, on Azure as on devhost.
const subOrchestratorName = 'throwsErrorInLine';
df.app.orchestration('callSubOrchestratorWithRetry', function* (context: OrchestrationContext) {
  const retryOptions = new df.RetryOptions(50, 2);
  const childId = `${context.df.instanceId}:0`;
  let returnValue: unknown;
  try {
    returnValue = yield context.df.callSubOrchestratorWithRetry(subOrchestratorName, retryOptions, { input: 'Input', instanceId: childId });
  } catch {
    context.log('Orchestrator caught exception. Sub-orchestrator failed.');
  }
  return returnValue;
});
// eslint-disable-next-line require-yield -- as in the sample: it fails before its first yield
const flakyOrchestrator: OrchestrationHandler = function* () {
  throw new Error(`${subOrchestratorName} does what it says on the tin.`);
};
df.app.orchestration(subOrchestratorName, flakyOrchestrator);

// Fan-out/fan-in (the pattern of backupSiteContent, without files).
df.app.orchestration('fanOutFanIn', function* (context: OrchestrationContext) {
  const count = context.df.getInput<number>();
  const tasks = Array.from({ length: count }, (_, i) => context.df.callActivity('square', i));
  const results: number[] = yield context.df.Task.all(tasks);
  return results.reduce((a, b) => a + b, 0);
});
df.app.activity('square', { handler: (n: number) => n * n });

// samples-ts/functions/cancelTimer.ts (luxon replaced by Date)
df.app.orchestration('cancelTimer', function* (context: OrchestrationContext) {
  const expiration = new Date(context.df.currentUtcDateTime.getTime() + 2 * 60_000);
  const timeoutTask = context.df.createTimer(expiration);
  const hello: string = yield context.df.callActivity('sayHello', 'from the other side');
  if (!timeoutTask.isCompleted) timeoutTask.cancel();
  return hello;
});

/**
 * Human approval racing a timer (the smsPhoneVerification pattern without Twilio): the input is
 * the timeout in ms; the first `Approval` event wins unless the timer fires first.
 */
df.app.orchestration('approvalWithTimeout', function* (context: OrchestrationContext) {
  const timeoutMs = context.df.getInput<number>();
  const timeoutTask = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + timeoutMs));
  const approval = context.df.waitForExternalEvent('Approval');
  const winner: unknown = yield context.df.Task.any([approval, timeoutTask]);
  if (winner === timeoutTask) return { outcome: 'timed out' };
  timeoutTask.cancel();
  return { outcome: 'approved', by: approval.result };
});

// samples-ts/functions/continueAsNewCounter.ts (luxon replaced by Date; 20 ms instead of 30 s, 3 rounds instead of 10)
df.app.orchestration('continueAsNewCounter', function* (context: OrchestrationContext) {
  let currentValue: number = context.df.getInput<number>() || 0;
  context.log(`Value is ${currentValue}`);
  currentValue++;
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 20));
  if (currentValue < 3) context.df.continueAsNew(currentValue);
  return currentValue;
});

// samples-ts/functions/weatherMonitor.ts (the monitor pattern; the weather is `clearAfter` checks away)
df.app.orchestration('weatherMonitor', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ location: string; clearAfter: number; intervalMs: number }>();
  const endTime = context.df.currentUtcDateTime.getTime() + 6 * 3_600_000;
  let checks = 0;
  while (context.df.currentUtcDateTime.getTime() < endTime) {
    const isClear: boolean = yield context.df.callActivity('getIsClear', { ...input, check: checks });
    checks++;
    if (isClear) {
      context.df.setCustomStatus({ checks });
      yield context.df.callActivity('sendGoodWeatherAlert', input.location);
      break;
    }
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.intervalMs));
  }
  return checks;
});
df.app.activity('getIsClear', { handler: (i: { clearAfter: number; check: number }) => i.check + 1 >= i.clearAfter });
df.app.activity('sendGoodWeatherAlert', { handler: (location: string) => `alerted ${location}` });

// samples-ts/functions/counter.ts: entities are not supported by devhost; it says so at start
// and the orchestration that calls the entity fails with a readable reason.
df.app.entity<number>('counterEntity', (context) => {
  const currentValue: number = context.df.getState(() => 0) ?? 0;
  if (context.df.operationName === 'get') context.df.return(currentValue);
  context.df.setState(currentValue);
});
df.app.orchestration('counterOrchestration', function* (context: OrchestrationContext) {
  const entityId = new df.EntityId('counterEntity', 'myCounter');
  const currentValue: number = yield context.df.callEntity(entityId, 'get');
  if (currentValue < 10) yield context.df.callEntity(entityId, 'add', 1);
});

/** Activities that wait until the test opens their gate, to look at an instance mid-flight. */
const gates = new Map<string, { open: () => void; opened: Promise<void> }>();
export function gate(key: string): { open: () => void; opened: Promise<void> } {
  let entry = gates.get(key);
  if (!entry) {
    let open = () => undefined as void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    entry = { open, opened };
    gates.set(key, entry);
  }
  return entry;
}
df.app.activity('waitAtGate', {
  handler: async (key: string) => {
    await gate(key).opened;
    return `passed ${key}`;
  },
});
df.app.orchestration('gatedChain', function* (context: OrchestrationContext) {
  const key = context.df.getInput<string>();
  const first: string = yield context.df.callActivity('sayHello', key);
  const second: string = yield context.df.callActivity('waitAtGate', key);
  return [first, second];
});

// Orchestrators that throw something with no error message after their first activity: a
// string, and an Error without a message. The extension only fails an out-of-process
// orchestration for the SDK's `error` field (the thrown value's message).
df.app.orchestration('throwsWithoutMessage', function* (context: OrchestrationContext) {
  const how = context.df.getInput<'string' | 'emptyError' | 'object'>();
  context.df.setCustomStatus('before the throw');
  yield context.df.callActivity('sayHello', how);
  if (how === 'string') throw 'plain string thrown'; // eslint-disable-line @typescript-eslint/only-throw-error
  if (how === 'object') throw { message: 'an object with a message' }; // eslint-disable-line @typescript-eslint/only-throw-error
  throw new Error();
});

// An orchestrator whose custom status grows past the extension's 16 KB (UTF-16) cap on its second
// episode: `units` is the length of the status's JSON text (a string of units - 2 characters plus
// its quotes). `then: 'throw'` throws right after setting it.
df.app.orchestration('customStatusOfSize', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ units: number; char?: string; then?: 'throw' }>();
  context.df.setCustomStatus('small');
  yield context.df.callActivity('square', 2);
  const char = input.char ?? 'x';
  context.df.setCustomStatus(char.repeat((input.units - 2) / char.length));
  if (input.then === 'throw') throw new Error('thrown after setting the status');
  const nine: number = yield context.df.callActivity('square', 3);
  return nine;
});

// Payloads past the Azure Storage backend's queue (45 KB) and table (60 KB) thresholds, which it
// stores in blobs, and past the Durable Task Scheduler's 1 MB: the input's `kb` of text goes to an
// activity and back, then waits for an event with a payload of its own.
df.app.activity('echoText', { handler: (text: string) => text });
df.app.orchestration('largePayloads', function* (context: OrchestrationContext) {
  const { kb } = context.df.getInput<{ kb: number }>();
  const echoed: string = yield context.df.callActivity('echoText', 'p'.repeat(kb * 1024));
  const event: string = yield context.df.waitForExternalEvent('bulk');
  return { echoed: echoed.length, event: event.length };
});
