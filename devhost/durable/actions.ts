import { z } from 'zod';

/** Action types the durable-functions SDK returns (its ActionType enum). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

const actionTypeNames = new Map<number, string>(Object.entries(ActionType).map(([k, v]) => [v, k]));

export const retryOptionsSchema = z.object({
  firstRetryIntervalInMilliseconds: z.number().positive(),
  maxNumberOfAttempts: z.number().int().min(1),
  backoffCoefficient: z.number().positive().optional(),
  maxRetryIntervalInMilliseconds: z.number().positive().optional(),
  retryTimeoutInMilliseconds: z.number().positive().optional(),
});
/** RetryOptions as the SDK serialises them on CallActivityWithRetry / CallSubOrchestratorWithRetry. */
export type RetryOptions = z.infer<typeof retryOptionsSchema>;

/** One atomic action of an orchestrator reply (compound WhenAll / WhenAny are flattened away). */
export const atomicActionSchema = z.object({
  actionType: z.number().int(),
  functionName: z.string().optional(),
  input: z.unknown().optional(),
  instanceId: z.string().optional(),
  retryOptions: retryOptionsSchema.optional(),
  fireAt: z.union([z.date(), z.string()]).optional(),
  isCanceled: z.boolean().optional(),
  externalEventName: z.string().optional(),
});
export type AtomicAction = z.infer<typeof atomicActionSchema>;

/** The orchestrator's reply (`OrchestratorState`) as the SDK builds it. */
export const orchestratorStateSchema = z.object({
  isDone: z.boolean(),
  actions: z.array(z.array(z.unknown())),
  output: z.unknown().optional(),
  error: z.string().optional(),
  customStatus: z.unknown().optional(),
  schemaVersion: z.number().optional(),
});
export type OrchestratorState = z.infer<typeof orchestratorStateSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Flattens the reply's action list in the order the SDK assigned task ids: compound actions
 * contribute their children in array order. Like the real extension, every atomic action in the
 * list counts as a task of its own: a task yielded again inside a new `Task.any` / `Task.all`
 * is scheduled again (durable-functions issue #574), so orchestrators must not do that.
 */
export function flattenActions(actions: readonly unknown[][]): AtomicAction[] {
  const out: AtomicAction[] = [];
  const visit = (action: unknown): void => {
    if (!isRecord(action)) throw new Error(`orchestrator returned a malformed action: ${JSON.stringify(action)}`);
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      const children = action.compoundActions;
      if (!Array.isArray(children)) throw new Error('orchestrator returned a compound action without children');
      for (const child of children) visit(child);
      return;
    }
    out.push(atomicActionSchema.parse(action));
  };
  for (const group of actions) for (const action of group) visit(action);
  return out;
}

/** Whether the SDK consumed a task id (sequence number) for this action. */
export function takesTaskId(action: AtomicAction): boolean {
  return action.actionType !== ActionType.WaitForExternalEvent && action.actionType !== ActionType.ContinueAsNew;
}

/** The identity used by the non-determinism check: type and target name, not inputs. */
export function actionSignature(action: AtomicAction): string {
  const type = actionTypeNames.get(action.actionType) ?? `ActionType(${action.actionType})`;
  const target = action.functionName ?? action.externalEventName;
  return target === undefined ? type : `${type} '${target}'`;
}

/**
 * Activity and continue-as-new inputs: the SDK JSON-encodes string inputs once more
 * (`Utils.processInput`) because the extension parses them once; undo that here.
 */
export function decodeProcessedInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}
