/**
 * Fidelity suite, Durable part: the durable-functions samples (test/fidelity-app) run on devhost
 * through the real DurableClient, asserting what Azure answers (issue 15).
 */
import { EventType } from '../../devhost/durable';
import { attempts } from '../fidelity-app/functions/durable-samples';
import { type FidelityHost, startFidelityHost } from '../support/fidelity-host';

let dh: FidelityHost;

beforeAll(async () => {
  dh = await startFidelityHost();
});
afterAll(async () => {
  await dh.stop();
});

async function run(name: string, input?: unknown): Promise<{ id: string; output: unknown; runtimeStatus: string }> {
  const id = await dh.client.startNew(name, input === undefined ? {} : { input });
  const done = await dh.engine.waitFor(id);
  return { id, output: done.output === undefined ? undefined : JSON.parse(done.output), runtimeStatus: done.runtimeStatus };
}

describe('fidelity: activities get (input, context) as on Azure', () => {
  it('when an activity is called without an input, then it gets undefined as its input and the InvocationContext second', async () => {
    const { output, runtimeStatus } = await run('callWithoutInput');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toEqual({
      withoutInput: { inputType: 'undefined', input: null, contextFunctionName: 'describeArguments' },
      withInput: { inputType: 'object', input: { city: 'Oslo' }, contextFunctionName: 'describeArguments' },
    });
  });

  it('when the callActivityWithRetry sample runs, then the activity logs through its context and fails with its own error each attempt', async () => {
    attempts.delete('flakyFunction');
    const { id, output, runtimeStatus } = await run('callActivityWithRetry');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toBeNull();
    expect(attempts.get('flakyFunction')).toBe(2);
    const failures = dh.engine.getHistory(id).filter((e) => e.EventType === EventType.TaskFailed);
    expect(failures.map((e) => String(e.Reason))).toEqual([
      "Activity function 'flakyFunction' failed: FlakyFunction flaked",
      "Activity function 'flakyFunction' failed: FlakyFunction flaked",
    ]);
  });
});
