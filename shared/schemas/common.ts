import { z } from 'zod';

import { addIsoDuration } from '../domain/policies/duration';

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

/** The longest duration a policy or setting may name (timeouts, cooldowns, windows). */
export const MAX_DURATION = 'P1000Y';
const DURATION_BASE = new Date('2000-01-01T00:00:00.000Z');
const DURATION_LIMIT = addIsoDuration(DURATION_BASE, MAX_DURATION).getTime();

/**
 * An ISO 8601 duration such as P7D or PT6H, of at most MAX_DURATION: beyond the dates JavaScript
 * represents (P999999Y) a deadline or cooldown end is no date at all, which failed lifecycles at
 * the approval wait and silently disabled cooldowns.
 */
export const isoDurationSchema = z
  .string()
  .regex(
    /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/,
    'an ISO 8601 duration like P7D or PT6H',
  )
  .refine(withinMaxDuration, `a duration is at most ${MAX_DURATION}`);

/** Whether a duration that matches the pattern stays within MAX_DURATION (anything else is the pattern's issue). */
function withinMaxDuration(duration: string): boolean {
  let end: number;
  try {
    end = addIsoDuration(DURATION_BASE, duration).getTime();
  } catch {
    return true;
  }
  return end <= DURATION_LIMIT;
}

export const sha256Schema = z.string().regex(/^[a-f0-9]{64}$/, 'a lowercase hex sha256');

/** A W3C trace context `traceparent` (version 00): carried in durable inputs so that a run's spans share the trace that started it. */
export const traceparentSchema = z.string().regex(/^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/, 'a W3C traceparent (00-<trace id>-<span id>-<flags>)');
