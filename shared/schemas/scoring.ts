import { z } from 'zod';

import { modelNameSchema, versionNumberSchema } from './common';

const count = z.number().int().nonnegative();

/** A byte range of an uncompressed CSV that starts at a record start (after the header). */
export const csvChunkSchema = z.object({
  format: z.literal('csv'),
  index: count,
  offset: count,
  /** Bytes in the range; the range ends at a record end or at the end of the file. */
  length: count,
  /** File row number (1-based, header excluded) of the first record in the range. */
  firstRow: z.number().int().positive(),
  rows: count,
  /** The file's header: a range after the first one does not contain it. */
  columns: z.array(z.string()),
  compression: z.literal('none'),
});
export type CsvChunk = z.infer<typeof csvChunkSchema>;

/** A gzip CSV cannot be split (no random access): the whole file is one chunk. */
export const gzipCsvChunkSchema = z.object({
  format: z.literal('csv'),
  index: z.literal(0),
  compression: z.literal('gzip'),
});

/** Row groups [rowGroupStart, rowGroupEnd) of a Parquet file. */
export const parquetChunkSchema = z.object({
  format: z.literal('parquet'),
  index: count,
  rowGroupStart: count,
  rowGroupEnd: count,
  firstRow: z.number().int().positive(),
  rows: count,
});

/** One unit of fan-out: scored independently and deterministically by `scoreChunk`. */
export const chunkSchema = z.union([csvChunkSchema, gzipCsvChunkSchema, parquetChunkSchema]);
export type Chunk = z.infer<typeof chunkSchema>;

export const chunkPlanSchema = z.object({
  source: z.string().min(1),
  format: z.enum(['csv', 'parquet']),
  size: count,
  etag: z.string().optional(),
  /** The file's columns (header or Parquet schema). */
  columns: z.array(z.string()),
  /** Data rows, when known without decompressing (not for gzip). */
  rows: count.optional(),
  chunks: z.array(chunkSchema),
});
export type ChunkPlan = z.infer<typeof chunkPlanSchema>;

/** What scoring one chunk produced. Counts always add up: rowsRead = rowsScored + rowsRejected. */
export const chunkSummarySchema = z.object({
  model: modelNameSchema,
  version: versionNumberSchema,
  runId: z.string().min(1),
  chunkIndex: count,
  rowsRead: count,
  rowsScored: count,
  rowsRejected: count,
  /** The predictions part (written even when empty, so a rerun replaces it). */
  partPath: z.string().min(1),
  /** Rejected rows with reasons, when there are any. */
  quarantinePath: z.string().min(1).optional(),
  /** Rejection reasons and how many rows each rejected (first problem per row). */
  rejectionReasons: z.record(z.string(), count),
});
export type ChunkSummary = z.infer<typeof chunkSummarySchema>;

/** One quarantined row, one JSON line per row. */
export const quarantineRecordSchema = z.object({
  row: z.number().int().positive(),
  reason: z.string(),
  cells: z.array(z.string().nullable()),
  /** The raw bytes in base64 when the row is not valid UTF-8. */
  rawBase64: z.string().optional(),
});
export type QuarantineRecord = z.infer<typeof quarantineRecordSchema>;
