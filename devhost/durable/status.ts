import { EventType, eventTypeName, type HistoryEvent } from './history';
import type { Instance } from './store';

/**
 * The extension's StatusResponsePayload. `historyEvents` only with `showHistory` (and not while
 * Pending): the JS DurableClient's `status.history` is therefore undefined, on Azure as here.
 */
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
  if (options.showHistory && instance.runtimeStatus !== 'Pending') payload.historyEvents = historyEvents(events, options);
  return payload;
}

type Item = Record<string, unknown>;

/**
 * History as DurableClient.GetDurableOrchestrationStatusAsync shows it: `EventType` as its name,
 * `EventId` / `IsPlayed` dropped, OrchestratorStarted/Completed left out; a TaskScheduled or
 * SubOrchestrationInstanceCreated stays while it is pending and is folded into its completion
 * once there is one (`FunctionName`, `ScheduledTime`, its `Input`); timers show both TimerCreated
 * and TimerFired. `Input` fields are the stored JSON text, shown unless `showInput=false`;
 * `Result` of completions only with `showHistoryOutput`, parsed. A failure or termination ends
 * with ExecutionCompleted and the final status, as the Durable Task Framework records it.
 */
function historyEvents(events: readonly HistoryEvent[], options: StatusOptions): Item[] {
  const items: Array<Item | undefined> = [];
  const scheduled = new Map<string, { index: number; name?: string; timestamp: string; input?: string }>();
  const track = (prefix: string, e: HistoryEvent) =>
    scheduled.set(`${prefix}_${e.EventId}`, { index: items.length, name: e.Name, timestamp: e.Timestamp, input: e.Input });
  const fold = (prefix: string, e: HistoryEvent, item: Item) => {
    const origin = scheduled.get(`${prefix}_${e.TaskScheduledId}`);
    if (!origin) return;
    item.ScheduledTime = origin.timestamp;
    item.FunctionName = origin.name;
    if (origin.input !== undefined) item.Input = origin.input;
    items[origin.index] = undefined;
  };
  const result = (item: Item, text: string | undefined) => {
    if (options.showHistoryOutput) item.Result = parseJson(text);
  };

  for (const e of events) {
    const item: Item = { EventType: eventTypeName(e.EventType), Timestamp: e.Timestamp };
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        continue;
      case EventType.ExecutionStarted:
        Object.assign(item, { FunctionName: e.Name }, inputOf(e));
        break;
      case EventType.TaskScheduled:
        track('TaskScheduled', e);
        Object.assign(item, { Name: e.Name }, inputOf(e));
        break;
      case EventType.SubOrchestrationInstanceCreated:
        track('SubOrchestrationInstanceCreated', e);
        Object.assign(item, { Name: e.Name, InstanceId: e.InstanceId }, inputOf(e));
        break;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        fold(e.EventType === EventType.TaskCompleted ? 'TaskScheduled' : 'SubOrchestrationInstanceCreated', e, item);
        result(item, e.Result);
        break;
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        fold(e.EventType === EventType.TaskFailed ? 'TaskScheduled' : 'SubOrchestrationInstanceCreated', e, item);
        Object.assign(item, { Reason: e.Reason, Details: e.Details });
        break;
      case EventType.TimerCreated:
      case EventType.TimerFired:
        item.FireAt = e.FireAt;
        break;
      case EventType.EventRaised:
        Object.assign(item, { Name: e.Name }, inputOf(e));
        break;
      case EventType.ExecutionCompleted:
        item.OrchestrationStatus = e.OrchestrationStatus;
        result(item, e.Result);
        break;
      case EventType.ExecutionFailed:
        item.EventType = eventTypeName(EventType.ExecutionCompleted);
        item.OrchestrationStatus = 'Failed';
        result(item, e.Reason);
        break;
      case EventType.ExecutionTerminated: {
        // DTFx keeps the reason as given (devhost stores it as JSON text).
        if (e.Input !== undefined) item.Input = parseJson(e.Input);
        items.push(item);
        const completed: Item = { EventType: eventTypeName(EventType.ExecutionCompleted), Timestamp: e.Timestamp, OrchestrationStatus: 'Terminated' };
        result(completed, e.Input);
        items.push(completed);
        continue;
      }
      default:
        if (e.Name !== undefined) item.Name = e.Name;
        if (e.Reason !== undefined) item.Reason = e.Reason;
        Object.assign(item, inputOf(e));
    }
    items.push(item);
  }
  return items.filter((i): i is Item => i !== undefined).map((i) => (options.showInput ? i : withoutInput(i)));
}

/** An event's `Input` (its JSON text) as a field to merge, or nothing. */
const inputOf = (e: HistoryEvent): Item => (e.Input === undefined ? {} : { Input: e.Input });

function withoutInput(item: Item): Item {
  const { Input: _input, ...rest } = item;
  return rest;
}
