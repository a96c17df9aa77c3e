import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

import {
  actionSignature,
  ActionType,
  type AtomicAction,
  decodeProcessedInput,
  flattenActions,
  type OrchestratorState,
  orchestratorStateSchema,
  takesTaskId,
} from './actions';
import { EventType, history, type HistoryEvent, jsonText } from './history';
import type { DurableFunctionInvoker, OrchestrationTriggerInput } from './invoker';
import { retryDelayMs, retryTimedOut } from './retry';
import {
  DurableStore,
  type ExecutionState,
  freshExecutionState,
  type InboxMessage,
  type Instance,
  type InstanceQuery,
  isTerminal,
  type RetryState,
  type RuntimeStatus,
  type StoredMessage,
  type WorkItem,
} from './store';

export interface DurableEngineOptions {
  /** SQLite file of the task hub (created if missing), or ':memory:'. */
  storePath: string;
  invoker: DurableFunctionInvoker;
  taskHubName?: string;
  /** Activities running at once; default 16. */
  maxConcurrentActivities?: number;
  /** Receives one readable line per orchestration status change. */
  log?: (line: string) => void;
}

/** Starting an orchestration the app does not register. */
export class UnknownOrchestrationError extends Error {
  constructor(readonly functionName: string) {
    super(`The function '${functionName}' doesn't exist, is disabled, or is not an orchestrator function.`);
    this.name = 'UnknownOrchestrationError';
  }
}

/**
 * Starting an instance id that is still pending, running or suspended: DurableTask's
 * OrchestrationAlreadyExistsException, with its message (the extension's default
 * `overridableExistingInstanceStates: NonRunningStates`).
 */
export class InstanceExistsError extends Error {
  constructor(
    readonly instanceId: string,
    readonly runtimeStatus: RuntimeStatus,
  ) {
    super(`An Orchestration instance with the status ${runtimeStatus} already exists.`);
    this.name = 'InstanceExistsError';
  }
}

/** An instance id DurableClient.StartNewAsync refuses (ArgumentException). */
export class InvalidInstanceIdError extends Error {
  constructor(
    readonly instanceId: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'InvalidInstanceIdError';
  }
}

const MAX_INSTANCE_ID_LENGTH = 256;

/** An execution id as DurableTask.Core makes them: `Guid.NewGuid().ToString("N")`. */
const newExecutionId = (): string => randomUUID().replace(/-/g, '');

/**
 * The id of a sub-orchestration started without one: DurableTask.Core's
 * TaskOrchestrationContext.CreateSubOrchestrationInstance uses `{parent executionId}:{task id}`.
 */
const defaultChildInstanceId = (parent: Instance, taskId: number): string => `${parent.executionId}:${taskId}`;

/**
 * Why DurableClient.StartNewAsync rejects an instance id, or undefined. The messages are .NET's
 * `ArgumentException.Message`: the extension passes (paramName, message) in swapped order for the
 * first two, so .NET prints them as `instanceId (Parameter '...')`.
 */
