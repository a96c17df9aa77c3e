/**
 * Orchestrator test harness: replays a registered orchestration through the durable-functions
 * SDK's own replay (invoked through the devhost worker, as devhost runs it) with a history built
 * step by step, for fast tests of every branch without a task hub.
 *
 *   const h = orchestrationHarness('modelLifecycle', { input });
 *   let step = await h.start();                       // first episode
 *   const check = step.newActions[0];                 // { taskId: 0, kind: 'CallActivity', name, input }
 *   step = await h.completeActivity(check.taskId, { ok: true });
 *   step = await h.raiseEvent('approval', { approved: true });
 *   expect(step.isDone).toBe(true); expect(step.output).toEqual(...);
 *
 * Each step delivers one new event in its own episode, as devhost does for retry steps. Task ids
 * are the SDK's sequence numbers: new actions in yield order (Task.all / Task.any children in
 * array order), waits for external events take none, and a retried call takes one id for its
 * backoff timer after each failure and one for each further attempt (`retryTimer`, `retryAttempt`).
 */
import {
  ActionType,
  type AtomicAction,
  decodeProcessedInput,
  flattenActions,
  orchestratorStateSchema,
  takesTaskId,
} from '../../devhost/durable/actions';
import { customStatusTooLargeReason } from '../../devhost/durable/engine';
import { history, type HistoryEvent, jsonText } from '../../devhost/durable/history';
import type { OrchestrationTriggerInput } from '../../devhost/durable/invoker';
import { retryDelayMs } from '../../devhost/durable/retry';
import { defaultWorker } from '../../devhost/worker';

const kinds = new Map<number, string>(Object.entries(ActionType).map(([k, v]) => [v, k]));

/** An action the orchestrator returned, with the task id the SDK gave it (null: takes none). */
export interface HarnessAction {
  taskId: number | null;
  kind: string;
  /** Activity / sub-orchestrator name, or the external event name. */
  name?: string;
  /** The input as the callee receives it. */
  input?: unknown;
  fireAt?: Date;
  isCanceled?: boolean;
  instanceId?: string;
}

export interface EpisodeResult {
  isDone: boolean;
  /** The orchestrator threw (or replay failed): `error` holds its message. */
  failed: boolean;
  error?: string;
  output: unknown;
  customStatus: unknown;
  /** Every action since the execution began, as the SDK reports them. */
  actions: HarnessAction[];
  /** The actions first scheduled in this episode. */
  newActions: HarnessAction[];
  /** Set when the orchestrator called continueAsNew: the next execution's input. */
  continuedAsNewWith?: unknown;
  /** After failActivity on a retried call: the backoff timer the SDK now waits for. */
  retryTimer?: { taskId: number; fireAt: Date };
  /** After fireTimer on a retry timer with attempts left: the next attempt's task id. */
  retryAttempt?: number;
}

interface RetryTrack {
  name: string;
  attempt: number;
  maxAttempts: number;
  firstAttemptAt: number;
  options: NonNullable<AtomicAction['retryOptions']>;
}

export interface HarnessOptions {
  input?: unknown;
  instanceId?: string;
  /** The orchestration's clock at start (default 2026-01-01T00:00:00Z). */
  startTime?: Date;
  parentInstanceId?: string;
}

export class OrchestrationHarness {
  private readonly events: HistoryEvent[] = [];
  private readonly known: HarnessAction[] = [];
  private readonly retries = new Map<number, RetryTrack>();
  private readonly retryTimers = new Map<number, RetryTrack>();
  private readonly resolved = new Set<number>();
  private nextSeq = 0;
  private now: number;
  private started = false;

  constructor(
    readonly name: string,
    private readonly options: HarnessOptions = {},
  ) {
    this.now = (options.startTime ?? new Date('2026-01-01T00:00:00Z')).getTime();
    if (!defaultWorker().getFunction(name)) {
      throw new Error(`No function '${name}' is registered: import the module that registers it first.`);
    }
  }

  /** The history built so far (PascalCase events, as the SDK replays them). */
  get history(): readonly HistoryEvent[] {
    return this.events;
  }

  /** Scheduled tasks not yet completed, failed or fired (cancelled timers excluded), oldest first. */
  pendingTasks(): HarnessAction[] {
    return this.known.filter((a) => a.taskId !== null && !a.isCanceled && !this.resolved.has(a.taskId));
  }

  /** The most recently scheduled action calling `name` (activity, sub-orchestrator or event). */
  lastScheduled(name: string): HarnessAction | undefined {
    return [...this.known].reverse().find((a) => a.name === name);
  }

