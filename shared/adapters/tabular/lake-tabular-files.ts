import { type AppConfig, config } from '../../config';
import { type CsvLimits, csvLimits } from '../../domain/csv-limits';
import { errors } from '../../domain/errors';
import type { RawRows } from '../../domain/raw-rows';
import type { DataLake } from '../../ports/data-lake';
import type { OpenedChunk, ParquetSink, ReadHints, TabularFiles } from '../../ports/tabular-files';
import type { Chunk, ChunkPlan } from '../../schemas/scoring';
import { planCsvChunks } from './csv-chunk-planner';
import { isGzipPath, readCsv } from './csv-reader';
import type { FileMetaData } from './hyparquet';
import { concatLakeParquet } from './parquet-concat';
import { lakeAsyncBuffer, parquetColumns, readParquetMetadata, readParquetRowGroups, rowGroupRows } from './parquet-reader';
import { BufferedParquetSink } from './parquet-writer';

export type DataFormat = 'csv' | 'parquet';

/** The format a data file is read as, from its name: `.parquet`, `.csv`, `.csv.gz`. */
export function formatOf(path: string): DataFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.csv') || lower.endsWith('.csv.gz')) return 'csv';
  throw errors.invalidInputFile(`cannot tell the format of '${path}': name it .csv, .csv.gz or .parquet`);
}

/**
 * Groups consecutive row groups until each chunk holds at least `targetRows` rows. With
 * `multiple` > 1, a file of more than one such chunk is cut instead into a multiple of `multiple`
 * chunks (at most one per row group) of about even rows, so that many workers finish together.
 */
export function planRowGroups(groupRows: number[], targetRows: number, multiple = 1): Chunk[] {
  const byTarget: number[] = [];
  let rows = 0;
  groupRows.forEach((n, g) => {
    rows += n;
    if (rows >= targetRows || g === groupRows.length - 1) {
      byTarget.push(g + 1);
      rows = 0;
    }
  });
  const count = Math.min(groupRows.length, Math.ceil(byTarget.length / multiple) * multiple);
  const ends = multiple <= 1 || byTarget.length <= 1 ? byTarget : evenCuts(groupRows, count);
  const chunks: Chunk[] = [];
  let start = 0;
  let firstRow = 1;
  for (const end of ends) {
    const n = groupRows.slice(start, end).reduce((a, b) => a + b, 0);
    chunks.push({ format: 'parquet', index: chunks.length, rowGroupStart: start, rowGroupEnd: end, firstRow, rows: n });
    firstRow += n;
    start = end;
  }
  return chunks;
}

/** Ends (exclusive group indexes) of `count` runs of groups, each cut at the group end nearest its share of the rows. */
function evenCuts(groupRows: number[], count: number): number[] {
  const total = groupRows.reduce((a, b) => a + b, 0);
  const before = [0];
  for (const n of groupRows) before.push(before[before.length - 1]! + n);
  const ends: number[] = [];
  let end = 0;
  for (let k = 1; k < count; k += 1) {
    const share = (k * total) / count;
    // Leave at least one group for each chunk still to come.
    const last = groupRows.length - (count - k);
    let best = end + 1;
    for (let g = end + 1; g <= last; g += 1) if (Math.abs(before[g]! - share) < Math.abs(before[best]! - share)) best = g;
    ends.push(best);
    end = best;
  }
  ends.push(groupRows.length);
  return ends;
}

/**
 * The byte target that splits `size` into about `targetBytes` ranges whose count is a multiple
 * of `multiple`, all of even size (ranges end just past their target, so the last is a little
 * shorter, never a sliver). A file within one target stays one range.
 */
export function balancedChunkBytes(size: number, targetBytes: number, multiple = 1): number {
  const nominal = Math.ceil(size / targetBytes);
  if (multiple <= 1 || nominal <= 1) return targetBytes;
  const count = Math.ceil(nominal / multiple) * multiple;
  return Math.max(1, Math.ceil(size / count));
}

async function* prepend(first: RawRows, rest: AsyncGenerator<RawRows>): AsyncGenerator<RawRows> {
  try {
    yield first;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return(undefined);
  }
}

/** How many Parquet footers a LakeTabularFiles keeps (a join plans and opens its parts one or two ahead). */
const FOOTERS_KEPT = 16;

export interface LakeTabularFilesOptions {
  /** Bytes of CSV parsed at a time (see readCsv). */
  csvWindowBytes?: number;
  /** Record and field bounds of CSV files (csv-limits.ts); the defaults for those not given. */
  csvLimits?: Partial<CsvLimits>;
}

/**
 * TabularFiles over the DataLake port (Blob Storage in production, local files in the CLI). The
 * CSV bounds apply alike when planning and reading, so both frame broken records the same way.
 */
export class LakeTabularFiles implements TabularFiles {
  private readonly limits: CsvLimits;
  /** Footers read lately, by path, with the blob version they belong to: planning then opening a file reads its footer once. */
  private readonly footers = new Map<string, { etag: string; metadata: FileMetaData }>();

