/**
 * How the durable engine reaches the app's functions. The devhost worker implements it over its
 * captured registrations; tests implement it over the `@azure/functions-core` stand-in.
 */
export interface DurableFunctionInvoker {
  /** Whether a function of that name is registered with that durable trigger. */
  has(name: string, kind: 'orchestration' | 'activity'): boolean;
  /**
   * Runs the registered orchestrationTrigger handler with the trigger input the host sends
   * (see durable-protocol.md) and a fresh InvocationContext; resolves to the handler's result
   * (the SDK's OrchestratorState) or rejects with the handler's error.
   */
  invokeOrchestrator(name: string, triggerInput: OrchestrationTriggerInput): Promise<unknown>;
  /** Runs the registered activityTrigger handler with the deserialized input. */
  invokeActivity(name: string, input: unknown, meta: ActivityInvocationMeta): Promise<unknown>;
}

export interface ActivityInvocationMeta {
  instanceId: string;
  taskId: number;
}

/** The orchestration trigger value the Durable extension hands the Node worker. */
export interface OrchestrationTriggerInput {
  history: unknown[];
  input: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId: string | null;
  upperSchemaVersion: number;
  longRunningTimerIntervalDuration: string;
  maximumShortTimerDuration: string;
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
}
