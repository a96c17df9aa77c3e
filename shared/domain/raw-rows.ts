/** A column's cells of one batch as byte ranges of one buffer: its UTF-8 text, without a string per cell. */
export interface Utf8Cells {
  bytes: Uint8Array;
  /** Where row r's bytes start, per row of the batch. */
  starts: Int32Array;
  /** Row r's byte length; -1 for an empty cell (one `text` answers null for). */
  lengths: Int32Array;
}

/**
 * Rows as a reader found them, before validation: cells addressed by (column, row), parsed on
 * demand so readers can avoid building a string per cell. CSV and Parquet readers implement it;
 * row validation turns it into a RowBatch plus rejected rows.
 */
export interface RawRows {
  /** Column names from the file's header or schema, in file order. */
  readonly columns: readonly string[];
  readonly rowCount: number;
  /** 1-based number of the row in its source file (data rows; the header is not counted). */
  rowNumber(row: number): number;
  /** How many fields the row has (a ragged CSV row has more or fewer than `columns`). */
  fieldCount(row: number): number;
  /** Why the row cannot be read at all (invalid UTF-8, malformed quoting), or undefined. */
  defect(row: number): string | undefined;
  /** True when the cell is absent or empty (a missing value). */
  isEmpty(column: number, row: number): boolean;
  /** The cell as a number: NaN when it is not one; `NaN`/`Infinity` spelled out parse as such. */
  number(column: number, row: number): number;
  /**
   * `number(column, row)` for every row, written into `out`. Lets a reader parse a whole column in
   * one loop that stores doubles unboxed (a number returned per call is a heap allocation).
   */
  numbers?(column: number, out: Float64Array): void;
  /**
   * The column's numbers when the reader already parsed them (`number` semantics), handed over:
   * the caller may overwrite the array, and the reader parses from its bytes if asked again.
   * Undefined when the reader has not parsed that column.
   */
  takeNumbers?(column: number): Float64Array | undefined;
  /** The cell as text, or null when empty. */
  text(column: number, row: number): string | null;
  /**
   * True when the cell is a JSON number a double may not hold as it was sent: a whole number past
   * ±(2^53 - 1) (`9007199254740993` reads as ...992), an infinity (`1e400`), or a number whose
   * text, where the reader has it, the double does not hold (`0.12345678901234567891` reads as
   * ...68). Only JSON rows have such cells; a file's cells are text, and ids are read as that text.
   */
  lossyNumber?(column: number, row: number): boolean;
  /**
   * The cell as text for low-cardinality columns (categories, segment keys): a reader may return
   * one shared string per distinct value instead of decoding each cell.
   */
  symbol?(column: number, row: number): string | null;
  /**
   * The cell as epoch milliseconds when the reader can tell without building text (Parquet
   * timestamps, ISO text parsed from bytes); NaN or undefined sends validation to `text`.
   */
  epochMillis?(column: number, row: number): number | undefined;
  /**
   * The column's cells as UTF-8 byte ranges (the bytes `text` decodes), when the reader holds them
   * so; undefined otherwise. Lets a join hash and compare ids without building a string per row.
   */
  utf8?(column: number): Utf8Cells | undefined;
  /** Every field of the row as text, for quarantine records (nothing is lost). */
  rawCells(row: number): (string | null)[];
  /** The row's bytes in base64 when its text would not round-trip (invalid UTF-8). */
  rawBytes?(row: number): string | undefined;
}
