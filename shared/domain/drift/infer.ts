/**
 * Column types for data without a model schema (the `mlops drift` CLI): numeric when every
 * non-empty value is a number, categorical otherwise; numeric columns with at most
 * CATEGORICAL_MAX_UNIQUE distinct values count as categorical, as Evidently does.
 */
import type { ColumnKind } from './methods';

export const CATEGORICAL_MAX_UNIQUE = 5;

export type LooseValue = string | number | boolean | null;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const isEmpty = (v: LooseValue): boolean => v === null || (typeof v === 'string' && v.trim() === '');

function asNumber(v: LooseValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMBER.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** The kind of a column seen across one or more samples. */
export function inferColumnKind(samples: ReadonlyArray<readonly LooseValue[]>): ColumnKind {
  const distinct = new Set<number>();
  for (const values of samples) {
    for (const v of values) {
      if (isEmpty(v)) continue;
      const n = asNumber(v);
      if (n === undefined) return 'categorical';
      if (distinct.size <= CATEGORICAL_MAX_UNIQUE) distinct.add(n);
    }
  }
  return distinct.size <= CATEGORICAL_MAX_UNIQUE ? 'categorical' : 'numeric';
}

/** Numeric values; empty cells become NaN (missing). */
export function toNumericColumn(values: readonly LooseValue[]): Float64Array {
  return Float64Array.from(values, (v) => (isEmpty(v) ? Number.NaN : (asNumber(v) ?? Number.NaN)));
}

/** Category labels; numbers are written canonically so "1.0" and "1" are one category. */
export function toCategoricalColumn(values: readonly LooseValue[]): Array<string | null> {
  return values.map((v) => {
    if (isEmpty(v)) return null;
    const n = asNumber(v);
    return n === undefined ? String(v) : String(n);
  });
}
