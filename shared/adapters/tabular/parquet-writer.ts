import type { OutputColumn, ParquetSink } from '../../ports/tabular-files';
import { hyparquetWriter, writeMetadata, type WriterColumnChunk, type WriterRowGroup, type WriterSchemaElement } from './hyparquet';
import { schemaElement, writeColumnChunk } from './parquet-encoder';

const MAGIC = 0x31524150; // "PAR1"

/**
 * A Parquet file built in memory, one row group per call (SNAPPY; dictionary pages for
 * low-cardinality strings; timestamp statistics). Output bytes depend only on the row groups
 * written, so the same rows give the same file.
 */
export class BufferedParquetSink implements ParquetSink {
  private readonly writer = new hyparquetWriter.ByteWriter(1 << 20);
  private schema: WriterSchemaElement[] | undefined;
  private readonly rowGroups: WriterRowGroup[] = [];
  private rows = 0;

  writeRowGroup(columns: OutputColumn[]): void {
    const rows = columns[0]?.values.length ?? 0;
    if (!this.schema) {
      this.schema = [{ name: 'root', num_children: columns.length }, ...columns.map((c) => schemaElement(c.name, c.type))];
      this.writer.appendUint32(MAGIC);
    }
    if (rows === 0) return;
    const start = this.writer.offset;
    const chunks: WriterColumnChunk[] = columns.map((c) => writeColumnChunk(this.writer, c, rows));
    this.rowGroups.push({
      columns: chunks,
      total_byte_size: chunks.reduce((sum, c) => sum + (c.meta_data?.total_uncompressed_size ?? 0n), 0n),
      num_rows: BigInt(rows),
      total_compressed_size: BigInt(this.writer.offset - start),
    });
    this.rows += rows;
  }

  finish(): Buffer {
    if (!this.schema) throw new Error('a Parquet file needs at least one row group (its schema)');
    // writeMetadata writes the footer and its length word; only the magic follows.
    writeMetadata(this.writer, { version: 2, created_by: 'mlops-scoring', schema: this.schema, num_rows: BigInt(this.rows), row_groups: this.rowGroups, metadata_length: 0 });
    this.writer.appendUint32(MAGIC);
    return Buffer.from(this.writer.getBuffer());
  }
}
