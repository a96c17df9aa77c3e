/**
 * Durable Task history events in the shape the durable-functions SDK replays (PascalCase fields,
 * numeric `EventType`). Only the fields the SDK and the status API read are modelled.
 */

/** `EventType` numbers of the Durable Task Framework, as the SDK's HistoryEventType enum. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export type EventTypeNumber = (typeof EventType)[keyof typeof EventType];

const eventTypeNames = new Map<number, string>(Object.entries(EventType).map(([k, v]) => [v, k]));

export function eventTypeName(type: number): string {
  return eventTypeNames.get(type) ?? `Unknown(${type})`;
}

/** One history event. Optional fields depend on the type. Timestamps are ISO strings. */
export interface HistoryEvent {
  EventType: EventTypeNumber;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  Reason?: string;
  Details?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  OrchestrationStatus?: string;
}

type Extra = Omit<Partial<HistoryEvent>, 'EventType' | 'Timestamp'>;

function event(type: EventTypeNumber, at: Date, extra: Extra = {}): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: at.toISOString(), ...extra };
}

/** JSON text of a value as the host stores it; `undefined` has no text. */
export function jsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

export const history = {
  orchestratorStarted: (at: Date) => event(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(EventType.OrchestratorCompleted, at),
  executionStarted: (at: Date, name: string, input: string | undefined) =>
    event(EventType.ExecutionStarted, at, { Name: name, ...(input === undefined ? {} : { Input: input }) }),
  executionCompleted: (at: Date, result: string | undefined) =>
    event(EventType.ExecutionCompleted, at, { OrchestrationStatus: 'Completed', Result: result ?? 'null' }),
  executionFailed: (at: Date, reason: string, details: string) =>
    event(EventType.ExecutionFailed, at, { OrchestrationStatus: 'Failed', Reason: reason, Details: details }),
  executionTerminated: (at: Date, reason: string) =>
    event(EventType.ExecutionTerminated, at, { Input: JSON.stringify(reason) }),
  continueAsNew: (at: Date, input: string | undefined) =>
    event(EventType.ContinueAsNew, at, { Result: input ?? 'null' }),
  taskScheduled: (at: Date, id: number, name: string, input: string | undefined) =>
    event(EventType.TaskScheduled, at, { EventId: id, Name: name, ...(input === undefined ? {} : { Input: input }) }),
  /** `Result` must be present even for `undefined` results: the SDK JSON-parses it. */
  taskCompleted: (at: Date, id: number, result: string | undefined) =>
    event(EventType.TaskCompleted, at, { TaskScheduledId: id, Result: result ?? 'null' }),
  taskFailed: (at: Date, id: number, reason: string, details: string) =>
    event(EventType.TaskFailed, at, { TaskScheduledId: id, Reason: reason, Details: details }),
  subOrchestrationCreated: (at: Date, id: number, name: string, instanceId: string, input: string | undefined) =>
    event(EventType.SubOrchestrationInstanceCreated, at, {
      EventId: id,
      Name: name,
      InstanceId: instanceId,
      ...(input === undefined ? {} : { Input: input }),
    }),
  subOrchestrationCompleted: (at: Date, id: number, result: string | undefined) =>
    event(EventType.SubOrchestrationInstanceCompleted, at, { TaskScheduledId: id, Result: result ?? 'null' }),
  subOrchestrationFailed: (at: Date, id: number, reason: string, details: string) =>
    event(EventType.SubOrchestrationInstanceFailed, at, { TaskScheduledId: id, Reason: reason, Details: details }),
  timerCreated: (at: Date, id: number, fireAt: Date) =>
    event(EventType.TimerCreated, at, { EventId: id, FireAt: fireAt.toISOString() }),
  timerFired: (at: Date, id: number, fireAt: string) =>
    event(EventType.TimerFired, at, { TimerId: id, FireAt: fireAt }),
  eventRaised: (at: Date, name: string, input: string | undefined) =>
    event(EventType.EventRaised, at, { Name: name, ...(input === undefined ? {} : { Input: input }) }),
  executionSuspended: (at: Date, reason: string | undefined) =>
    event(EventType.ExecutionSuspended, at, reason === undefined ? {} : { Reason: reason }),
  executionResumed: (at: Date, reason: string | undefined) =>
    event(EventType.ExecutionResumed, at, reason === undefined ? {} : { Reason: reason }),
};
