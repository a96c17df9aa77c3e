import type { RetryOptions } from './actions';

/**
 * Backoff before the next attempt after attempt `attempt` (1-based) failed, as the Durable Task
 * Framework's RetryInterceptor computes it: firstRetryInterval * backoffCoefficient^(attempt-1),
 * capped by maxRetryInterval. Zero once the retry timeout, counted from the first attempt, has
 * passed: no further attempt will run.
 */
export function retryDelayMs(options: RetryOptions, attempt: number, firstAttemptAt: number, now: number): number {
  if (retryTimedOut(options, firstAttemptAt, now)) return 0;
  const coefficient = options.backoffCoefficient ?? 1;
  const delay = options.firstRetryIntervalInMilliseconds * Math.pow(coefficient, attempt - 1);
  const cap = options.maxRetryIntervalInMilliseconds;
  return cap !== undefined && delay > cap ? cap : delay;
}

export function retryTimedOut(options: RetryOptions, firstAttemptAt: number, now: number): boolean {
  const timeout = options.retryTimeoutInMilliseconds;
  return timeout !== undefined && now >= firstAttemptAt + timeout;
}
