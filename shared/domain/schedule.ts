import { CronExpressionParser } from 'cron-parser';

/**
 * Model schedules are NCRONTAB expressions with six fields, as Azure Functions timers take them:
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, evaluated in UTC.
 */
export function scheduleProblem(expression: string): string | undefined {
  if (expression.trim().split(/\s+/).length !== 6) return 'a schedule has six fields: second minute hour day month day-of-week';
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
    return undefined;
  } catch (e) {
    return `not a valid NCRONTAB expression: ${(e as Error).message}`;
  }
}

/** The latest occurrence of a schedule at or before `at`. */
export function latestOccurrence(expression: string, at: Date): Date {
  // prev() is strictly before currentDate: start one millisecond later so `at` itself counts.
  return CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: new Date(at.getTime() + 1) }).prev().toDate();
}