  /** Moves the orchestration clock forward (the next episode starts later). */
  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  async start(): Promise<EpisodeResult> {
    if (this.started) throw new Error('start() runs the first episode once');
    this.started = true;
    const at = new Date(this.now);
    return this.episode([history.executionStarted(at, this.name, jsonText(this.options.input))]);
  }

  async completeActivity(taskId: number, result?: unknown): Promise<EpisodeResult> {
    this.expectTask(taskId);
    return this.episode([history.taskCompleted(new Date(this.now), taskId, jsonText(result))]);
  }

  /** Fails an activity the way devhost records a thrown error. */
  async failActivity(taskId: number, message: string): Promise<EpisodeResult> {
    const name = this.expectTask(taskId).name ?? '';
    return this.episode(
      [history.taskFailed(new Date(this.now), taskId, `Activity function '${name}' failed: ${message}`, `Error: ${message}`)],
      taskId,
    );
  }

  async completeSubOrchestration(taskId: number, result?: unknown): Promise<EpisodeResult> {
    this.expectTask(taskId);
    return this.episode([history.subOrchestrationCompleted(new Date(this.now), taskId, jsonText(result))]);
  }

  async failSubOrchestration(taskId: number, message: string): Promise<EpisodeResult> {
    const name = this.expectTask(taskId).name ?? '';
    return this.episode(
      [history.subOrchestrationFailed(new Date(this.now), taskId, `Orchestrator function '${name}' failed: ${message}`, '')],
      taskId,
    );
  }

  /** Fires a timer; the clock moves to its fireAt if that is later. */
  async fireTimer(taskId: number): Promise<EpisodeResult> {
    const retry = this.retryTimers.get(taskId);
    const timer = this.known.find((a) => a.taskId === taskId && a.kind === 'CreateTimer');
    const fireAt = timer?.fireAt ?? (retry ? new Date(this.now) : undefined);
    if (!fireAt) throw new Error(`No timer with task id ${taskId} was scheduled`);
    if (timer?.isCanceled) throw new Error(`Timer ${taskId} was cancelled; a cancelled timer never fires`);
    this.now = Math.max(this.now, fireAt.getTime());
    return this.episode([history.timerFired(new Date(this.now), taskId, fireAt.toISOString())], undefined, taskId);
  }

  async raiseEvent(name: string, data?: unknown): Promise<EpisodeResult> {
    return this.episode([history.eventRaised(new Date(this.now), name, jsonText(data))]);
  }

  private expectTask(taskId: number): HarnessAction {
    const action = this.known.find((a) => a.taskId === taskId);
    if (action) return action;
    const retried = this.retries.get(taskId);
    if (retried) return { taskId, kind: 'RetryAttempt', name: retried.name };
    throw new Error(`No task with id ${taskId} was scheduled (known: ${this.known.map((a) => a.taskId).join(', ')})`);
  }

