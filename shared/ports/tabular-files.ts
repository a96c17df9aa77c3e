import type { RawRows } from '../domain/raw-rows';
import type { Chunk, ChunkPlan } from '../schemas/scoring';

/** A chunk opened for reading: the file's columns (known before any row) and its row batches. */
export interface OpenedChunk {
  columns: readonly string[];
  /** Row batches in file order; `return()` stops early and releases the download. */
  batches: AsyncGenerator<RawRows>;
}

export type OutputColumnType = 'string' | 'double' | 'int32' | 'timestamp';

/**
 * One column of an output row group; `timestamp` values are epoch milliseconds (NaN = null).
 * `string` and `timestamp` columns may hold nulls; `double` and `int32` ones may not (a missing
 * double is NaN): the writer refuses a null there rather than store 0.
 */
export interface OutputColumn {
  name: string;
  type: OutputColumnType;
  values: ArrayLike<string | number | null>;
}

/** Builds one Parquet file row group by row group; `finish` returns the whole file. */
export interface ParquetSink {
  writeRowGroup(columns: OutputColumn[]): void;
  finish(): Buffer;
}

/**
 * What the caller is going to read, so a reader can decode it early (CSV: numbers parsed while
 * tokenizing). Only a hint: every column stays readable either way.
 */
export interface ReadHints {
  /** Columns that will be read as numbers. */
  numericColumns?: readonly string[];
  /**
   * Only these columns will be read: a reader that stores columns apart (Parquet) fetches and
   * decodes just these, and the opened chunk's `columns` are then these (those the file has).
   */
  columns?: readonly string[];
  /**
   * The consumer is done with each batch before it asks for the next one (it copies out what it
   * keeps): the reader may decode the next batches into the same memory. A batch used after that
   * would show other rows' values.
   */
  reuseBuffers?: boolean;
}

/**
 * Data files in the lake: plans chunks for fan-out (CSV byte ranges at record starts, Parquet
 * row groups), opens a chunk as streamed row batches, and encodes Parquet outputs.
 * Unreadable files fail with INVALID_INPUT_FILE.
 */
export interface TabularFiles {
  plan(path: string, options: { targetChunkBytes: number; targetChunkRows: number; chunkCountMultiple?: number }): Promise<ChunkPlan>;
  open(path: string, chunk: Chunk, hints?: ReadHints): Promise<OpenedChunk>;
  parquetSink(): ParquetSink;
  /** Writes `output` as the row groups of `parts` (Parquet files of one schema) in order, streamed. */
  concatParquet(parts: readonly string[], output: string): Promise<void>;
}
