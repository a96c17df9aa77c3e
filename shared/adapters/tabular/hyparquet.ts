/**
 * hyparquet and hyparquet-writer are ESM-only. Node >= 20.19 loads them with require(), and Jest
 * transforms them (jest.config.js), so they are required here once with their types imported in
 * ESM resolution mode.
 */
import type * as Hyparquet from 'hyparquet' with { 'resolution-mode': 'import' };
import type * as HyparquetWriter from 'hyparquet-writer' with { 'resolution-mode': 'import' };

/* eslint-disable @typescript-eslint/no-require-imports */
export const hyparquet = require('hyparquet') as typeof Hyparquet;
export const hyparquetWriter = require('hyparquet-writer') as typeof HyparquetWriter;
/* eslint-enable @typescript-eslint/no-require-imports */

export type AsyncBuffer = Hyparquet.AsyncBuffer;
export type FileMetaData = Hyparquet.FileMetaData;
export type ColumnSource = HyparquetWriter.ColumnSource;
