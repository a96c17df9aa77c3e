import type { WindowSpan } from '../schemas/monitoring';
import { errors } from './errors';

/**
 * Monitoring windows: fixed-length spans aligned in UTC on Monday 1970-01-05T00:00Z, so daily and
 * hourly windows start at midnight and on the hour and weekly ones on Mondays. The length comes
 * from the drift policy's `window` (weeks, days, hours, minutes; months and years vary in length
 * and are refused). A window's id is its start as `YYYYMMDDTHHmmZ`.
 */
const ORIGIN = Date.UTC(1970, 0, 5);
const FIXED = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/;

/** The length of a window duration in milliseconds; VALIDATION_ERROR for anything but W, D, H, M. */
export function windowLengthMs(duration: string): number {
  const m = FIXED.exec(duration);
  const [w, d, h, min] = (m?.slice(1) ?? []).map((x) => Number(x ?? 0));
  const ms = (((w ?? 0) * 7 + (d ?? 0)) * 24 * 60 + (h ?? 0) * 60 + (min ?? 0)) * 60_000;
  if (!m || ms < 60_000) {
    throw errors.validation(`a monitoring window is a whole number of weeks, days, hours or minutes (P1D, PT6H, P1W), not '${duration}'`, { window: duration });
  }
  return ms;
}

export function windowIdOf(startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-03-01T00:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
}

/**
 * Whether `id` is a window id as {@link windowIdOf} writes it: the pattern alone also lets through
 * ids of no instant (`20260601T9900Z`) or of another one (`20260230T0000Z` is 2 March).
 */
export function isWindowId(id: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(id);
  if (!m) return false;
  const start = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00.000Z`);
  return !Number.isNaN(start) && windowIdOf(start) === id;
}

/** The start (epoch milliseconds) of the window holding an instant: cheap enough to call per row. */
export function windowStartOf(epochMs: number, lengthMs: number): number {
  return ORIGIN + Math.floor((epochMs - ORIGIN) / lengthMs) * lengthMs;
}

/** The window holding an instant (epoch milliseconds). */
export function windowOf(epochMs: number, lengthMs: number): WindowSpan {
  const start = windowStartOf(epochMs, lengthMs);
  return { id: windowIdOf(start), start: new Date(start).toISOString(), end: new Date(start + lengthMs).toISOString() };
}

/** The window a window id names, for a window length. */
export function windowFromId(id: string, lengthMs: number): WindowSpan {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(id);
  if (!m) throw errors.validation(`'${id}' is not a window id (YYYYMMDDTHHmmZ)`);
  // Date.parse, not Date.UTC, which reads the years 0 to 99 as 1900 to 1999.
  const start = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00.000Z`);
  if (Number.isNaN(start)) throw errors.validation(`'${id}' is not a window id (YYYYMMDDTHHmmZ)`);
  return { id, start: new Date(start).toISOString(), end: new Date(start + lengthMs).toISOString() };
}

/** The first and last instants whose windows have four-digit years at both ends (ids and ISO 8601 times). */
const FIRST_INSTANT = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * The instants [min, max] a window of this length can hold: its id and its start and end as ISO
 * 8601 times have four-digit years (0000 to 9999). Row validation rejects timestamps outside it.
 */
export function windowableRange(lengthMs: number): { min: number; max: number } {
  const first = windowStartOf(FIRST_INSTANT, lengthMs);
  const lastStart = windowStartOf(LAST_INSTANT - lengthMs, lengthMs);
  return { min: first < FIRST_INSTANT ? first + lengthMs : first, max: lastStart + lengthMs - 1 };
}

const DIGITS = '0123456789';
/** The characters each place of a window id (`YYYYMMDDTHHmmZ`) can hold: a month's first digit is 0 or 1, an hour's 0 to 2, ... */
const ID_PLACES = [DIGITS, DIGITS, DIGITS, DIGITS, '01', DIGITS, '0123', DIGITS, 'T', '012', DIGITS, '012345', DIGITS, 'Z'];
const padId = (prefix: string, end: 'first' | 'last'): string => prefix + ID_PLACES.slice(prefix.length).map((c) => (end === 'first' ? c[0] : c.at(-1))).join('');

/**
 * Prefixes, in ascending order, whose window ids are exactly those in [from, before) (either bound
 * open when absent): a store that lists by prefix in lexical order (the lake) can then list a span
 * of windows, as window ids sort by time. Few: at most ten per place where the bounds differ.
 */
export function windowIdPrefixesBetween(from?: string, before?: string): string[] {
  const prefixes: string[] = [];
  const visit = (prefix: string): void => {
    const [lowest, highest] = [padId(prefix, 'first'), padId(prefix, 'last')];
    if ((from !== undefined && highest < from) || (before !== undefined && lowest >= before)) return;
    if ((from === undefined || lowest >= from) && (before === undefined || highest < before)) {
      prefixes.push(prefix);
      return;
    }
    for (const c of ID_PLACES[prefix.length]!) visit(prefix + c);
  };
  visit('');
  return prefixes;
}
