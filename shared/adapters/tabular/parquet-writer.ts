import type { OutputColumn, ParquetSink } from '../../ports/tabular-files';
import { type ColumnSource, hyparquetWriter } from './hyparquet';

const parquetType = { string: 'STRING', double: 'DOUBLE', int32: 'INT32', timestamp: 'TIMESTAMP' } as const;

function columnSource(c: OutputColumn): ColumnSource {
  let data: ColumnSource['data'];
  if (c.type === 'timestamp') {
    data = Array.from(c.values as ArrayLike<number>, (v) => (Number.isNaN(v) ? null : BigInt(v)));
  } else if (c.type === 'double') {
    data = c.values instanceof Float64Array ? c.values : Float64Array.from(c.values as ArrayLike<number>);
  } else if (c.type === 'int32') {
    data = c.values instanceof Int32Array ? c.values : Int32Array.from(c.values as ArrayLike<number>);
  } else data = Array.from(c.values);
  const nullable = c.type === 'string' || c.type === 'timestamp';
  // Min/max statistics only where readers prune by them (time ranges); elsewhere they cost time.
  return { name: c.name, data, type: parquetType[c.type], nullable, statistics: c.type === 'timestamp' };
}

/**
 * A Parquet file built in memory, one row group per call (SNAPPY, timestamp statistics). Output bytes
 * depend only on the row groups written, so the same rows give the same file.
 */
export class BufferedParquetSink implements ParquetSink {
  private readonly bytes = new hyparquetWriter.ByteWriter();
  private writer: InstanceType<typeof hyparquetWriter.ParquetWriter> | undefined;

  writeRowGroup(columns: OutputColumn[]): void {
    const columnData = columns.map(columnSource);
    const rows = columnData[0]?.data.length ?? 0;
    if (!this.writer) {
      const schema = hyparquetWriter.schemaFromColumnData({ columnData });
      this.writer = new hyparquetWriter.ParquetWriter({ writer: this.bytes, schema, createdBy: 'mlops-scoring' });
    }
    if (rows === 0 && this.writer) return;
    void this.writer.write({ columnData: columnData.map(({ type: _t, nullable: _n, ...rest }) => rest), rowGroupSize: Math.max(1, rows) });
  }

  finish(): Buffer {
    if (!this.writer) throw new Error('a Parquet file needs at least one row group (its schema)');
    void this.writer.finish();
    return Buffer.from(this.bytes.getBuffer());
  }
}
