import { errors } from '../errors';

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

  constructor(
    readonly rows: number,
    private readonly pool?: ColumnPool,
  ) {}

  /** A new array of `rows` values for a step's output (zeroed when `zeroed`). */
  alloc(zeroed = false): Float64Array {
    const reused = this.pool?.take(this.rows);
    if (reused) {
      if (zeroed) reused.fill(0);
      return reused;
    }
    return new Float64Array(this.rows);
  }

  /** Takes back a scratch array from `alloc` that no column refers to. */
  recycle(values: Float64Array): void {
    this.pool?.give(values);
  }

  /** Hands the arrays this frame allocated back to its pool; the frame must not be used after. */
  release(): void {
    if (!this.pool) return;
    for (const values of this.owned) this.pool.give(values);
    this.owned.clear();
    this.columns.clear();
  }

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
      throw errors.validation(
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
      throw errors.validation(
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
      throw errors.validation(
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
    const copy = this.alloc();
    copy.set(source);
    return copy;
  }

  /**
   * An array to write an element-wise step's output for `source` into: `source` itself when the
   * output replaces it and the frame owns it, otherwise a fresh array with unspecified contents
   * (the step writes every element, so copying `source` first would be wasted work).
   */
  output(source: Float64Array, sourceName: string, outputName: string): Float64Array {
    if (sourceName === outputName && this.owned.has(source)) return source;
    return this.alloc();
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

/**
 * Arrays reused from one block to the next while applying transforms, so a million rows do not
 * allocate (and collect) thousands of short-lived arrays.
 */
export class ColumnPool {
  private readonly free = new Map<number, Float64Array[]>();

  take(length: number): Float64Array | undefined {
    return this.free.get(length)?.pop();
  }

  give(values: Float64Array): void {
    const list = this.free.get(values.length);
    if (list) list.push(values);
    else this.free.set(values.length, [values]);
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
