import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';

import { StartupError } from '../startup-error';
import type { FunctionInfo, FunctionsWorker } from '../worker';
import { readJsonBlob, resolveSettingRefs, stringOption, writeJsonBlob } from './host-storage';
import { parseSchedule, type Schedule } from './ncrontab';

const scheduleStatusSchema = z.object({ Last: z.string(), Next: z.string(), LastUpdated: z.string() });
/** What the host persists per timer function (`timers/{hostId}/{function}/status`). */
type ScheduleStatus = z.infer<typeof scheduleStatusSchema>;

export interface TimerOptions {
  worker: FunctionsWorker;
  hostId: string;
  /** Where schedule status is kept; without it no status persists (no past-due detection across restarts). */
  hostsContainer?: ContainerClient;
  now?: () => Date;
  onError?: (functionName: string, err: unknown) => void;
}

export interface RunningTimers {
  functions: Array<{ functionName: string; schedule: string; next: Date | undefined }>;
  stop(): Promise<void>;
}

interface TimerState {
  fn: FunctionInfo;
  schedule: Schedule;
  runOnStartup: boolean;
  status: ScheduleStatus | undefined;
  next: Date | undefined;
  handle: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
}

/** The timer payload a timer function is invoked with (`@azure/functions` turns it into a `Timer`). */
export function timerTriggerValue(status: ScheduleStatus | null, isPastDue: boolean): Record<string, unknown> {
  return { Schedule: { AdjustForDST: true }, ScheduleStatus: status, IsPastDue: isPastDue };
}

// setTimeout cannot wait longer than 2^31-1 ms; longer waits are done in hops.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Runs timer-triggered functions on their NCRONTAB schedules, one invocation at a time per
 * function (as the host's singleton timer listener). At start, a persisted `Next` in the past
 * invokes once with `isPastDue: true`; otherwise `runOnStartup` invokes once immediately.
 */
export async function startTimers(options: TimerOptions): Promise<RunningTimers> {
  const { worker, hostsContainer } = options;
  const now = options.now ?? (() => new Date());
  let stopped = false;
  const statusBlob = (fn: FunctionInfo) => `timers/${options.hostId}/${fn.name}/status`;

  const states: TimerState[] = [];
  for (const fn of worker.functionsByTrigger('timerTrigger')) {
    const schedule = timerSchedule(fn.name, stringOption(fn.trigger.schedule, `${fn.name}: timer schedule`));
    const persisted = hostsContainer ? await readJsonBlob(hostsContainer, statusBlob(fn)) : undefined;
    const parsed = scheduleStatusSchema.safeParse(persisted);
    states.push({
      fn,
      schedule,
      runOnStartup: fn.trigger.runOnStartup === true,
      status: parsed.success ? parsed.data : undefined,
      next: undefined,
      handle: undefined,
      running: undefined,
    });
  }

  const invoke = async (state: TimerState, isPastDue: boolean): Promise<void> => {
    const fired = now();
    const next = state.schedule.next(fired);
    try {
      await worker.invoke(state.fn.name, { triggerValue: timerTriggerValue(state.status ?? null, isPastDue) });
    } catch (err) {
      options.onError?.(state.fn.name, err);
    }
    state.status = { Last: fired.toISOString(), Next: next.toISOString(), LastUpdated: now().toISOString() };
    if (hostsContainer) {
      await writeJsonBlob(hostsContainer, statusBlob(state.fn), state.status).catch((err: unknown) =>
        options.onError?.(state.fn.name, err),
      );
    }
  };

  const arm = (state: TimerState): void => {
    if (stopped) return;
    const next = state.schedule.next(now());
    state.next = next;
    const wait = (): void => {
      const delay = next.getTime() - now().getTime();
      state.handle = setTimeout(
        () => {
          if (stopped) return;
          if (next.getTime() > now().getTime()) return wait();
          // Late by more than a second (e.g. the event loop was blocked): report it as the host does.
          const late = now().getTime() - next.getTime() > 1000;
          state.running = invoke(state, late).finally(() => {
            state.running = undefined;
            arm(state);
          });
        },
        Math.min(Math.max(delay, 0), MAX_DELAY),
      );
    };
    wait();
  };

  for (const state of states) {
    const pastDue = state.status !== undefined && Date.parse(state.status.Next) < now().getTime();
    if (pastDue || state.runOnStartup) {
      state.running = invoke(state, pastDue).finally(() => {
        state.running = undefined;
        arm(state);
      });
    } else {
      arm(state);
    }
  }

  return {
    get functions() {
      return states.map((s) => ({ functionName: s.fn.name, schedule: s.schedule.text, next: s.next }));
    },
    stop: async () => {
      stopped = true;
      for (const s of states) if (s.handle) clearTimeout(s.handle);
      await Promise.all(states.map((s) => s.running ?? Promise.resolve()));
    },
  };
}

/**
 * A timer function's schedule, its `%SETTING%` references resolved. One that is not set or does not
 * parse stops the start naming the function, the schedule as written and, for a setting, its value.
 */
function timerSchedule(functionName: string, written: string): Schedule {
  let expression = written;
  try {
    expression = resolveSettingRefs(written);
    return parseSchedule(expression);
  } catch (err) {
    const value = expression === written ? '' : ` = "${expression}"`;
    throw new StartupError(`timer function '${functionName}': schedule "${written}"${value}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
