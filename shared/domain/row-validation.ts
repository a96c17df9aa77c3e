import type { Feature, ModelDefinition } from '../schemas/model';
import { errors } from './errors';
import type { RawRows } from './raw-rows';
import type { RowBatch } from './tabular';
import { windowableRange, windowLengthMs } from './windows';

/** Where each column the model needs sits in a file. Built once per file from its header. */
export interface ColumnLayout {
  readonly width: number;
  readonly features: readonly { feature: Feature; column: number }[];
  readonly id: number;
  readonly timestamp: number | undefined;
  /** Epoch milliseconds a timestamp may take: those a monitoring window of the model can hold. */
  readonly timestampRange: { readonly min: number; readonly max: number };
  readonly segments: readonly { name: string; column: number }[];
}

/** Each header name (trimmed) and its first column: how the layout and readers match names. */
export function headerIndex(columns: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  columns.forEach((c, i) => {
    const name = c.trim();
    if (!index.has(name)) index.set(name, i);
  });
  return index;
}

/** What a date-time cell should look like, for the reasons of those that do not read. */
const ISO_EXAMPLE = '(such as 2026-11-01T10:00:00Z, or 2026-11-01 10:00 read as UTC)';

/** How many of the columns found a missing-column error names (`columnCount` says how many there were). */
const ECHOED_COLUMNS = 100;

const FOREIGN_SEPARATORS: readonly [string, string][] = [
  [';', "';'"],
  ['\t', 'tabs'],
  ['|', "'|'"],
];

/** A header as a message can show it: the first ten names, each cut short, as JSON strings. */
function headerShown(columns: readonly string[]): string {
  const shown = columns.slice(0, 10).map((c) => JSON.stringify(c.length > 40 ? `${c.slice(0, 40)}…` : c));
  return `${shown.join(', ')}${columns.length > 10 ? `, … (${columns.length} columns)` : ''}`;
}

/**
 * What a header read as one column says about the file: a name holding ';', a tab or '|' is a
 * file separated by that character (a spreadsheet's export in a comma-decimal locale, a TSV),
 * which only a comma-separated reader misreads. A sentence telling what to do, or undefined.
 */
export function foreignSeparatorHint(columns: readonly string[]): string | undefined {
  if (columns.length !== 1) return undefined;
  const found = FOREIGN_SEPARATORS.find(([separator]) => columns[0]!.includes(separator));
  if (!found) return undefined;
  return `its header is one column, ${headerShown(columns)}: the file looks separated by ${found[1]}, and only comma-separated files are read; save it as comma-separated CSV`;
}

/** The header in a missing-column message, so that a typo, a case or a wrong delimiter shows at once. */
export function headerDescribed(columns: readonly string[]): string {
  return foreignSeparatorHint(columns) ?? `its header reads ${headerShown(columns)}`;
}

/**
 * Maps the model's columns to the file's. Missing feature, id, timestamp or segment-key columns
 * make the whole file unusable (INVALID_INPUT_FILE, listing all of them), and so does a needed
 * column named twice; extra columns are ignored (even repeated ones). Header names are matched
 * exactly after trimming. `source` words the errors for a file's header or for JSON rows' fields;
 * JSON rows may all leave the timestamp out (no layout timestamp then).
 */
