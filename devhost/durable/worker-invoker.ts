import type { FunctionsWorker } from '../worker';
import type { DurableFunctionInvoker } from './invoker';

const triggerTypes = { orchestration: 'orchestrationtrigger', activity: 'activitytrigger' } as const;

/**
 * The durable engine's way into the app: invocations go through the devhost worker (the
 * programming model's own argument and response conversion), as the Node worker runs them.
 * Orchestrator episodes are not logged per invocation (the engine logs status changes);
 * activities are, unless `quietActivities`.
 */
export function workerInvoker(worker: FunctionsWorker, options: { quietActivities?: boolean } = {}): DurableFunctionInvoker {
  return {
    has: (name, kind) => worker.getFunction(name)?.trigger.type?.toLowerCase() === triggerTypes[kind],
    invokeOrchestrator: async (name, triggerInput) =>
      (await worker.invoke(name, { triggerValue: triggerInput, quiet: true })).returnValue,
    // The activity's binding data starts with its instance id, as the extension's
    // ActivityTriggerAttributeBindingProvider gives it (`{instanceId}` in binding expressions).
    invokeActivity: async (name, input, meta) =>
      (
        await worker.invoke(name, {
          triggerValue: input,
          triggerMetadata: { instanceId: meta.instanceId },
          quiet: options.quietActivities ?? false,
        })
      ).returnValue,
  };
}