export function invalidInstanceIdReason(instanceId: string): string | undefined {
  if (instanceId.startsWith('@')) return "instanceId (Parameter 'Orchestration instance ids must not start with @.')";
  // char.IsControl: the C0 and C1 control characters.
  // eslint-disable-next-line no-control-regex
  if (/[/\\?#\u0000-\u001f\u007f-\u009f]/.test(instanceId)) {
    return "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')";
  }
  if (instanceId.length > MAX_INSTANCE_ID_LENGTH) return `Instance ID lengths must not exceed ${MAX_INSTANCE_ID_LENGTH} characters.`;
  return undefined;
}

/** The extension's cap on an orchestration's custom status (DurableOrchestrationContext.SetCustomStatus). */
export const MAX_CUSTOM_STATUS_KB = 16;

/**
 * Why the extension refuses a custom status (its JSON text), or undefined. The out-of-process shim
 * hands the status the SDK returned to DurableOrchestrationContext.SetCustomStatus, which
 * serializes it through MessagePayloadDataConverter.Serialize(value, 16): the size is the text's
 * UTF-16 byte count (2 per JS string unit) in whole KB, truncated, and more than 16 throws this
 * ArgumentException. So 8,703 units pass and 8,704 (17 KB) fail.
 */
export function customStatusTooLargeReason(json: string): string | undefined {
  const sizeKb = Math.trunc((json.length * 2) / 1024);
  if (sizeKb <= MAX_CUSTOM_STATUS_KB) return undefined;
  const n0 = (n: number): string => n.toLocaleString('en-US');
  return (
    `The UTF-16 size of the JSON-serialized payload must not exceed ${n0(MAX_CUSTOM_STATUS_KB)} KB. ` +
    `The current payload size is ${n0(sizeKb)} KB.`
  );
}

/**
 * The Durable Task Scheduler's message size limit, 1 MB (Azure/Durable-Task-Scheduler issue #24;
 * its large-payload support is not available to JavaScript). How an oversize payload of a JS app
 * fails there is not documented, and the Azure Storage backend host.json selects stores large
 * payloads in blobs, so devhost only warns past it (docs/devhost-durable.md, Size limits).
 */
export const DTS_MESSAGE_LIMIT_BYTES = 1024 * 1024;

export type OperationOutcome = 'accepted' | 'notFound' | 'gone';

/** The SDK's schema V2 (ReplaySchema.V2 = 1): no sub-timers for long timers, no HTTP polling tasks. */
const upperSchemaVersion = 1;
const outOfProcDataLabel = '\n\n$OutOfProcData$:';
const maxWakeDelayMs = 60 * 60 * 1000;

interface Outcome {
  status: RuntimeStatus;
  output?: string;
  failure?: { reason: string; details: string };
}

/**
 * The task hub: runs each orchestration episode through the app's registered orchestrator (the
 * SDK's own replay), executes the actions it returns, runs activities with a concurrency limit,
 * fires durable timers on the wall clock, and keeps everything in a DurableStore so a restarted
 * process resumes every in-flight instance.
 */
export class DurableEngine {
  readonly store: DurableStore;
  readonly taskHubName: string;
  private readonly invoker: DurableFunctionInvoker;
  private readonly maxConcurrentActivities: number;
  private readonly log: (line: string) => void;
  private readonly events = new EventEmitter();
  private readonly runningEpisodes = new Map<string, Promise<void>>();
  private readonly runningActivities = new Map<string, Promise<void>>();
  private started = false;
  private stopped = false;
  /** The store is closed: nothing more can be recorded. */
  private closed = false;
  private pumpQueued = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;

  constructor(options: DurableEngineOptions) {
    this.store = new DurableStore(options.storePath);
    this.invoker = options.invoker;
    this.taskHubName = options.taskHubName ?? 'DevHostHub';
    this.maxConcurrentActivities = options.maxConcurrentActivities ?? 16;
    this.log = options.log ?? (() => undefined);
    this.events.setMaxListeners(0);
  }

  /** Starts dispatching: resumes whatever the store holds in flight. */
  start(): void {
    this.started = true;
    this.kick();
  }

  /**
   * Stops dispatching, waits up to `graceMs` for running episodes and activities, then closes the
   * store. Whatever had not finished is not recorded and runs again after the next start.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([
      Promise.allSettled([...this.runningEpisodes.values(), ...this.runningActivities.values()]),
      grace,
    ]);
    clearTimeout(timer);
    this.closed = true;
    this.store.close();
  }

  // ---- client operations -------------------------------------------------------------------

  /**
   * Creates an instance; `input` is JSON text (undefined: no input). Returns the instance id.
   * Checks as DurableClient.StartNewAsync, in its order: the orchestrator exists, the id is valid,
   * no instance with that id is still pending, running or suspended.
   */
  startNew(name: string, options: { instanceId?: string; input?: string } = {}): string {
    if (!this.invoker.has(name, 'orchestration')) throw new UnknownOrchestrationError(name);
    const invalid = options.instanceId ? invalidInstanceIdReason(options.instanceId) : undefined;
    if (options.instanceId && invalid) throw new InvalidInstanceIdError(options.instanceId, invalid);
    const instanceId = options.instanceId || randomUUID().replace(/-/g, '');
    const now = Date.now();
    this.store.transaction(() => {
      const existing = this.store.getInstance(instanceId);
      if (existing && !isTerminal(existing.runtimeStatus)) throw new InstanceExistsError(instanceId, existing.runtimeStatus);
      if (existing) this.store.deleteInstance(instanceId);
      this.createInstance({ instanceId, name, input: options.input, now, parent: undefined });
    });
    this.log(`[durable] ${name} ${instanceId}: Pending`);
    this.warnIfLarge(instanceId, name, 'the orchestration input', options.input);
    this.events.emit('changed', instanceId);
    this.kick();
    return instanceId;
  }

  raiseEvent(instanceId: string, eventName: string, input: string | undefined): OperationOutcome {
    this.warnIfLarge(instanceId, undefined, `the payload of event '${eventName}'`, input);
    return this.send(instanceId, {
      kind: 'event',
      event: history.eventRaised(new Date(), eventName, input),
    });
  }

  terminate(instanceId: string, reason: string): OperationOutcome {
    return this.send(instanceId, { kind: 'terminate', reason });
  }

  suspend(instanceId: string, reason: string | undefined): OperationOutcome {
    return this.send(instanceId, { kind: 'suspend', ...(reason === undefined ? {} : { reason }) });
  }

  resume(instanceId: string, reason: string | undefined): OperationOutcome {
    return this.send(instanceId, { kind: 'resume', ...(reason === undefined ? {} : { reason }) });
  }

  getInstance(instanceId: string): Instance | undefined {
    return this.store.getInstance(instanceId);
  }

  getHistory(instanceId: string): readonly HistoryEvent[] {
    return this.store.history(instanceId);
  }

  queryInstances(query: InstanceQuery, offset: number, limit: number): Instance[] {
    return this.store.queryInstances(query, offset, limit);
  }

  /**
   * Deletes an instance, its history and its pending work, whatever its status: the Azure Storage
   * task hub's purge by id (AzureTableTrackingStore.PurgeInstanceHistoryAsync) checks no status.
   * Results that arrive later for it (an activity in flight, a child's completion) find nothing
   * and are dropped.
   */
  purge(instanceId: string): 'deleted' | 'notFound' {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return 'notFound';
    this.store.transaction(() => this.store.deleteInstance(instanceId));
    this.store.dropCache(instanceId);
    this.events.emit('changed', instanceId);
    return 'deleted';
  }

  /** Deletes the terminal instances matching the filter; returns how many. */
  purgeWhere(query: InstanceQuery): number {
    const terminal: RuntimeStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];
    const statuses = query.runtimeStatus?.length ? query.runtimeStatus.filter((s) => terminal.includes(s)) : terminal;
    if (statuses.length === 0) return 0;
    const victims = this.store.queryInstances({ ...query, runtimeStatus: statuses }, 0, Number.MAX_SAFE_INTEGER);
    this.store.transaction(() => victims.forEach((v) => this.store.deleteInstance(v.instanceId)));
    return victims.length;
  }

  /** Resolves with the instance once `predicate` holds (checked on every status change). */
  async waitFor(
    instanceId: string,
    predicate: (instance: Instance) => boolean = (i) => isTerminal(i.runtimeStatus),
    timeoutMs = 30_000,
  ): Promise<Instance> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const instance = this.store.getInstance(instanceId);
        if (instance && predicate(instance)) {
          cleanup();
          resolve(instance);
          return true;
        }
        return false;
      };
      const onChange = (id: string): void => {
        if (id === instanceId) check();
      };
      const timer = setTimeout(() => {
        cleanup();
        const status = this.store.getInstance(instanceId)?.runtimeStatus ?? 'missing';
        reject(new Error(`instance '${instanceId}' did not reach the awaited state within ${timeoutMs} ms (${status})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('changed', onChange);
      };
      this.events.on('changed', onChange);
      check();
    });
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private send(instanceId: string, message: InboxMessage): OperationOutcome {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return 'notFound';
    if (isTerminal(instance.runtimeStatus)) return 'gone';
    this.store.enqueue(instanceId, undefined, message, Date.now());
    this.kick();
    return 'accepted';
  }

  private kick(): void {
    if (!this.started || this.stopped || this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      if (!this.stopped) this.pump();
    });
  }

  private pump(): void {
    const now = Date.now();
    for (const instanceId of this.store.readyInstances(now)) {
      if (this.runningEpisodes.has(instanceId)) continue;
      const run = this.runEpisode(instanceId).finally(() => {
        this.runningEpisodes.delete(instanceId);
        this.kick();
      });
      this.runningEpisodes.set(instanceId, run);
    }
    const free = this.maxConcurrentActivities - this.runningActivities.size;
    if (free > 0) {
      const items = this.store
        .workItems(this.maxConcurrentActivities + this.runningActivities.size)
        .filter((item) => !this.runningActivities.has(item.id))
        .slice(0, free);
      for (const item of items) {
        const run = this.runActivity(item).finally(() => {
          this.runningActivities.delete(item.id);
          this.kick();
        });
        this.runningActivities.set(item.id, run);
      }
    }
    this.scheduleWake(now);
  }

  private scheduleWake(now: number): void {
    const next = this.store.nextVisibleAt(now);
    if (next === undefined || next >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    // Node timers overflow past ~24.8 days; far timers are reached in hourly hops.
    const delay = Math.min(Math.max(0, next - now), maxWakeDelayMs);
    this.wakeAt = now + delay;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.wakeTimer = undefined;
      this.kick();
    }, delay);
  }

  private async runActivity(item: WorkItem): Promise<void> {
    let event: HistoryEvent;
    try {
      if (!this.invoker.has(item.name, 'activity')) {
        throw new Error(`The function '${item.name}' doesn't exist, is disabled, or is not an activity function.`);
      }
      const input = item.input === undefined ? undefined : (JSON.parse(item.input) as unknown);
      const result = await this.invoker.invokeActivity(item.name, input, {
        instanceId: item.instanceId,
        taskId: item.taskId,
      });
      const output = jsonText(result);
      this.warnIfLarge(item.instanceId, undefined, `the output of activity '${item.name}'`, output);
      event = history.taskCompleted(new Date(), item.taskId, output);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      event = history.taskFailed(
        new Date(),
        item.taskId,
        `Activity function '${item.name}' failed: ${error.message}`,
        error.stack ?? error.message,
      );
    }
    // A result that comes while the host stops (it waits for running activities) is kept, so the
    // activity does not run again; one after the store closed is lost: it runs again after restart.
    if (this.closed) return;
    this.store.completeWorkItem(item, event, Date.now());
  }

  private async runEpisode(instanceId: string): Promise<void> {
    try {
      await this.episode(instanceId);
    } catch (err) {
      if (this.stopped) return;
      // An engine fault must not spin on the same messages forever: fail the instance.
      this.store.dropCache(instanceId);
      const error = err instanceof Error ? err : new Error(String(err));
      const instance = this.store.getInstance(instanceId);
      if (instance && !isTerminal(instance.runtimeStatus)) {
        this.store.transaction(() =>
          this.finish(instance, [], Date.now(), {
            status: 'Failed',
            output: JSON.stringify(`devhost durable engine error: ${error.message}`),
            failure: { reason: `devhost durable engine error: ${error.message}`, details: error.stack ?? '' },
          }),
        );
      } else {
        this.store.transaction(() => this.store.deletePending(instanceId));
      }
      this.log(`[durable] engine error in ${instanceId}: ${error.stack ?? error.message}`);
      this.events.emit('changed', instanceId);
    }
  }

  private async episode(instanceId: string): Promise<void> {
    const now = Date.now();
    const messages = this.store.visibleMessages(instanceId, now);
    if (messages.length === 0) return;
    const instance = this.store.getInstance(instanceId);
    if (!instance) {
      this.store.transaction(() => this.store.deleteMessages(messages.map((m) => m.id)));
      return;
    }
    if (this.applyControl(instance, messages, now)) return;
    const current = this.store.getInstance(instanceId);
    if (!current) return;
    await this.deliver(current, messages, now);
  }

  private async deliver(instance: Instance, messages: StoredMessage[], now: number): Promise<void> {
    const instanceId = instance.instanceId;

    const stale: number[] = [];
    const deliverable: StoredMessage[] = [];
    for (const m of messages) {
      if (m.message.kind !== 'start' && m.message.kind !== 'event') continue;
      if (m.executionId !== undefined && m.executionId !== instance.executionId) stale.push(m.id);
      else deliverable.push(m);
    }
    const batch = this.selectBatch(deliverable, instance.state);
    if (batch.length === 0) {
      if (stale.length > 0) this.store.transaction(() => this.store.deleteMessages(stale));
      return;
    }

    const state = structuredClone(instance.state);
    const at = new Date(now);
    const newEvents: HistoryEvent[] = [history.orchestratorStarted(at)];
    const effects = new EpisodeEffects();
    for (const m of batch) {
      if (m.message.kind === 'start') {
        newEvents.push(history.executionStarted(at, instance.name, instance.input));
      } else if (m.message.kind === 'event') {
        const event = m.message.event as HistoryEvent;
        newEvents.push(event);
        this.advanceRetry(instance, state, event, now, effects);
      }
    }

    const past = this.store.history(instanceId);
    const trigger: OrchestrationTriggerInput = {
      history: [...past, ...newEvents].map((e) => ({ ...e })),
      input: instance.input === undefined ? null : (JSON.parse(instance.input) as unknown),
      instanceId,
      isReplaying: past.length > 0,
      parentInstanceId: instance.parent?.instanceId ?? null,
      upperSchemaVersion,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };
    const reply = await this.invokeOrchestrator(instance.name, trigger);
    // A stopping host records nothing more: the episode replays after the next start.
    if (this.stopped) return;

    let outcome: Outcome;
    let customStatus = instance.customStatus;
    let continueAsNew: AtomicAction | undefined;
    const statusTooLarge = this.customStatusTooLarge(instance.name, reply);
    if (statusTooLarge) {
      // The extension sets the custom status before it schedules anything: nothing of this reply
      // is scheduled, and the instance's custom status becomes null (the episode set none).
      outcome = statusTooLarge;
      customStatus = undefined;
    } else if (reply.kind === 'failed') {
      // A replay that went down another path often fails on the way: report the real cause.
      const mismatch = reply.actions ? checkDeterminism(instance, state.scheduled, reply.actions) : undefined;
      outcome = mismatch
        ? this.failedOutcome(instance.name, mismatch, '')
        : this.failedOutcome(instance.name, reply.message, reply.details);
      if (reply.customStatus !== undefined) customStatus = reply.customStatus;
    } else {
      customStatus = jsonText(reply.state.customStatus) ?? customStatus;
      const planned = this.planActions(instance, state, reply.actions, now, effects);
      if (planned.error !== undefined) {
        outcome = this.failedOutcome(instance.name, planned.error, '');
      } else if (reply.state.isDone) {
        continueAsNew = reply.actions.find((a) => a.actionType === ActionType.ContinueAsNew);
        outcome = continueAsNew
          ? { status: 'Running' }
          : { status: 'Completed', output: jsonText(reply.state.output) ?? 'null' };
        this.warnIfLarge(instanceId, instance.name, 'the orchestration output', outcome.output);
      } else {
        outcome = { status: 'Running' };
      }
    }

    this.store.transaction(() => {
      const current = this.store.getInstance(instanceId);
      if (!current || current.executionId !== instance.executionId) return;
      this.store.deleteMessages([...stale, ...batch.map((m) => m.id)]);
      const updated: Instance = { ...instance, state, customStatus, lastUpdatedTime: now };
      if (continueAsNew) {
        this.continueAsNew(updated, continueAsNew, now);
        return;
      }
      const events = [...newEvents, ...effects.history, history.orchestratorCompleted(at)];
      if (isTerminal(outcome.status)) {
        this.finish(updated, events, now, outcome);
        return;
      }
      this.store.appendHistory(instanceId, events);
      effects.persist(this, updated, now);
      this.setStatus(updated, outcome.status);
      this.store.putInstance(updated);
    });
    if (reply.kind === 'ok' && reply.unreportedThrow && !statusTooLarge) {
      this.log(
        `[durable] ${instance.name} ${instanceId}: the orchestrator threw a value with no error message (a string, an object ` +
          'without a message, new Error()): the Durable extension does not fail the instance for it, it stays Running ' +
          '(durable-functions issue #390). Throw an Error with a message.',
      );
    }
    this.events.emit('changed', instanceId);
  }

  /** Terminate / suspend / resume; returns true when nothing else should run this time. */
  private applyControl(instance: Instance, messages: StoredMessage[], now: number): boolean {
    const control = messages.filter((m) => m.message.kind !== 'start' && m.message.kind !== 'event');
    if (isTerminal(instance.runtimeStatus)) {
      // Late completions, timers or events for an ended instance are dropped.
      this.store.transaction(() => this.store.deleteMessages(messages.map((m) => m.id)));
      return true;
    }
    if (control.length === 0) return instance.runtimeStatus === 'Suspended';
    const at = new Date(now);
    let stop = false;
    this.store.transaction(() => {
      const updated: Instance = { ...instance, lastUpdatedTime: now };
      for (const m of control) {
        const msg = m.message;
        if (msg.kind === 'terminate') {
          this.finish(updated, [history.executionTerminated(at, msg.reason)], now, {
            status: 'Terminated',
            output: JSON.stringify(msg.reason),
          });
          stop = true;
          return;
        }
        if (msg.kind === 'suspend' && updated.runtimeStatus !== 'Suspended') {
          this.store.appendHistory(instance.instanceId, [history.executionSuspended(at, msg.reason)]);
          this.setStatus(updated, 'Suspended');
        } else if (msg.kind === 'resume' && updated.runtimeStatus === 'Suspended') {
          this.store.appendHistory(instance.instanceId, [history.executionResumed(at, msg.reason)]);
          this.setStatus(updated, 'Running');
        }
      }
      this.store.deleteMessages(control.map((m) => m.id));
      this.store.putInstance(updated);
      stop = updated.runtimeStatus === 'Suspended';
    });
    this.events.emit('changed', instance.instanceId);
    return stop;
  }

  /**
   * The messages of one episode, in arrival order. A completion that moves a retry on (an
   * attempt's failure, a backoff timer) makes the SDK take a task id while it replays that event;
   * delivering it first in its episode keeps that id ahead of the ids of newly yielded tasks.
   */
  private selectBatch(messages: StoredMessage[], state: ExecutionState): StoredMessage[] {
    const batch: StoredMessage[] = [];
    for (const m of messages) {
      const retryStep = m.message.kind === 'event' && isRetryStep(m.message.event as HistoryEvent, state);
      if (retryStep && batch.length > 0) break;
      batch.push(m);
    }
    return batch;
  }

  /** Mirrors RetryableTask: an attempt failed -> backoff timer; the timer fired -> next attempt. */
  private advanceRetry(instance: Instance, state: ExecutionState, event: HistoryEvent, now: number, effects: EpisodeEffects): void {
    const at = new Date(now);
    const failedAttempt =
      event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed
        ? event.TaskScheduledId
        : undefined;
    const failedRetry = failedAttempt === undefined ? undefined : state.retryAttempts[failedAttempt];
    if (failedAttempt !== undefined && failedRetry) {
      delete state.retryAttempts[failedAttempt];
      const retry: RetryState = { ...failedRetry, lastReason: event.Reason, lastDetails: event.Details };
      const timerId = state.nextSeq++;
      const fireAt = new Date(now + retryDelayMs(retry.options, retry.attempt, retry.firstAttemptAt, now));
      effects.history.push(history.timerCreated(at, timerId, fireAt));
      effects.timers.push({ timerId, fireAt });
      state.retryTimers[String(timerId)] = retry;
      return;
    }
    const timerRetry = event.EventType === EventType.TimerFired ? state.retryTimers[String(event.TimerId)] : undefined;
    if (event.EventType !== EventType.TimerFired || !timerRetry) return;
    delete state.retryTimers[String(event.TimerId)];
    // After the last attempt the SDK fails the task on this timer and takes no new id.
    if (timerRetry.attempt >= timerRetry.options.maxNumberOfAttempts) return;
    const taskId = state.nextSeq++;
    const retry: RetryState = { ...timerRetry, attempt: timerRetry.attempt + 1 };
    state.retryAttempts[String(taskId)] = retry;
    if (retryTimedOut(retry.options, retry.firstAttemptAt, now)) {
      // The retry timeout has passed: the attempt is not run, it fails with the last error.
      effects.history.push(
        retry.kind === 'activity'
          ? history.taskScheduled(at, taskId, retry.name, retry.input)
          : history.subOrchestrationCreated(at, taskId, retry.name, retry.childInstanceId ?? '', retry.input),
      );
      const reason = retry.lastReason ?? `${retry.name} failed`;
      const details = retry.lastDetails ?? '';
      effects.selfEvents.push(
        retry.kind === 'activity'
          ? history.taskFailed(at, taskId, reason, details)
          : history.subOrchestrationFailed(at, taskId, reason, details),
      );
      return;
    }
    if (retry.kind === 'activity') {
      effects.scheduleActivity(instance, taskId, retry.name, retry.input, at);
    } else {
      const childId = retry.childInstanceId ?? defaultChildInstanceId(instance, taskId);
      effects.scheduleChild(taskId, retry.name, childId, retry.input, at);
    }
  }

  private async invokeOrchestrator(
    name: string,
    trigger: OrchestrationTriggerInput,
  ): Promise<
    | { kind: 'ok'; state: OrchestratorState; actions: AtomicAction[]; unreportedThrow?: true }
    | { kind: 'failed'; message: string; details: string; customStatus?: string; actions?: AtomicAction[] }
  > {
    if (!this.invoker.has(name, 'orchestration')) {
      return { kind: 'failed', message: new UnknownOrchestrationError(name).message, details: '' };
    }
    try {
      const raw = await this.invoker.invokeOrchestrator(name, trigger);
      const state = orchestratorStateSchema.parse(raw);
      return { kind: 'ok', state, actions: flattenActions(state.actions) };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const cut = error.message.indexOf(outOfProcDataLabel);
      if (cut < 0) return { kind: 'failed', message: error.message, details: error.stack ?? '' };
      // The text before the label is not the error (the SDK passes a boolean there); the state's
      // `error` field holds the orchestrator's real message.
      let message = error.message.slice(0, cut);
      let customStatus: string | undefined;
      let actions: AtomicAction[] | undefined;
      try {
        const data = orchestratorStateSchema
          .partial()
          .parse(JSON.parse(error.message.slice(cut + outOfProcDataLabel.length)));
        if (data.actions !== undefined && !data.error) {
          // The SDK's state says why only through `error` (the thrown value's `message`): a thrown
          // string, object without a message or `new Error()` leaves it empty, and the extension
          // (OutOfProcOrchestrationShim.ScheduleDurableTaskEvents) then fails nothing: it
          // schedules the actions and, the state not being done, the instance stays Running.
          const state: OrchestratorState = { ...data, actions: data.actions, isDone: false };
          return { kind: 'ok', state, actions: flattenActions(data.actions), unreportedThrow: true };
        }
        customStatus = jsonText(data.customStatus);
        if (data.error !== undefined) message = data.error;
        if (data.actions !== undefined) actions = flattenActions(data.actions);
      } catch {
        customStatus = undefined;
      }
      const details = (error.stack ?? '').split(outOfProcDataLabel)[0]?.split('\n').slice(1).join('\n') ?? '';
      return { kind: 'failed', message, details, ...(customStatus === undefined ? {} : { customStatus }), ...(actions ? { actions } : {}) };
    }
  }

  /**
   * The failure the extension reports for a reply whose custom status is over 16 KB, or undefined.
   * SetCustomStatus throws an ArgumentException. After a normal reply it is caught with the
   * orchestrator's own errors: `Orchestrator function '<name>' failed: <message>`. After an
   * orchestrator threw (the SDK's state rides on the exception), the shim replays that state from
   * inside its catch block, so the ArgumentException escapes to the Durable Task Framework, which
   * fails the instance with the bare message (TaskOrchestrationContext.FailOrchestration).
   */
  private customStatusTooLarge(name: string, reply: Awaited<ReturnType<DurableEngine['invokeOrchestrator']>>): Outcome | undefined {
    const text = reply.kind === 'failed' ? reply.customStatus : jsonText(reply.state.customStatus);
    const message = text === undefined ? undefined : customStatusTooLargeReason(text);
    if (message === undefined) return undefined;
    const thrown = reply.kind === 'failed' || reply.unreportedThrow === true;
    if (!thrown) return this.failedOutcome(name, message, '');
    return {
      status: 'Failed',
      output: JSON.stringify(message),
      failure: { reason: message, details: `Unhandled exception while executing orchestration: System.ArgumentException: ${message}` },
    };
  }

  /**
   * Logs a payload (JSON text) over the Durable Task Scheduler's 1 MB message limit. Nothing
   * fails: on host.json's Azure Storage backend the payload is stored in a blob, as here.
   */
  private warnIfLarge(instanceId: string, name: string | undefined, what: string, text: string | undefined): void {
    if (text === undefined || text.length * 3 <= DTS_MESSAGE_LIMIT_BYTES) return;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= DTS_MESSAGE_LIMIT_BYTES) return;
    const orchestration = name ?? this.store.getInstance(instanceId)?.name ?? '?';
    this.log(
      `[durable] ${orchestration} ${instanceId}: ${what} is ${(bytes / DTS_MESSAGE_LIMIT_BYTES).toFixed(2)} MB of JSON. The Azure ` +
        'Storage backend (host.json) stores it in a blob, but the Durable Task Scheduler backend limits a message to 1 MB and ' +
        'has no large-payload support for JavaScript, so there it may fail. Pass a blob path instead ' +
        '(docs/devhost-durable.md, Size limits).',
    );
  }

  /**
   * A sub-orchestration started on an id a running instance holds: devhost fails the call, which
   * Azure does not do (docs/devhost-durable.md, Sub-orchestration ids already in use), so an app
   * that catches the failure would pass here and not there. Said once per such start.
   */
  warnChildIdInUse(parent: Instance, childId: string, status: RuntimeStatus): void {
    this.log(
      `[durable] ${parent.name} ${parent.instanceId}: starts a sub-orchestration on instance id '${childId}', which is ${status}; ` +
        'devhost fails the call. On Azure a second start of a sub-orchestration id is not refused: the Azure Storage backend runs it ' +
        'as a new execution over the running one, whose parent then never hears back. Let one caller start it ' +
        '(docs/devhost-durable.md, Sub-orchestration ids already in use).',
    );
  }

  private failedOutcome(name: string, message: string, details: string): Outcome {
    const reason = `Orchestrator function '${name}' failed: ${message}`;
    return { status: 'Failed', output: JSON.stringify(reason), failure: { reason, details } };
  }

  /**
   * Checks the reply against what earlier episodes scheduled (non-determinism) and turns the
   * new actions into history events, work items, timers and child instances.
   */
  private planActions(
    instance: Instance,
    state: ExecutionState,
    actions: AtomicAction[],
    now: number,
    effects: EpisodeEffects,
  ): { error?: string } {
    const at = new Date(now);
    const known = state.scheduled;
    const mismatch = checkDeterminism(instance, known, actions);
    if (mismatch !== undefined) return { error: mismatch };
    known.forEach((before, i) => {
      const action = actions[i]!;
      if (action.actionType === ActionType.CreateTimer && action.isCanceled && !before.canceled) {
        before.canceled = true;
        if (before.taskId !== null) effects.canceledTimers.push(before.taskId);
      }
    });
    for (const action of actions.slice(known.length)) {
      const taskId = takesTaskId(action) ? state.nextSeq++ : null;
      const signature = actionSignature(action);
      known.push({ signature, taskId, ...(action.isCanceled ? { canceled: true } : {}) });
      if (taskId === null) continue;
      const name = action.functionName ?? '';
      switch (action.actionType) {
        case ActionType.CallActivity:
        case ActionType.CallActivityWithRetry: {
          const input = jsonText(decodeProcessedInput(action.input));
          this.warnIfLarge(instance.instanceId, instance.name, `the input of activity '${name}'`, input);
          effects.scheduleActivity(instance, taskId, name, input, at);
          if (action.retryOptions) {
            state.retryAttempts[String(taskId)] = {
              kind: 'activity',
              name,
              ...(input === undefined ? {} : { input }),
              options: action.retryOptions,
              attempt: 1,
              firstAttemptAt: now,
            };
          }
          break;
        }
        case ActionType.CallSubOrchestrator:
        case ActionType.CallSubOrchestratorWithRetry: {
          const input = jsonText(action.input);
          this.warnIfLarge(instance.instanceId, instance.name, `the input of sub-orchestration '${name}'`, input);
          const childId = action.instanceId ?? defaultChildInstanceId(instance, taskId);
          effects.scheduleChild(taskId, name, childId, input, at);
          if (action.retryOptions) {
            state.retryAttempts[String(taskId)] = {
              kind: 'orchestration',
              name,
              ...(input === undefined ? {} : { input }),
              ...(action.instanceId === undefined ? {} : { childInstanceId: action.instanceId }),
              options: action.retryOptions,
              attempt: 1,
              firstAttemptAt: now,
            };
          }
          break;
        }
        case ActionType.CreateTimer: {
          if (action.isCanceled || action.fireAt === undefined) break;
          const fireAt = new Date(action.fireAt);
          effects.history.push(history.timerCreated(at, taskId, fireAt));
          effects.timers.push({ timerId: taskId, fireAt });
          break;
        }
        default:
          return {
            error: `devhost does not support ${signature} actions (durable entities and durable HTTP calls are not implemented).`,
          };
      }
    }
    return {};
  }

  private continueAsNew(instance: Instance, action: AtomicAction, now: number): void {
    const input = jsonText(decodeProcessedInput(action.input));
    this.warnIfLarge(instance.instanceId, instance.name, 'the continueAsNew input', input);
    this.store.deletePending(instance.instanceId);
    this.store.clearHistory(instance.instanceId);
    const next: Instance = {
      ...instance,
      executionId: newExecutionId(),
      input,
      output: undefined,
      state: freshExecutionState(),
      lastUpdatedTime: now,
    };
    this.log(`[durable] ${instance.name} ${instance.instanceId}: ContinuedAsNew`);
    this.setStatus(next, 'Running');
    this.store.putInstance(next);
    this.store.enqueue(next.instanceId, next.executionId, { kind: 'start' }, now);
  }

  /** Ends an instance (inside a transaction): final history, status, parent notification. */
  private finish(instance: Instance, events: HistoryEvent[], now: number, outcome: Outcome): void {
    const at = new Date(now);
    const final =
      outcome.status === 'Completed'
        ? [history.executionCompleted(at, outcome.output)]
        : outcome.status === 'Failed'
          ? [history.executionFailed(at, outcome.failure?.reason ?? '', outcome.failure?.details ?? '')]
          : [];
    this.store.appendHistory(instance.instanceId, [...events, ...final]);
    this.store.deletePending(instance.instanceId);
    const ended: Instance = { ...instance, output: outcome.output, lastUpdatedTime: now };
    this.setStatus(ended, outcome.status);
    this.store.putInstance(ended);
    // Ended instances are only read by the status API: keep their history out of memory.
    this.store.dropCache(instance.instanceId);
    const parent = instance.parent;
    if (!parent) return;
    const event =
      outcome.status === 'Completed'
        ? history.subOrchestrationCompleted(at, parent.taskId, outcome.output)
        : outcome.status === 'Failed'
          ? history.subOrchestrationFailed(
              at,
              parent.taskId,
              outcome.failure?.reason ?? 'sub-orchestration failed',
              outcome.failure?.details ?? '',
            )
          : undefined;
    if (event) this.store.enqueue(parent.instanceId, parent.executionId, { kind: 'event', event }, now);
  }

  private setStatus(instance: Instance, status: RuntimeStatus): void {
    if (instance.runtimeStatus !== status) {
      const detail = status === 'Failed' && instance.output ? ` ${truncate(instance.output)}` : '';
      this.log(`[durable] ${instance.name} ${instance.instanceId}: ${instance.runtimeStatus} -> ${status}${detail}`);
    }
    instance.runtimeStatus = status;
  }

  /** Inserts a new Pending instance with its start message (inside a transaction). */
  createInstance(args: {
    instanceId: string;
    name: string;
    input: string | undefined;
    now: number;
    parent: Instance['parent'];
  }): void {
    const instance: Instance = {
      instanceId: args.instanceId,
      name: args.name,
      executionId: newExecutionId(),
      runtimeStatus: 'Pending',
      input: args.input,
      output: undefined,
      customStatus: undefined,
      createdTime: args.now,
      lastUpdatedTime: args.now,
      parent: args.parent,
      state: freshExecutionState(),
    };
    this.store.putInstance(instance);
    this.store.enqueue(instance.instanceId, instance.executionId, { kind: 'start' }, args.now);
  }

  hasOrchestration(name: string): boolean {
    return this.invoker.has(name, 'orchestration');
  }
}