export function layoutColumns(model: ModelDefinition, columns: readonly string[], source: 'file' | 'json' = 'file'): ColumnLayout {
  const index = headerIndex(columns);
  const repeated = new Set(columns.map((c) => c.trim()).filter((name, i) => index.get(name) !== i));
  const missing: string[] = [];
  const ambiguous: string[] = [];
  const find = (name: string) => {
    const i = index.get(name);
    if (i === undefined) missing.push(name);
    if (repeated.has(name)) ambiguous.push(name);
    return i ?? -1;
  };
  const id = find(model.idColumn);
  const features = model.features.map((feature) => ({ feature, column: find(feature.name) }));
  // JSON rows (the scoring API) are scored, not windowed: the timestamp is checked when sent, and
  // a row may leave it out, so no row sending it is no reason to refuse them all.
  const timestamp =
    model.timestampColumn === undefined || (source === 'json' && !index.has(model.timestampColumn)) ? undefined : find(model.timestampColumn);
  const segments = model.segmentKeys.map((name) => ({ name, column: find(name) }));
  if (ambiguous.length > 0) {
    const names = [...new Set(ambiguous)];
    const listed = names.map((m) => `'${m}'`).join(', ');
    throw errors.invalidInputFile(source === 'json' ? `the rows name the field(s) ${listed} more than once (spaces around names are ignored)` : `the header names ${listed} more than once`, {
      repeated: names,
    });
  }
  const unique = [...new Set(missing)];
  if (unique.length > 0) {
    const listed = unique.map((m) => `'${m}'`).join(', ');
    // JSON rows (the scoring API) have fields, not a header: say it in their words.
    const message =
      source === 'json'
        ? columns.length === 0
          ? 'the rows have no fields'
          : `no row has the required field(s) ${listed}`
        : columns.length === 0
          ? 'the file has no header row'
          : `the file lacks required column(s) ${listed}; ${headerDescribed(columns)}`;
    // The columns found are echoed to help spot a typo, a few of them: rows of the scoring API may
    // bring hundreds of thousands of fields of their own, and the answer would echo every one.
    const echoed = columns.slice(0, ECHOED_COLUMNS);
    throw errors.invalidInputFile(message, { missing: unique, columns: echoed, ...(columns.length > echoed.length ? { columnCount: columns.length } : {}) });
  }
  const timestampRange = windowableRange(windowLengthMs(model.policies.drift.window));
  return { width: columns.length, features, id, timestamp, timestampRange, segments };
}

/** Why a row was not scored. `row` is the file row number (1-based, header excluded). */
export interface RowRejection {
  row: number;
  /** Short category for summaries, e.g. `not_a_number:age`, `ragged_row`. */
  code: string;
  reason: string;
  cells: (string | null)[];
  rawBase64?: string;
}

/** The rows that passed validation, with what travels with each prediction. */
export interface ValidatedRows {
  batch: RowBatch;
  /** File row number of each batch row. */
  rowNumbers: Int32Array;
  /** Index in the raw rows of each batch row (to fetch its cells if a later step rejects it). */
  sourceRows: Int32Array;
  ids: string[];
  /** Epoch milliseconds per batch row, NaN when empty; absent when the model has no timestamp column. */
  timestamps?: Float64Array;
  segments: Record<string, (string | null)[]>;
  rejected: RowRejection[];
}

/**
 * The first magnitude float32 rounds to infinity (2^128 - 2^103, halfway past its largest value).
 * Numeric features are fed to the model as float32 (its input type, see signature-roles.ts):
 * a value it cannot hold would reach the model as an infinity, so the row is rejected instead.
 */
export const FLOAT32_OVERFLOW = (2 - 2 ** -24) * 2 ** 127;

const TRUE = new Set(['true', '1', 'yes', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'f', 'n']);

/** A boolean cell as validation reads it: 1, 0, or NaN for anything else. */
export function booleanValue(text: string | null): number {
  const t = (text ?? '').trim().toLowerCase();
  return TRUE.has(t) ? 1 : FALSE.has(t) ? 0 : NaN;
}

interface Problem {
  code: string;
  reason: string;
}

