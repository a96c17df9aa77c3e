/**
 * hyparquet and hyparquet-writer are ESM-only. Node >= 20.19 loads them with require(), and Jest
 * transforms them (jest.config.js), so they are required here once with their types imported in
 * ESM resolution mode. The writer's byte writer, page header and footer serializers are
 * public modules of its package (`hyparquet-writer/src/*.js`); parquet-encoder.ts builds on them.
 */
import type * as Hyparquet from 'hyparquet' with { 'resolution-mode': 'import' };
import type * as HyparquetWriter from 'hyparquet-writer' with { 'resolution-mode': 'import' };
import type * as WriterDataPage from 'hyparquet-writer/src/datapage.js' with { 'resolution-mode': 'import' };
import type * as WriterMetadata from 'hyparquet-writer/src/metadata.js' with { 'resolution-mode': 'import' };

/* eslint-disable @typescript-eslint/no-require-imports */
export const hyparquet = require('hyparquet') as typeof Hyparquet;
export const hyparquetWriter = require('hyparquet-writer') as typeof HyparquetWriter;
export const { writePageHeader } = require('hyparquet-writer/src/datapage.js') as typeof WriterDataPage;
export const { writeMetadata } = require('hyparquet-writer/src/metadata.js') as typeof WriterMetadata;
/* eslint-enable @typescript-eslint/no-require-imports */

export type AsyncBuffer = Hyparquet.AsyncBuffer;
export type FileMetaData = Hyparquet.FileMetaData;
export type ByteWriter = InstanceType<typeof HyparquetWriter.ByteWriter>;
/** Footer types as hyparquet-writer declares them (it pins its own hyparquet version). */
export type WriterFileMetaData = Parameters<typeof WriterMetadata.writeMetadata>[1];
export type WriterSchemaElement = WriterFileMetaData['schema'][number];
export type WriterRowGroup = WriterFileMetaData['row_groups'][number];
export type WriterColumnChunk = WriterRowGroup['columns'][number];
