/**
 * NCRONTAB schedules as the Functions timer trigger reads them: six fields
 * `{second} {minute} {hour} {day} {month} {day-of-week}` (five-field CRON is accepted too, with
 * second 0), with `*`, lists, ranges, steps and month/day names; or a TimeSpan `hh:mm:ss`
 * (a fixed interval). Times are UTC, as on Linux Function Apps without WEBSITE_TIME_ZONE.
 */
export interface Schedule {
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
  text: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  namesStart?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesStart: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, namesStart: 0 },
];

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const upper = text.toUpperCase();
  const named = spec.names?.findIndex((n) => upper === n || (upper.length > 3 && n === upper.slice(0, 3)));
  if (named !== undefined && named >= 0) return named + (spec.namesStart ?? 0);
  if (!/^\d+$/.test(text)) throw new Error(`Invalid ${spec.name} "${text}" in schedule "${expression}".`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new Error(`${spec.name} ${value} is out of range ${spec.min}-${spec.max} in schedule "${expression}".`);
  }
  return value;
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [rangeText = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`Invalid step "${part}" in schedule "${expression}".`);
    let lo: number;
    let hi: number;
    if (rangeText === '*') {
      lo = spec.min;
      hi = spec.name === 'day-of-week' ? 6 : spec.max;
    } else if (rangeText.includes('-')) {
      const [a = '', b = ''] = rangeText.split('-');
      lo = parseValue(a, spec, expression);
      hi = parseValue(b, spec, expression);
      if (hi < lo) throw new Error(`Invalid range "${rangeText}" in schedule "${expression}".`);
    } else {
      lo = parseValue(rangeText, spec, expression);
      hi = stepText === undefined ? lo : spec.name === 'day-of-week' ? 6 : spec.max;
    }
    for (let v = lo; v <= hi; v += step) values.add(spec.name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return values;
}

/** Parses an NCRONTAB expression or a `hh:mm:ss` / `d.hh:mm:ss` interval. Throws with a clear message. */
export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  const span = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (span) {
    const [, d = '0', h = '0', m = '0', s = '0'] = span;
    const ms = (((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s)) * 1000;
    if (ms <= 0) throw new Error(`Interval schedule "${expression}" must be positive.`);
    return { text, next: (after) => new Date(after.getTime() + ms) };
  }

  let parts = text.split(/\s+/);
  if (parts.length === 5) parts = ['0', ...parts];
  if (parts.length !== 6) {
    throw new Error(`Schedule "${expression}" must have six fields: second minute hour day month day-of-week.`);
  }
  const [sec, min, hour, day, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, expression)) as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  // As in cron: when both day fields are restricted, either may match.
  const dayRestricted = parts[3] !== '*' && parts[3] !== '?';
  const dowRestricted = parts[5] !== '*' && parts[5] !== '?';
  const dayMatches = (d: Date): boolean => {
    const byDay = day.has(d.getUTCDate());
    const byDow = dow.has(d.getUTCDay());
    if (dayRestricted && dowRestricted) return byDay || byDow;
    if (dayRestricted) return byDay;
    if (dowRestricted) return byDow;
    return true;
  };

  return {
    text,
    next(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
      while (t.getTime() <= limit) {
        if (!month.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!hour.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
          continue;
        }
        if (!min.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
          continue;
        }
        if (!sec.has(t.getUTCSeconds())) {
          t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
          continue;
        }
        return t;
      }
      throw new Error(`Schedule "${expression}" has no occurrence in the next five years.`);
    },
  };
}
