import { createHash } from 'node:crypto';

import { hyparquet, hyparquetWriter, writeMetadata, type WriterFileMetaData } from '../../shared/adapters/tabular/hyparquet';
import type { ModelInputs } from '../../shared/domain/model-inputs';
import type { RowBatch } from '../../shared/domain/tabular';
import type { ModelArtifact } from '../../shared/ports/model-runtime';
import type { ModelDefinition } from '../../shared/schemas/model';
import type { ModelSignature } from '../../shared/schemas/signature';
import type { ApplyTransform } from '../../shared/usecases/score-chunk';

/**
 * A stand-in for fitted transforms in pipeline tests: the named numeric columns, in order, as the
 * feature matrix of the input `inputName`; a row with a missing value is rejected the way an
 * un-imputed column would be.
 */
export function passThroughTransform(names: string[], inputName = 'features'): ApplyTransform {
  return (batch: RowBatch) => {
    const values = new Float32Array(batch.rowCount * names.length);
    const keptRows: number[] = [];
    const rejected: { row: number; reason: string }[] = [];
    for (let r = 0; r < batch.rowCount; r += 1) {
      const missing = names.find((n) => Number.isNaN(batch.numeric[n]![r]));
      if (missing) {
        rejected.push({ row: r, reason: `'${missing}' is missing and no imputer covers it` });
        continue;
      }
      names.forEach((n, j) => (values[keptRows.length * names.length + j] = batch.numeric[n]![r]!));
      keptRows.push(r);
    }
    const matrix = values.subarray(0, keptRows.length * names.length);
    return { inputs: matrixInputs(inputName, keptRows.length, names.length, matrix), keptRows, rejected };
  };
}

export function artifactOf(
  bytes: Buffer,
  signature: ModelSignature,
  definition: Pick<ModelDefinition, 'name' | 'task' | 'classLabels'>,
  version = 1,
): ModelArtifact {
  return {
    model: definition.name,
    version,
    task: definition.task,
    ...(definition.classLabels ? { classLabels: definition.classLabels } : {}),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    signature,
    fetch: () => Promise.resolve(bytes),
  };
}

/** One float32 [rows, width] input. */
export function matrixInputs(name: string, rows: number, width: number, values: Float32Array): ModelInputs {
  return { rows, tensors: [{ name, type: 'float32', rowShape: [width], values }] };
}

/** Decodes a Parquet file into row objects (bigints as numbers) for assertions. */
export async function readParquetRows(buf: Buffer): Promise<Record<string, unknown>[]> {
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const rows = await hyparquet.parquetReadObjects({ file });
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}

/** Writes columns to a Parquet buffer with the given row-group size. */
export function parquetOf(columns: { name: string; data: unknown[]; type: 'DOUBLE' | 'STRING' | 'INT32' | 'INT64' | 'BOOLEAN' }[], rowGroupSize: number): Buffer {
  const ab = hyparquetWriter.parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.data as never, type: c.type, nullable: true })),
    rowGroupSize,
  });
  return Buffer.from(ab);
}

/** The Parquet file with a footer that claims `rows` rows in each row group (and the file): a lying footer. */
export function withFooterRows(file: Buffer, rows: bigint): Buffer {
  const footerLength = file.readUInt32LE(file.length - 8);
  const metadata = hyparquet.parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.length) as ArrayBuffer);
  metadata.num_rows = rows * BigInt(metadata.row_groups.length);
  for (const group of metadata.row_groups) group.num_rows = rows;
  const writer = new hyparquetWriter.ByteWriter();
  writeMetadata(writer, metadata as unknown as WriterFileMetaData);
  const footer = Buffer.from(writer.getBuffer());
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(footer.length, 0);
  tail.write('PAR1', 4);
  return Buffer.concat([file.subarray(0, file.length - 8 - footerLength), footer, tail]);
}
