import { Utf8Scratch } from '../../domain/id-table';
import type { RawRows, Utf8Cells } from '../../domain/raw-rows';

/**
 * The id cells of a batch as byte ranges: the reader's own bytes when it keeps them (Parquet
 * text), else each cell's text encoded into a scratch buffer. Ids are compared as the text the
 * reader gives, untrimmed, as scoring stored them.
 */
export class IdCells {
  bytes: Uint8Array = new Uint8Array(0);
  start = 0;
  length = 0;
  private raw: RawRows | undefined;
  private column = 0;
  private cells: Utf8Cells | undefined;
  private readonly scratch = new Utf8Scratch();

  batch(raw: RawRows, column: number): void {
    this.raw = raw;
    this.column = column;
    this.cells = raw.utf8?.(column);
  }

  /** Points `bytes`, `start` and `length` at row `r`'s id; false when the cell is empty. */
  at(r: number): boolean {
    const cells = this.cells;
    if (cells) {
      const length = cells.lengths[r]!;
      if (length < 0) return false;
      this.bytes = cells.bytes;
      this.start = cells.starts[r]!;
      this.length = length;
      return true;
    }
    const text = this.raw!.text(this.column, r);
    if (text === null) return false;
    this.length = this.scratch.encode(text);
    this.bytes = this.scratch.bytes;
    this.start = 0;
    return true;
  }
}
