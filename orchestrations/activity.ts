import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { z } from 'zod';

import { isDomainError, parseOrThrow } from '../shared/domain/errors';
import { type ActivityResult, activityResultSchema } from '../shared/schemas/lifecycle-orchestration';

/**
 * Registers an activity whose input is parsed with its schema and whose expected failures (a
 * DomainError: retrying would not change the answer) come back as `{ ok: false, code, message }`
 * instead of being thrown, so the orchestration's retry policy only retries outages.
 */
export function defineActivity<S extends z.ZodType, T>(
  name: string,
  inputSchema: S,
  handler: (input: z.output<S>, context: InvocationContext) => Promise<T>,
): df.RegisteredActivity {
  return df.app.activity(name, {
    handler: async (raw: unknown, context: InvocationContext): Promise<ActivityResult> => {
      try {
        const input = parseOrThrow(inputSchema, raw, `input of ${name}`);
        return { ok: true, value: await handler(input, context) };
      } catch (error) {
        if (!isDomainError(error)) throw error;
        context.warn(`${name}: ${error.code}: ${error.message}`);
        return { ok: false, code: error.code, message: error.message };
      }
    },
  });
}

/**
 * What a failed activity or sub-orchestration says, for a record a reader sees: the reason only.
 * The durable-functions SDK makes the error's message `${Reason} \n ${Details}`, and the details
 * are the activity's stack (its files and lines), which stays in the host's log.
 */
export function failureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const details = message.indexOf(' \n ');
  return details < 0 ? message : message.slice(0, details);
}

/** Retries for outages: the first after `firstMs`, each wait doubling up to `maxIntervalMs`, `attempts` in all. */
export function backoff(firstMs: number, attempts: number, maxIntervalMs: number): df.RetryOptions {
  const retry = new df.RetryOptions(firstMs, attempts);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = maxIntervalMs;
  return retry;
}

/** Outages (Cosmos, Blob, the broker) retried with backoff: 2 s, 4 s, 8 s, ... up to 6 attempts. */
export const outageRetry = backoff(2000, 6, 60_000);

/**
 * An activity's expected failure (a DomainError it answered with): asking again would get the same
 * answer, unlike an outage, which the SDK throws as its own error once the retries are spent.
 */
export class ExpectedActivityFailure extends Error {
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super(`${code}: ${reason}`);
  }
}

/** An activity's value; its expected failure is thrown as `CODE: message` (an ExpectedActivityFailure). */
export function activityValue<T>(raw: unknown): T {
  const result = activityResultSchema.parse(raw);
  if (!result.ok) throw new ExpectedActivityFailure(result.code, result.message);
  return result.value as T;
}

/**
 * Calls an activity from an orchestrator with `retry` for outages; its expected failure (and an
 * outage that outlasts the retries) is thrown as `CODE: message`.
 */
export function* callActivity<T>(activity: df.RegisteredActivity, input: unknown, retry: df.RetryOptions = outageRetry): Generator<df.Task, T, unknown> {
  return activityValue<T>(yield activity(input).withRetry(retry));
}

/**
 * The run's traceparent as a field to spread into activity and sub-orchestration inputs, so their
 * spans join the trace that started the run. It is read from the orchestration input, never made
 * in orchestrator code, so every replay passes the same value. Empty when the run is untraced.
 */
export function carriedTrace(input: { traceparent?: string | undefined }): { traceparent?: string } {
  return input.traceparent ? { traceparent: input.traceparent } : {};
}
