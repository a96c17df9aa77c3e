/** ISO 8601 durations (as accepted by isoDurationSchema) applied to instants, in UTC. */

const PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** `at` plus the duration: years and months by the calendar, the rest by elapsed time. */
export function addIsoDuration(at: Date, duration: string, sign: 1 | -1 = 1): Date {
  const m = PATTERN.exec(duration);
  if (!m) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const n = (i: number) => Number(m[i] ?? 0);
  const d = new Date(at.getTime());
  d.setUTCMonth(d.getUTCMonth() + sign * (n(1) * 12 + n(2)));
  const ms = ((n(3) * 7 + n(4)) * 86400 + n(5) * 3600 + n(6) * 60 + n(7)) * 1000;
  return new Date(d.getTime() + sign * ms);
}

/** The duration's length in milliseconds, from the Unix epoch (years and months by the calendar from 1970-01-01). */
export const isoDurationMs = (duration: string): number => addIsoDuration(new Date(0), duration).getTime();