  constructor(
    private readonly lake: DataLake,
    private readonly options: LakeTabularFilesOptions = {},
  ) {
    this.limits = csvLimits(options.csvLimits);
  }

  private async size(path: string): Promise<{ size: number; etag: string }> {
    const info = await this.lake.stat(path);
    if (!info) throw errors.notFound(`the data file '${path}' does not exist`, { path });
    return info;
  }

  /** The file's footer, read again only when the blob changed (another ETag) or it fell out of the few kept. */
  private async footer(path: string, info: { size: number; etag: string }): Promise<FileMetaData> {
    const known = this.footers.get(path);
    if (known?.etag === info.etag) return known.metadata;
    const metadata = await readParquetMetadata(lakeAsyncBuffer(this.lake, path, info.size));
    this.footers.delete(path);
    this.footers.set(path, { etag: info.etag, metadata });
    // Oldest first in a Map: keep the last few.
    if (this.footers.size > FOOTERS_KEPT) this.footers.delete(this.footers.keys().next().value!);
    return metadata;
  }

  async plan(path: string, options: { targetChunkBytes: number; targetChunkRows: number; chunkCountMultiple?: number }): Promise<ChunkPlan> {
    const format = formatOf(path);
    const { size, etag } = await this.size(path);
    if (format === 'parquet') {
      const metadata = await this.footer(path, { size, etag });
      const groups = rowGroupRows(metadata);
      return {
        source: path,
        format,
        size,
        etag,
        columns: parquetColumns(metadata),
        rows: groups.reduce((a, b) => a + b, 0),
        chunks: planRowGroups(groups, options.targetChunkRows, options.chunkCountMultiple),
      };
    }
    if (isGzipPath(path)) {
      const opened = await this.open(path, { format: 'csv', index: 0, compression: 'gzip' });
      await opened.batches.return(undefined);
      return { source: path, format, size, etag, columns: [...opened.columns], chunks: [{ format: 'csv', index: 0, compression: 'gzip' }] };
    }
    const plan = await planCsvChunks(await this.lake.read(path), balancedChunkBytes(size, options.targetChunkBytes, options.chunkCountMultiple), this.limits);
    return { source: path, format, size, etag, columns: plan.columns, rows: plan.rows, chunks: plan.chunks };
  }

  async open(path: string, chunk: Chunk, hints: ReadHints = {}): Promise<OpenedChunk> {
    const windowBytes = this.options.csvWindowBytes;
    if (chunk.format === 'parquet') {
      const info = await this.size(path);
      const file = lakeAsyncBuffer(this.lake, path, info.size);
      const metadata = await this.footer(path, info);
      const all = parquetColumns(metadata);
      const columns = hints.columns ? all.filter((c) => hints.columns!.includes(c)) : all;
      return {
        columns,
        batches: readParquetRowGroups(file, metadata, {
          start: chunk.rowGroupStart,
          end: chunk.rowGroupEnd,
          columns,
          firstRowNumber: chunk.firstRow,
          ...(hints.reuseBuffers ? { reuseBuffers: true } : {}),
        }),
      };
    }
    const csvOptions = {
      limits: this.limits,
      ...(windowBytes ? { windowBytes } : {}),
      ...(hints.numericColumns ? { numericColumns: hints.numericColumns } : {}),
    };
    if (chunk.compression === 'none') {
      const stream = await this.lake.read(path, { offset: chunk.offset, length: chunk.length });
      return {
        columns: chunk.columns,
        batches: readCsv(stream, { columns: chunk.columns, firstRowNumber: chunk.firstRow, ...csvOptions }),
      };
    }
    const batches = readCsv(await this.lake.read(path), { gzip: true, ...csvOptions });
    const first = await batches.next();
    if (first.done) throw errors.invalidInputFile('the file is empty: no header row');
    return { columns: first.value.columns, batches: prepend(first.value, batches) };
  }

  parquetSink(): ParquetSink {
    return new BufferedParquetSink();
  }

  concatParquet(parts: readonly string[], output: string): Promise<void> {
    return concatLakeParquet(this.lake, parts, output);
  }
}

/** The backend's TabularFiles: the lake, with the CSV bounds of the app settings (shared/config.ts). */
export function lakeTabularFiles(
  lake: DataLake,
  settings: Pick<AppConfig, 'CSV_MAX_RECORD_BYTES' | 'CSV_MAX_FIELD_BYTES' | 'CSV_MAX_FIELDS'> = config(),
): LakeTabularFiles {
  return new LakeTabularFiles(lake, {
    csvLimits: { maxRecordBytes: settings.CSV_MAX_RECORD_BYTES, maxFieldBytes: settings.CSV_MAX_FIELD_BYTES, maxFields: settings.CSV_MAX_FIELDS },
  });
}
