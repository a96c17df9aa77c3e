/**
 * hyparquet and hyparquet-writer are ESM-only. Node >= 20.19 loads them with require(), and Jest
 * transforms them (jest.config.js), so they are required here once with their types imported in
 * ESM resolution mode. The writer's byte writer, page header and footer serializers are
 * public modules of its package (`hyparquet-writer/src/*.js`); parquet-encoder.ts builds on them.
 * So is hyparquet's page header parser (`hyparquet/src/column.js`); parquet-column-decoder.ts uses it.
 */
import type * as Hyparquet from 'hyparquet' with { 'resolution-mode': 'import' };
import type * as HyparquetColumn from 'hyparquet/src/column.js' with { 'resolution-mode': 'import' };
import type * as HyparquetWriter from 'hyparquet-writer' with { 'resolution-mode': 'import' };
import type * as WriterDataPage from 'hyparquet-writer/src/datapage.js' with { 'resolution-mode': 'import' };
import type * as WriterMetadata from 'hyparquet-writer/src/metadata.js' with { 'resolution-mode': 'import' };

/* eslint-disable @typescript-eslint/no-require-imports */
export const hyparquet = require('hyparquet') as typeof Hyparquet;
/** The page header parser (Thrift compact protocol), for our own column chunk decoder. */
export const { parquetHeader } = require('hyparquet/src/column.js') as typeof HyparquetColumn;
export const hyparquetWriter = require('hyparquet-writer') as typeof HyparquetWriter;
export const { writePageHeader } = require('hyparquet-writer/src/datapage.js') as typeof WriterDataPage;
export const { writeMetadata } = require('hyparquet-writer/src/metadata.js') as typeof WriterMetadata;
/* eslint-enable @typescript-eslint/no-require-imports */

export type AsyncBuffer = Hyparquet.AsyncBuffer;
export type FileMetaData = Hyparquet.FileMetaData;
export type SchemaElement = Hyparquet.SchemaElement;
export type ColumnMetaData = Hyparquet.ColumnMetaData;
export type RowGroup = Hyparquet.RowGroup;
export type ColumnChunk = Hyparquet.ColumnChunk;
export type CompressionCodec = Hyparquet.CompressionCodec;
export type Compressors = Hyparquet.Compressors;
export type ByteWriter = InstanceType<typeof HyparquetWriter.ByteWriter>;
/** Footer types as hyparquet-writer declares them (it pins its own hyparquet version). */
export type WriterFileMetaData = Parameters<typeof WriterMetadata.writeMetadata>[1];
export type WriterSchemaElement = WriterFileMetaData['schema'][number];
export type WriterRowGroup = WriterFileMetaData['row_groups'][number];
export type WriterColumnChunk = WriterRowGroup['columns'][number];
