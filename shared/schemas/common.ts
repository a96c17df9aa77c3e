import { z } from 'zod';

/** Model names go into blob paths, Cosmos partition keys and instance ids: keep them boring. */
export const MODEL_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;
export const modelNameSchema = z
  .string()
  .regex(
    MODEL_NAME_PATTERN,
    'model names are 2-63 characters: lowercase letters, digits and "-", starting with a letter',
  );

/** Column names as they appear in data files and prediction outputs. */
export const columnNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.\- ]{0,127}$/,
    'column names start with a letter or "_" and use letters, digits, "_", ".", "-" or spaces',
  );

/**
 * Version numbers are written into prediction files as an int32 `model_version` column, so they
 * stop at 2^31 - 1 (the registry numbers versions 1, 2, 3, ... and never gets near it).
 */
export const MAX_VERSION_NUMBER = 2 ** 31 - 1;
export const versionNumberSchema = z.number().int().positive().max(MAX_VERSION_NUMBER);

export const isoDateTimeSchema = z.iso.datetime({ offset: true });

/** An ISO 8601 duration such as P7D or PT6H. */
export const isoDurationSchema = z
  .string()
  .regex(
    /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/,
    'an ISO 8601 duration like P7D or PT6H',
  );

export const sha256Schema = z.string().regex(/^[a-f0-9]{64}$/, 'a lowercase hex sha256');

/** A W3C trace context `traceparent` (version 00): carried in durable inputs so that a run's spans share the trace that started it. */
export const traceparentSchema = z.string().regex(/^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/, 'a W3C traceparent (00-<trace id>-<span id>-<flags>)');