const show = (s: string | null) => JSON.stringify(s !== null && s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Problems per row, kept sparse: most rows have none. */
class Problems {
  readonly bad: Uint8Array;
  readonly byRow = new Map<number, Problem[]>();
  constructor(n: number) {
    this.bad = new Uint8Array(n);
  }
  add(row: number, code: string, reason: string): void {
    this.bad[row] = 1;
    const list = this.byRow.get(row);
    if (list) list.push({ code, reason });
    else this.byRow.set(row, [{ code, reason }]);
  }
}

/** Low-cardinality text (categories, segments): interned when the reader can, plain text otherwise. */
const symbolOf = (rows: RawRows) => (rows.symbol ? rows.symbol.bind(rows) : rows.text.bind(rows));

function numericColumn(rows: RawRows, column: number, feature: Feature & { type: 'numeric' }, unreadable: Uint8Array, problems: Problems) {
  const n = rows.rowCount;
  const parsed = rows.takeNumbers?.(column);
  const values = parsed ?? new Float64Array(n);
  const name = feature.name;
  const range = feature.strictRange ? feature.range : undefined;
  if (!parsed) rows.numbers?.(column, values);
  for (let r = 0; r < n; r += 1) {
    if (unreadable[r]) {
      values[r] = 0;
      continue;
    }
    const v = parsed || rows.numbers ? values[r]! : rows.number(column, r);
    // False for NaN, infinities and numbers float32 cannot hold: one pair of comparisons.
    if (v > -FLOAT32_OVERFLOW && v < FLOAT32_OVERFLOW) {
      if (range && (v < range.min || v > range.max))
        problems.add(r, `out_of_range:${name}`, `'${name}' is ${v}, outside the allowed range [${range.min}, ${range.max}]`);
      values[r] = v;
      continue;
    }
    values[r] = NaN;
    if (rows.isEmpty(column, r)) {
      if (!feature.nullable) problems.add(r, `missing_value:${name}`, `'${name}' is empty and not nullable`);
      continue;
    }
    const text = rows.text(column, r);
    if (Number.isNaN(v) && !/^\s*[+-]?nan\s*$/i.test(text ?? '')) problems.add(r, `not_a_number:${name}`, `'${name}' is ${show(text)}, not a number`);
    else if (Number.isFinite(v)) problems.add(r, `not_finite:${name}`, `'${name}' is ${v}, which float32 (the model's input type) cannot hold`);
    else problems.add(r, `not_finite:${name}`, `'${name}' is ${show(text)}, not a finite number`);
  }
  return values;
}

function otherNumericColumn(rows: RawRows, column: number, feature: Feature & { type: 'boolean' | 'datetime' }, unreadable: Uint8Array, problems: Problems) {
  const n = rows.rowCount;
  const values = new Float64Array(n);
  const name = feature.name;
  for (let r = 0; r < n; r += 1) {
    values[r] = NaN;
    if (unreadable[r]) continue;
    if (rows.isEmpty(column, r)) {
      if (!feature.nullable) problems.add(r, `missing_value:${name}`, `'${name}' is empty and not nullable`);
      continue;
    }
    if (feature.type === 'datetime') {
      const native = rows.epochMillis?.(column, r);
      if (native !== undefined && !Number.isNaN(native)) {
        values[r] = native;
        continue;
      }
    }
    const text = rows.text(column, r);
    if (feature.type === 'boolean') {
      const b = booleanValue(text);
      if (Number.isNaN(b)) problems.add(r, `not_a_boolean:${name}`, `'${name}' is ${show(text)}, not a boolean`);
      else values[r] = b;
    } else {
      const t = parseDateTime(text);
      if (Number.isNaN(t)) problems.add(r, `not_a_datetime:${name}`, `'${name}' is ${show(text)}, not an ISO 8601 date-time ${ISO_EXAMPLE}`);
      else values[r] = t;
    }
  }
  return values;
}

function categoricalColumn(rows: RawRows, column: number, feature: Feature & { type: 'categorical' }, unreadable: Uint8Array, problems: Problems) {
  const n = rows.rowCount;
  const values = new Array<string | null>(n);
  const name = feature.name;
  const allowed = feature.strictValues && feature.allowedValues ? new Set(feature.allowedValues) : undefined;
  const symbol = symbolOf(rows);
  for (let r = 0; r < n; r += 1) {
    if (unreadable[r]) {
      values[r] = null;
      continue;
    }
    const text = symbol(column, r);
    values[r] = text;
    if (text === null) {
      if (!feature.nullable) problems.add(r, `missing_value:${name}`, `'${name}' is empty and not nullable`);
    } else if (allowed && !allowed.has(text)) problems.add(r, `unknown_value:${name}`, `'${name}' is ${show(text)}, not one of the allowed values`);
  }
  return values;
}

function compact<T>(values: ArrayLike<T>, keep: Int32Array, make: (n: number) => { [i: number]: T }) {
  const out = make(keep.length);
  for (let k = 0; k < keep.length; k += 1) out[k] = values[keep[k]!]!;
  return out;
}

/**
 * Checks every row of a raw batch against the model's feature schema and returns the valid rows
 * as a columnar RowBatch (numeric, boolean as 0/1, datetime as epoch ms; categorical as text)
 * plus one rejection per invalid row listing every problem found: unreadable rows, ragged rows,
 * empty id, a JSON id number that may have been rounded, empty non-nullable cells, text in numeric columns, NaN or infinite numbers, values
 * outside a strict range or a strict set of allowed values, bad booleans and datetimes.
 * Works column by column (tight loops over typed arrays), then drops the rejected rows.
 */
export function validateRows(rows: RawRows, layout: ColumnLayout): ValidatedRows {
  const n = rows.rowCount;
  const problems = new Problems(n);
  const unreadable = new Uint8Array(n);
  for (let r = 0; r < n; r += 1) {
    const defect = rows.defect(r);
    if (defect) problems.add(r, 'unreadable_row', defect);
    else if (rows.fieldCount(r) !== layout.width)
      problems.add(r, 'ragged_row', `the row has ${rows.fieldCount(r)} fields, the header has ${layout.width}`);
    else continue;
    unreadable[r] = 1;
  }
  const ids = new Array<string>(n);
  for (let r = 0; r < n; r += 1) {
    if (unreadable[r]) continue;
    const id = rows.text(layout.id, r);
    if (id === null) problems.add(r, 'missing_id', 'the id column is empty');
    // Echoed rounded, the id would join this row's prediction to another row of the caller's.
    else if (rows.lossyNumber?.(layout.id, r))
      problems.add(r, 'inexact_id', `the id is the number ${id} as JSON read it, which may not be the number sent (a whole number past ±9007199254740991, more significant digits than a double holds, or beyond a double's range): send such ids as strings`);
    else ids[r] = id;
  }
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  for (const { feature, column } of layout.features) {
    if (feature.type === 'numeric') numeric[feature.name] = numericColumn(rows, column, feature, unreadable, problems);
    else if (feature.type === 'categorical') categorical[feature.name] = categoricalColumn(rows, column, feature, unreadable, problems);
    else numeric[feature.name] = otherNumericColumn(rows, column, feature, unreadable, problems);
  }
  let timestamps: Float64Array | undefined;
  if (layout.timestamp !== undefined) {
    const column = layout.timestamp;
    const { min, max } = layout.timestampRange;
    timestamps = new Float64Array(n);
    for (let r = 0; r < n; r += 1) {
      timestamps[r] = NaN;
      if (unreadable[r] || rows.isEmpty(column, r)) continue;
      const native = rows.epochMillis?.(column, r);
      const t = native !== undefined && !Number.isNaN(native) ? native : parseDateTime(rows.text(column, r));
      if (Number.isNaN(t)) problems.add(r, 'bad_timestamp', `the timestamp ${show(rows.text(column, r))} is not an ISO 8601 date-time ${ISO_EXAMPLE}`);
      else if (t < min || t > max) {
        const span = `${new Date(min).toISOString()} to ${new Date(max).toISOString()}`;
        problems.add(r, 'bad_timestamp', `the timestamp ${show(rows.text(column, r))} is outside ${span}, the instants the model's monitoring windows can hold`);
      } else timestamps[r] = t;
    }
  }
  const segments: Record<string, (string | null)[]> = {};
  for (const s of layout.segments) {
    const symbol = symbolOf(rows);
    const values = new Array<string | null>(n);
    for (let r = 0; r < n; r += 1) values[r] = unreadable[r] ? null : symbol(s.column, r);
    segments[s.name] = values;
  }

  const rejected: RowRejection[] = [];
  const keepList: number[] = [];
  for (let r = 0; r < n; r += 1) {
    if (!problems.bad[r]) {
      keepList.push(r);
      continue;
    }
    const list = problems.byRow.get(r)!;
    const raw = rows.rawBytes?.(r);
    rejected.push({
      row: rows.rowNumber(r),
      code: list[0]!.code,
      reason: list.map((p) => p.reason).join('; '),
      cells: rows.rawCells(r),
      ...(raw ? { rawBase64: raw } : {}),
    });
  }
  const keep = Int32Array.from(keepList);
  const rowNumbers = new Int32Array(keep.length);
  for (let k = 0; k < keep.length; k += 1) rowNumbers[k] = rows.rowNumber(keep[k]!);
  const all = keep.length === n;
  const pickF64 = (v: Float64Array) => (all ? v : (compact(v, keep, (m) => new Float64Array(m)) as Float64Array));
  const pickList = <T>(v: T[]) => (all ? v : (compact(v, keep, (m) => new Array<T>(m)) as T[]));
  return {
    batch: {
      rowCount: keep.length,
      numeric: Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, pickF64(v)])),
      categorical: Object.fromEntries(Object.entries(categorical).map(([k, v]) => [k, pickList(v)])),
    },
    rowNumbers,
    sourceRows: keep,
    ids: pickList(ids),
    ...(timestamps ? { timestamps: pickF64(timestamps) } : {}),
    segments: Object.fromEntries(Object.entries(segments).map(([k, v]) => [k, pickList(v)])),
    rejected,
  };
}