  private async episode(newEvents: HistoryEvent[], failedTask?: number, firedTimer?: number): Promise<EpisodeResult> {
    const at = new Date(this.now);
    for (const e of newEvents) {
      const id = e.TaskScheduledId ?? e.TimerId;
      if (id !== undefined) this.resolved.add(id);
    }
    this.events.push(history.orchestratorStarted(at), ...newEvents);
    const extra: Pick<EpisodeResult, 'retryTimer' | 'retryAttempt'> = {};
    // Mirror RetryableTask: a failed attempt -> backoff timer id; a fired backoff timer -> next attempt id.
    const failedRetry = failedTask === undefined ? undefined : this.retries.get(failedTask);
    if (failedTask !== undefined && failedRetry) {
      this.retries.delete(failedTask);
      const taskId = this.nextSeq++;
      const fireAt = new Date(this.now + retryDelayMs(failedRetry.options, failedRetry.attempt, failedRetry.firstAttemptAt, this.now));
      this.retryTimers.set(taskId, failedRetry);
      extra.retryTimer = { taskId, fireAt };
    }
    const timerRetry = firedTimer === undefined ? undefined : this.retryTimers.get(firedTimer);
    if (firedTimer !== undefined && timerRetry) {
      this.retryTimers.delete(firedTimer);
      if (timerRetry.attempt < timerRetry.maxAttempts) {
        const taskId = this.nextSeq++;
        this.retries.set(taskId, { ...timerRetry, attempt: timerRetry.attempt + 1 });
        extra.retryAttempt = taskId;
      }
    }

    const trigger: OrchestrationTriggerInput = {
      history: this.events.map((e) => ({ ...e })),
      input: this.options.input ?? null,
      instanceId: this.options.instanceId ?? 'harness-instance',
      isReplaying: this.events.length > newEvents.length + 1,
      parentInstanceId: this.options.parentInstanceId ?? null,
      upperSchemaVersion: 1,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };
    let raw: unknown;
    try {
      raw = (await defaultWorker().invoke(this.name, { triggerValue: trigger, quiet: true })).returnValue;
    } catch (err) {
      return { ...this.failure(err), ...extra };
    }
    const state = orchestratorStateSchema.parse(raw);
    // As on Azure (and devhost): a custom status over 16 KB of UTF-16 JSON fails the episode.
    const statusTooLarge = tooLargeStatus(state.customStatus);
    if (statusTooLarge) return { isDone: false, failed: true, error: statusTooLarge, output: undefined, customStatus: null, actions: [...this.known], newActions: [], ...extra };
    const all = flattenActions(state.actions);
    const newActions: HarnessAction[] = [];
    all.forEach((action, i) => {
      const existing = this.known[i];
      if (existing) {
        existing.isCanceled = action.isCanceled ?? existing.isCanceled;
        return;
      }
      const described = this.describe(action, takesTaskId(action) ? this.nextSeq++ : null);
      this.known.push(described);
      newActions.push(described);
      if (action.retryOptions && described.taskId !== null) {
        this.retries.set(described.taskId, {
          name: described.name ?? '',
          attempt: 1,
          maxAttempts: action.retryOptions.maxNumberOfAttempts,
          firstAttemptAt: this.now,
          options: action.retryOptions,
        });
      }
    });
    this.events.push(history.orchestratorCompleted(at));
    const continueAsNew = all.find((a) => a.actionType === ActionType.ContinueAsNew);
    return {
      isDone: state.isDone,
      failed: false,
      output: state.output,
      customStatus: state.customStatus,
      actions: [...this.known],
      newActions,
      ...(state.isDone && continueAsNew ? { continuedAsNewWith: decodeProcessedInput(continueAsNew.input) } : {}),
      ...extra,
    };
  }

  private describe(action: AtomicAction, taskId: number | null): HarnessAction {
    const kind = kinds.get(action.actionType) ?? `ActionType(${action.actionType})`;
    const isActivity = action.actionType === ActionType.CallActivity || action.actionType === ActionType.CallActivityWithRetry;
    const out: HarnessAction = { taskId, kind };
    const name = action.functionName ?? action.externalEventName;
    if (name !== undefined) out.name = name;
    if (action.input !== undefined) out.input = isActivity ? decodeProcessedInput(action.input) : action.input;
    if (action.fireAt !== undefined) out.fireAt = new Date(action.fireAt);
    if (action.isCanceled !== undefined) out.isCanceled = action.isCanceled;
    if (action.instanceId !== undefined) out.instanceId = action.instanceId;
    return out;
  }

  private failure(err: unknown): Omit<EpisodeResult, 'retryTimer' | 'retryAttempt'> {
    const error = err instanceof Error ? err : new Error(String(err));
    const label = '\n\n$OutOfProcData$:';
    const cut = error.message.indexOf(label);
    let message = cut < 0 ? error.message : error.message.slice(0, cut);
    let customStatus: unknown;
    if (cut >= 0) {
      const data = orchestratorStateSchema.partial().safeParse(JSON.parse(error.message.slice(cut + label.length)));
      if (data.success) {
        message = tooLargeStatus(data.data.customStatus) ?? data.data.error ?? message;
        customStatus = tooLargeStatus(data.data.customStatus) ? null : data.data.customStatus;
      }
    }
    return { isDone: false, failed: true, error: message, output: undefined, customStatus, actions: [...this.known], newActions: [] };
  }
}

/** The extension's error for a custom status over 16 KB of UTF-16 JSON (docs/devhost-durable.md, Size limits). */
function tooLargeStatus(customStatus: unknown): string | undefined {
  const text = jsonText(customStatus);
  return text === undefined ? undefined : customStatusTooLargeReason(text);
}

/** A harness for a registered orchestration (import the module that registers it first). */
export function orchestrationHarness(name: string, options: HarnessOptions = {}): OrchestrationHarness {
  return new OrchestrationHarness(name, options);
}

/** Fails a retried activity on every attempt, as an outage that outlasts its retry options: the episode after its last backoff timer. */
export async function failForGood(h: OrchestrationHarness, taskId: number, message: string): Promise<EpisodeResult> {
  let failed = await h.failActivity(taskId, message);
  for (;;) {
    const fired = await h.fireTimer(failed.retryTimer!.taskId);
    if (fired.retryAttempt === undefined) return fired;
    failed = await h.failActivity(fired.retryAttempt, message);
  }
}
