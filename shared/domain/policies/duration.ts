/** ISO 8601 durations (as accepted by isoDurationSchema) applied to instants, in UTC. */

const PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * `at` plus the duration: years and months by the calendar, the rest by elapsed time. A day the
 * target month lacks is its last day (May 31 less three months is February 28, not March 3), as
 * calendar libraries do: a month-end window's seasonal reference stays in its own month.
 */
export function addIsoDuration(at: Date, duration: string, sign: 1 | -1 = 1): Date {
  const m = PATTERN.exec(duration);
  if (!m) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const n = (i: number) => Number(m[i] ?? 0);
  const d = new Date(at.getTime());
  const months = sign * (n(1) * 12 + n(2));
  if (months !== 0) {
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + months);
    d.setUTCDate(Math.min(day, daysInMonth(d.getUTCFullYear(), d.getUTCMonth())));
  }
  const ms = ((n(3) * 7 + n(4)) * 86400 + n(5) * 3600 + n(6) * 60 + n(7)) * 1000;
  return new Date(d.getTime() + sign * ms);
}

/** Days in a month (0-11) of a year, by the Gregorian calendar. */
const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/** The duration's length in milliseconds, from the Unix epoch (years and months by the calendar from 1970-01-01). */
export const isoDurationMs = (duration: string): number => addIsoDuration(new Date(0), duration).getTime();

/**
 * The most milliseconds the duration adds to any instant (addIsoDuration): a month as 31 days, the
 * longest a calendar month is (a year as 12 of them), the rest by elapsed time.
 */
export function longestIsoDurationMs(duration: string): number {
  const m = PATTERN.exec(duration);
  if (!m) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const n = (i: number) => Number(m[i] ?? 0);
  const days = (n(1) * 12 + n(2)) * 31 + n(3) * 7 + n(4);
  return (days * 86400 + n(5) * 3600 + n(6) * 60 + n(7)) * 1000;
}
