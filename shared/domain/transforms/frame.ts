import { DomainError } from '../errors';

/** A column of the working frame: the raw inputs plus what earlier steps wrote. */
export type FrameColumn =
  | { readonly kind: 'numeric'; readonly values: Float64Array }
  | { readonly kind: 'categorical'; readonly values: ReadonlyArray<string | null> };

/**
 * The working set of named columns while fitting or applying. Arrays the frame allocated itself
 * may be overwritten in place by later steps; arrays borrowed from the caller's batch never are.
 */
export class Frame {
  private readonly columns = new Map<string, FrameColumn>();
  private readonly owned = new Set<Float64Array>();

  constructor(readonly rows: number) {}

  has(name: string): boolean {
    return this.columns.has(name);
  }

  /** Adds a column the frame must not modify (from the caller's batch). */
  borrow(name: string, column: FrameColumn): void {
    this.columns.set(name, column);
  }

  /** Adds a column the frame allocated. */
  setNumeric(name: string, values: Float64Array): void {
    this.owned.add(values);
    this.columns.set(name, { kind: 'numeric', values });
  }

  setCategorical(name: string, values: ReadonlyArray<string | null>): void {
    this.columns.set(name, { kind: 'categorical', values });
  }

  get(name: string, where: string): FrameColumn {
    const column = this.columns.get(name);
    if (!column)
      throw new DomainError(
        'VALIDATION_ERROR',
        `${where}: column '${name}' is neither an input column nor written by an earlier step`,
        {
          column: name,
        },
      );
    return column;
  }

  numeric(name: string, where: string): Float64Array {
    const column = this.get(name, where);
    if (column.kind !== 'numeric')
      throw new DomainError(
        'VALIDATION_ERROR',
        `${where}: column '${name}' is categorical, a numeric column is needed`,
        {
          column: name,
        },
      );
    return column.values;
  }

  categorical(name: string, where: string): ReadonlyArray<string | null> {
    const column = this.get(name, where);
    if (column.kind !== 'categorical')
      throw new DomainError(
        'VALIDATION_ERROR',
        `${where}: column '${name}' is numeric, a categorical column is needed`,
        {
          column: name,
        },
      );
    return column.values;
  }

  /**
   * An array to write a step's output for `source` into: `source` itself when the output replaces
   * it and the frame owns it, a fresh copy otherwise.
   */
  target(source: Float64Array, sourceName: string, outputName: string): Float64Array {
    if (sourceName === outputName && this.owned.has(source)) return source;
    return new Float64Array(source);
  }

  /** A new frame with only the rows where keep[i] is 1. */
  compact(keep: Uint8Array): Frame {
    let rows = 0;
    for (let i = 0; i < this.rows; i += 1) rows += keep[i]!;
    const next = new Frame(rows);
    for (const [name, column] of this.columns) {
      if (column.kind === 'numeric') {
        const out = new Float64Array(rows);
        let k = 0;
        for (let i = 0; i < this.rows; i += 1) if (keep[i]) out[k++] = column.values[i]!;
        next.setNumeric(name, out);
      } else {
        const out: (string | null)[] = [];
        for (let i = 0; i < this.rows; i += 1) if (keep[i]) out.push(column.values[i]!);
        next.setCategorical(name, out);
      }
    }
    return next;
  }
}

/** Records why a row cannot be scored; the first reason given for a row is kept. */
export type RejectRow = (row: number, reason: string) => void;

/**
 * A batch column by name, own properties only: a column called `constructor` or `__proto__`
 * must not resolve to something inherited from Object.prototype.
 */
export function batchColumn<T>(columns: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(columns, name) ? columns[name] : undefined;
}
