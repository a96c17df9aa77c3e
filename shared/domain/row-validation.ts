import type { Feature, ModelDefinition } from '../schemas/model';
import { DomainError } from './errors';
import type { RawRows } from './raw-rows';
import type { RowBatch } from './tabular';

/** Where each column the model needs sits in a file. Built once per file from its header. */
export interface ColumnLayout {
  readonly width: number;
  readonly features: readonly { feature: Feature; column: number }[];
  readonly id: number;
  readonly timestamp: number | undefined;
  readonly segments: readonly { name: string; column: number }[];
}

/**
 * Maps the model's columns to the file's. Missing feature, id, timestamp or segment-key columns
 * make the whole file unusable (INVALID_INPUT_FILE, listing all of them); extra columns are
 * ignored. Header names are matched exactly after trimming.
 */
export function layoutColumns(model: ModelDefinition, columns: readonly string[]): ColumnLayout {
  const index = new Map<string, number>();
  columns.forEach((c, i) => {
    if (!index.has(c.trim())) index.set(c.trim(), i);
  });
  const missing: string[] = [];
  const find = (name: string) => {
    const i = index.get(name);
    if (i === undefined) missing.push(name);
    return i ?? -1;
  };
  const id = find(model.idColumn);
  const features = model.features.map((feature) => ({ feature, column: find(feature.name) }));
  const timestamp = model.timestampColumn === undefined ? undefined : find(model.timestampColumn);
  const segments = model.segmentKeys.map((name) => ({ name, column: find(name) }));
  const unique = [...new Set(missing)];
  if (unique.length > 0) {
    throw new DomainError(
      'INVALID_INPUT_FILE',
      columns.length === 0
        ? 'the file has no header row'
        : `the file lacks required column(s) ${unique.map((m) => `'${m}'`).join(', ')}`,
      { missing: unique, columns: [...columns] },
    );
  }
  return { width: columns.length, features, id, timestamp, segments };
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

const TRUE = new Set(['true', '1', 'yes', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'f', 'n']);

interface Problem {
  code: string;
  reason: string;
}

const show = (s: string | null) => JSON.stringify(s !== null && s.length > 40 ? `${s.slice(0, 40)}…` : s);

/**
 * Checks every row of a raw batch against the model's feature schema and returns the valid rows
 * as a columnar RowBatch (numeric, boolean as 0/1, datetime as epoch ms; categorical as text)
 * plus one rejection per invalid row listing every problem found: unreadable rows, ragged rows,
 * empty id, empty non-nullable cells, text in numeric columns, NaN or infinite numbers, values
 * outside a strict range or a strict set of allowed values, bad booleans and datetimes.
 */
export function validateRows(rows: RawRows, layout: ColumnLayout): ValidatedRows {
  const n = rows.rowCount;
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  for (const { feature } of layout.features) {
    if (feature.type === 'categorical') categorical[feature.name] = [];
    else numeric[feature.name] = new Float64Array(n);
  }
  const allowed = new Map<string, Set<string>>();
  for (const { feature } of layout.features)
    if (feature.type === 'categorical' && feature.strictValues && feature.allowedValues)
      allowed.set(feature.name, new Set(feature.allowedValues));
  const rowNumbers = new Int32Array(n);
  const sourceRows = new Int32Array(n);
  const ids: string[] = [];
  const timestamps = layout.timestamp === undefined ? undefined : new Float64Array(n);
  const segments: Record<string, (string | null)[]> = {};
  for (const s of layout.segments) segments[s.name] = [];
  const rejected: RowRejection[] = [];
  const pendingText: (string | null)[] = new Array<string | null>(layout.features.length);
  let kept = 0;

  for (let r = 0; r < n; r += 1) {
    const problems: Problem[] = [];
    const defect = rows.defect(r);
    if (defect) problems.push({ code: 'unreadable_row', reason: defect });
    else if (rows.fieldCount(r) !== layout.width)
      problems.push({ code: 'ragged_row', reason: `the row has ${rows.fieldCount(r)} fields, the header has ${layout.width}` });
    else {
      const id = rows.text(layout.id, r);
      if (id === null) problems.push({ code: 'missing_id', reason: `the id column is empty` });
      for (let f = 0; f < layout.features.length; f += 1) {
        const { feature, column } = layout.features[f]!;
        const name = feature.name;
        if (rows.isEmpty(column, r)) {
          if (!feature.nullable) problems.push({ code: `missing_value:${name}`, reason: `'${name}' is empty and not nullable` });
          else if (feature.type === 'categorical') pendingText[f] = null;
          else numeric[name]![kept] = NaN;
          continue;
        }
        switch (feature.type) {
          case 'numeric': {
            const v = rows.number(column, r);
            if (!Number.isFinite(v)) {
              const text = rows.text(column, r);
              const word = Number.isNaN(v) && !/^\s*[+-]?nan\s*$/i.test(text ?? '');
              problems.push(
                word
                  ? { code: `not_a_number:${name}`, reason: `'${name}' is ${show(text)}, not a number` }
                  : { code: `not_finite:${name}`, reason: `'${name}' is ${show(text)}, not a finite number` },
              );
            } else if (feature.strictRange && feature.range && (v < feature.range.min || v > feature.range.max)) {
              problems.push({
                code: `out_of_range:${name}`,
                reason: `'${name}' is ${v}, outside the allowed range [${feature.range.min}, ${feature.range.max}]`,
              });
            } else numeric[name]![kept] = v;
            break;
          }
          case 'categorical': {
            const text = rows.text(column, r);
            const set = allowed.get(name);
            if (set && text !== null && !set.has(text))
              problems.push({ code: `unknown_value:${name}`, reason: `'${name}' is ${show(text)}, not one of the allowed values` });
            pendingText[f] = text;
            break;
          }
          case 'boolean': {
            const text = (rows.text(column, r) ?? '').trim().toLowerCase();
            if (TRUE.has(text)) numeric[name]![kept] = 1;
            else if (FALSE.has(text)) numeric[name]![kept] = 0;
            else problems.push({ code: `not_a_boolean:${name}`, reason: `'${name}' is ${show(text)}, not a boolean` });
            break;
          }
          case 'datetime': {
            const t = parseDateTime(rows.text(column, r));
            if (Number.isNaN(t))
              problems.push({ code: `not_a_datetime:${name}`, reason: `'${name}' is ${show(rows.text(column, r))}, not a date-time` });
            else numeric[name]![kept] = t;
            break;
          }
        }
      }
      if (timestamps && layout.timestamp !== undefined && !rows.isEmpty(layout.timestamp, r)) {
        const t = parseDateTime(rows.text(layout.timestamp, r));
        if (Number.isNaN(t))
          problems.push({ code: 'bad_timestamp', reason: `the timestamp ${show(rows.text(layout.timestamp, r))} is not a date-time` });
        else timestamps[kept] = t;
      } else if (timestamps) timestamps[kept] = NaN;
      if (problems.length === 0) {
        ids.push(id!);
        for (let f = 0; f < layout.features.length; f += 1) {
          const { feature } = layout.features[f]!;
          if (feature.type === 'categorical') categorical[feature.name]!.push(pendingText[f] ?? null);
        }
        for (const s of layout.segments) segments[s.name]!.push(rows.text(s.column, r));
        rowNumbers[kept] = rows.rowNumber(r);
        sourceRows[kept] = r;
        kept += 1;
        continue;
      }
    }
    const raw = rows.rawBytes?.(r);
    rejected.push({
      row: rows.rowNumber(r),
      code: problems[0]!.code,
      reason: problems.map((p) => p.reason).join('; '),
      cells: rows.rawCells(r),
      ...(raw ? { rawBase64: raw } : {}),
    });
  }
  const trimmed: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(numeric)) trimmed[name] = values.subarray(0, kept);
  return {
    batch: { rowCount: kept, numeric: trimmed, categorical },
    rowNumbers: rowNumbers.subarray(0, kept),
    sourceRows: sourceRows.subarray(0, kept),
    ids,
    ...(timestamps ? { timestamps: timestamps.subarray(0, kept) } : {}),
    segments,
    rejected,
  };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * ISO 8601 date-times; a date alone is midnight UTC and a date-time without an offset is read as
 * UTC (not the machine's zone), so scoring gives the same answer everywhere.
 */
export function parseDateTime(text: string | null): number {
  if (text === null) return NaN;
  const s = text.trim();
  if (DATE_ONLY.test(s)) return Date.parse(`${s}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(s)) return NaN;
  const iso = s.replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
}