function isRetryStep(event: HistoryEvent, state: ExecutionState): boolean {
  if (event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed) {
    return state.retryAttempts[String(event.TaskScheduledId)] !== undefined;
  }
  if (event.EventType === EventType.TimerFired) return state.retryTimers[String(event.TimerId)] !== undefined;
  return false;
}

/**
 * Compares a replay's actions with those recorded by earlier episodes of the execution: the
 * same type and target at every recorded position, and none missing. Returns the error message.
 */
function checkDeterminism(instance: Instance, known: ExecutionState['scheduled'], actions: AtomicAction[]): string | undefined {
  for (let i = 0; i < Math.min(known.length, actions.length); i++) {
    const recorded = known[i]!.signature;
    const signature = actionSignature(actions[i]!);
    if (recorded !== signature) return nonDeterminism(instance, i, recorded, `now schedules ${signature}`);
  }
  if (actions.length < known.length) {
    return nonDeterminism(instance, actions.length, known[actions.length]!.signature, 'no longer schedules it');
  }
  return undefined;
}

function nonDeterminism(instance: Instance, index: number, recorded: string, now: string): string {
  return (
    `Non-deterministic workflow detected: a previous execution of orchestration '${instance.name}' ` +
    `(instance '${instance.instanceId}') scheduled ${recorded} as its action #${index + 1}, but the current replay ${now}. ` +
    'Was the orchestrator code changed while this instance was in flight? Orchestrators must be deterministic.'
  );
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** What one episode schedules, persisted in the episode's transaction. */
class EpisodeEffects {
  readonly history: HistoryEvent[] = [];
  readonly workItems: WorkItem[] = [];
  readonly timers: { timerId: number; fireAt: Date }[] = [];
  readonly canceledTimers: number[] = [];
  readonly children: { taskId: number; name: string; instanceId: string; input: string | undefined }[] = [];
  /** Completions the engine decides itself (e.g. an attempt skipped after the retry timeout). */
  readonly selfEvents: HistoryEvent[] = [];

  scheduleActivity(instance: Instance, taskId: number, name: string, input: string | undefined, at: Date): void {
    this.history.push(history.taskScheduled(at, taskId, name, input));
    this.workItems.push({
      id: `${instance.instanceId}|${instance.executionId}|${taskId}`,
      instanceId: instance.instanceId,
      executionId: instance.executionId,
      taskId,
      name,
      input,
    });
  }

  scheduleChild(taskId: number, name: string, instanceId: string, input: string | undefined, at: Date): void {
    this.history.push(history.subOrchestrationCreated(at, taskId, name, instanceId, input));
    this.children.push({ taskId, name, instanceId, input });
  }

  persist(engine: DurableEngine, instance: Instance, now: number): void {
    const store = engine.store;
    const at = new Date(now);
    for (const item of this.workItems) store.addWorkItem(item);
    for (const t of this.timers) {
      store.enqueue(
        instance.instanceId,
        instance.executionId,
        { kind: 'event', event: history.timerFired(t.fireAt, t.timerId, t.fireAt.toISOString()) },
        t.fireAt.getTime(),
      );
    }
    for (const timerId of this.canceledTimers) store.cancelTimer(instance.instanceId, timerId);
    for (const event of this.selfEvents) {
      store.enqueue(instance.instanceId, instance.executionId, { kind: 'event', event }, now);
    }
    for (const child of this.children) {
      const existing = store.getInstance(child.instanceId);
      // A child that cannot start fails its task in the parent's next episode.
      const failChild = (reason: string): void =>
        store.enqueue(
          instance.instanceId,
          instance.executionId,
          { kind: 'event', event: history.subOrchestrationFailed(at, child.taskId, reason, '') },
          now,
        );
      if (existing && !isTerminal(existing.runtimeStatus)) {
        engine.warnChildIdInUse(instance, child.instanceId, existing.runtimeStatus);
        failChild(new InstanceExistsError(child.instanceId, existing.runtimeStatus).message);
        continue;
      }
      if (existing) store.deleteInstance(child.instanceId);
      if (!engine.hasOrchestration(child.name)) {
        failChild(new UnknownOrchestrationError(child.name).message);
        continue;
      }
      engine.createInstance({
        instanceId: child.instanceId,
        name: child.name,
        input: child.input,
        now,
        parent: { instanceId: instance.instanceId, executionId: instance.executionId, taskId: child.taskId },
      });
    }
  }
}
