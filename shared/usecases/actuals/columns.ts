import type { RawRows } from '../../domain/raw-rows';
import type { OutputColumn, OutputColumnType } from '../../ports/tabular-files';
import type { ModelDefinition } from '../../schemas/model';
import { outputColumns } from '../score-chunk';

/**
 * Labelled data (`datasets/{model}/labelled/{windowId}/{actualsId}.parquet`): the columns of the
 * prediction that an id joined to, then the actual and where it came from.
 */
export const ACTUAL_COLUMN = 'actual';
/** The actuals file the row's actual came from (its actuals id). */
export const ACTUALS_ID_COLUMN = 'actuals_id';
/** The actual's row in that file (1-based, header excluded). */
export const ACTUALS_ROW_COLUMN = 'actuals_row';
/** When that file arrived: for an id labelled by several files, the latest file's actual counts. */
export const ACTUALS_AT_COLUMN = 'actuals_at';

export interface ColumnSpec {
  name: string;
  type: OutputColumnType;
}

/** The columns of a labelled file, in order: the prediction part's, then `actual` and its provenance. */
export function labelledColumns(definition: ModelDefinition): ColumnSpec[] {
  return [
    ...outputColumns(definition),
    { name: ACTUAL_COLUMN, type: definition.task === 'regression' ? 'double' : 'string' },
    { name: ACTUALS_ID_COLUMN, type: 'string' },
    { name: ACTUALS_ROW_COLUMN, type: 'int32' },
    { name: ACTUALS_AT_COLUMN, type: 'timestamp' },
  ];
}

/** One string per distinct value, numbered in order of appearance (segments, labels, run ids). */
export class Interner {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];

  /** The value's code; -1 for null. */
  code(value: string | null): number {
    if (value === null) return -1;
    let k = this.index.get(value);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(value);
      this.index.set(value, k);
    }
    return k;
  }

  value(code: number): string | null {
    return code < 0 ? null : this.values[code]!;
  }
}

/** The cell as epoch milliseconds (Parquet timestamps directly, text parsed), NaN when empty. */
export function timestampOf(raw: RawRows, column: number, row: number): number {
  const ms = raw.epochMillis?.(column, row);
  if (ms !== undefined && ms === ms) return ms;
  const text = raw.text(column, row);
  return text === null ? NaN : Date.parse(text);
}

type SlotColumn =
  | { name: string; type: 'string'; codes: Int32Array; interner: Interner }
  | { name: string; type: 'double' | 'timestamp'; values: Float64Array }
  | { name: string; type: 'int32'; values: Int32Array };

/**
 * Values of some columns kept per slot (an id's dense index) in typed arrays: strings as codes of
 * an interner, numbers unboxed. A join keeps the winning prediction of each id here.
 */
export class SlotColumns {
  private readonly columns: SlotColumn[];

  constructor(specs: readonly ColumnSpec[], capacity: number) {
    this.columns = specs.map((s): SlotColumn => {
      if (s.type === 'string') return { name: s.name, type: s.type, codes: new Int32Array(capacity).fill(-1), interner: new Interner() };
      if (s.type === 'int32') return { name: s.name, type: s.type, values: new Int32Array(capacity) };
      return { name: s.name, type: s.type, values: new Float64Array(capacity).fill(NaN) };
    });
  }

  /**
   * A copier of rows into slots, for batches with these columns (a column they lack stays
   * empty): `rows[k]` of the batch into `slots[k]`, for k < count, column by column (numbers
   * in one bulk read per column). A later pair overwrites an earlier one for the same slot.
   */
  copier(names: readonly string[]): (raw: RawRows, rows: Int32Array, slots: Int32Array, count: number) => void {
    const bound = this.columns.map((column) => ({ column, at: names.indexOf(column.name) })).filter((b) => b.at >= 0);
    let scratch = new Float64Array(0);
    return (raw, rows, slots, count) => {
      if (count === 0) return;
      for (const { column, at } of bound) {
        if (column.type === 'string') {
          const symbol = raw.symbol ? raw.symbol.bind(raw) : raw.text.bind(raw);
          for (let k = 0; k < count; k += 1) column.codes[slots[k]!] = column.interner.code(symbol(at, rows[k]!));
          continue;
        }
        if (scratch.length < raw.rowCount) scratch = new Float64Array(raw.rowCount);
        const values = scratch.subarray(0, raw.rowCount);
        if (raw.numbers) raw.numbers(at, values);
        else for (let r = 0; r < raw.rowCount; r += 1) values[r] = raw.number(at, r);
        for (let k = 0; k < count; k += 1) {
          const row = rows[k]!;
          let v = values[row]!;
          // A timestamp given as text (not a Parquet timestamp) is parsed where numbers are NaN.
          if (column.type === 'timestamp' && v !== v && !raw.isEmpty(at, row)) v = timestampOf(raw, at, row);
          column.values[slots[k]!] = column.type === 'int32' ? v | 0 : v;
        }
      }
    };
  }

  /** The text of a string column at a slot (null when empty or not a string column). */
  text(name: string, slot: number): string | null {
    const column = this.columns.find((c) => c.name === name);
    return column?.type === 'string' ? column.interner.value(column.codes[slot]!) : null;
  }

  /** The numbers of a double or timestamp column, per slot. */
  numbers(name: string): Float64Array | undefined {
    const column = this.columns.find((c) => c.name === name);
    return column && (column.type === 'double' || column.type === 'timestamp') ? column.values : undefined;
  }

  /** The columns' values for `slots[from, to)`, in that order, as output columns. */
  gather(slots: Int32Array, from: number, to: number): OutputColumn[] {
    const n = to - from;
    return this.columns.map((column): OutputColumn => {
      if (column.type === 'string') {
        const values = new Array<string | null>(n);
        for (let i = 0; i < n; i += 1) values[i] = column.interner.value(column.codes[slots[from + i]!]!);
        return { name: column.name, type: column.type, values };
      }
      const values = column.type === 'int32' ? new Int32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i += 1) values[i] = column.values[slots[from + i]!]!;
      return { name: column.name, type: column.type, values };
    });
  }
}
