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
  }),
});

df.app.orchestration('callWithoutInput', function* (context: OrchestrationContext) {
  const withoutInput: unknown = yield context.df.callActivity('describeArguments');
  const withInput: unknown = yield context.df.callActivity('describeArguments', { city: 'Oslo' });
  return { withoutInput, withInput };
});
