import { EventType, eventTypeName, type HistoryEvent } from './history';
import type { Instance } from './store';

/** The extension's StatusResponsePayload (plus `history`, the field the JS DurableClient reads). */
export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: unknown[];
  history?: unknown[];
}

export interface StatusOptions {
  showInput: boolean;
  showHistory: boolean;
  showHistoryOutput: boolean;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `DateTime.ToString("s") + "Z"`: seconds precision, as the extension formats status times. */
function statusTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export function statusPayload(instance: Instance, options: StatusOptions, events: readonly HistoryEvent[]): StatusPayload {
  const payload: StatusPayload = {
    name: instance.name,
    instanceId: instance.instanceId,
    runtimeStatus: instance.runtimeStatus,
    input: options.showInput ? parseJson(instance.input) : null,
    customStatus: parseJson(instance.customStatus),
    output: parseJson(instance.output),
    createdTime: statusTime(instance.createdTime),
    lastUpdatedTime: statusTime(instance.lastUpdatedTime),
  };
  if (options.showHistory) {
    const friendly = friendlyHistory(events, options.showHistoryOutput);
    payload.historyEvents = friendly;
    payload.history = friendly;
  }
  return payload;
}

const hidden = new Set<number>([
  EventType.OrchestratorStarted,
  EventType.OrchestratorCompleted,
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
  EventType.TimerCreated,
]);

/**
 * History as the extension shows it: scheduling events folded into their completions
 * (`FunctionName`, `ScheduledTime`), replay bookkeeping left out, payloads only on request.
 */
function friendlyHistory(events: readonly HistoryEvent[], withOutput: boolean): unknown[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of events) {
    if (e.EventType === EventType.TaskScheduled || e.EventType === EventType.SubOrchestrationInstanceCreated) {
      scheduled.set(e.EventId, e);
    }
  }
  return events
    .filter((e) => !hidden.has(e.EventType))
    .map((e) => {
      const out: Record<string, unknown> = { EventType: eventTypeName(e.EventType), Timestamp: e.Timestamp };
      const origin = e.TaskScheduledId === undefined ? undefined : scheduled.get(e.TaskScheduledId);
      if (e.EventType === EventType.ExecutionStarted) out.FunctionName = e.Name;
      if (origin) {
        out.FunctionName = origin.Name;
        out.ScheduledTime = origin.Timestamp;
        if (origin.InstanceId) out.InstanceId = origin.InstanceId;
      }
      if (e.EventType === EventType.EventRaised) out.Name = e.Name;
      if (e.EventType === EventType.TimerFired) out.FireAt = e.FireAt;
      if (e.Reason !== undefined) out.Reason = e.Reason;
      if (e.OrchestrationStatus !== undefined) out.OrchestrationStatus = e.OrchestrationStatus;
      if (withOutput) {
        if (e.Input !== undefined) out.Input = parseJson(e.Input);
        if (e.Result !== undefined) out.Result = parseJson(e.Result);
        if (e.Details !== undefined) out.Details = e.Details;
      }
      return out;
    });
}