const DASH = 45;
const COLON = 58;
const SPACE = 32;

const digitAt = (b: ArrayLike<number>, i: number) => {
  const c = b[i]! - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};
const numberAt = (b: ArrayLike<number>, i: number, len: number) => {
  let v = 0;
  for (let k = 0; k < len; k += 1) v = v * 10 + digitAt(b, i + k);
  return v;
};

/**
 * Parses an ISO 8601 date-time from character codes (or ASCII bytes) `codes[begin, end)`:
 * `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM`, `:SS`, fractional seconds, and `Z` or an
 * offset `±HH:MM`/`±HHMM`. A date alone is midnight UTC and a date-time without an offset is read
 * as UTC (not the machine's zone), so scoring gives the same answer everywhere. Hand-written
 * because it runs for every row; readers call it on their bytes without building strings.
 * Returns epoch milliseconds, or NaN.
 */
export function parseDateTimeCodes(codes: ArrayLike<number>, begin: number, end: number): number {
  let b = begin;
  let e = end;
  while (b < e && codes[b] === SPACE) b += 1;
  while (e > b && codes[e - 1] === SPACE) e -= 1;
  if (e - b < 10 || codes[b + 4] !== DASH || codes[b + 7] !== DASH) return NaN;
  const year = numberAt(codes, b, 4);
  const month = numberAt(codes, b + 5, 2);
  const day = numberAt(codes, b + 8, 2);
  if (Number.isNaN(year + month + day) || month < 1 || month > 12 || day < 1 || day > 31) return NaN;
  let i = b + 10;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let offset = 0;
  if (i < e) {
    const sep = codes[i];
    if ((sep !== 84 && sep !== SPACE) || codes[i + 3] !== COLON) return NaN; // 'T'
    hour = numberAt(codes, i + 1, 2);
    minute = numberAt(codes, i + 4, 2);
    i += 6;
    if (i < e && codes[i] === COLON) {
      second = numberAt(codes, i + 1, 2);
      i += 3;
      if (i < e && (codes[i] === 46 || codes[i] === 44)) {
        i += 1;
        let scale = 100;
        while (i < e && !Number.isNaN(digitAt(codes, i))) {
          ms += digitAt(codes, i) * scale;
          scale /= 10;
          i += 1;
        }
      }
    }
    if (i < e) {
      const sign = codes[i];
      if (sign === 90 || sign === 122) i += 1; // 'Z' | 'z'
      else if (sign === 43 || sign === DASH) {
        const colon = codes[i + 3] === COLON ? 1 : 0;
        if (i + 5 + colon > e) return NaN;
        offset = (sign === 43 ? 1 : -1) * (numberAt(codes, i + 1, 2) * 60 + numberAt(codes, i + 3 + colon, 2));
        i += 5 + colon;
      } else return NaN;
    }
    if (i !== e || Number.isNaN(hour + minute + second + offset) || hour > 23 || minute > 59 || second > 60) return NaN;
  }
  if (day > daysInMonth(year, month)) return NaN;
  // Every year as written (Date.UTC would read the years 0-99 as 1900-1999, as Date.parse does not).
  const midnight = daysFromCivil(year, month, day) * 86_400_000;
  return midnight + hour * 3_600_000 + minute * 60_000 + second * 1000 + Math.round(ms) - offset * 60_000;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm): plain integer
 * arithmetic, because a Date object per row is a large share of parsing a timestamp column.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

let scratch = new Uint16Array(64);

/** parseDateTimeCodes over a string. */
export function parseDateTime(text: string | null): number {
  if (text === null) return NaN;
  if (text.length > scratch.length) scratch = new Uint16Array(text.length * 2);
  for (let i = 0; i < text.length; i += 1) scratch[i] = text.charCodeAt(i);
  return parseDateTimeCodes(scratch, 0, text.length);
}
