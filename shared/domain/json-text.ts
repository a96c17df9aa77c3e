import { errors } from './errors';
import { repeatedKey } from './repeated-key';

/**
 * Parses JSON text as people's tools write it: a leading byte-order mark (what Windows PowerShell
 * and some editors put before UTF-8 text) is not part of the JSON, so it is skipped rather than
 * refused as an unexpected character.
 */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
}

/**
 * JSON text a caller sent (a request body, a registration manifest), read as `parseJsonText` reads
 * it, or a VALIDATION_ERROR naming `what` when it is not JSON or names a field twice in one object:
 * JSON.parse keeps the last of two values silently, one the sender may not have meant.
 */
export function parseSentJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (e) {
    throw errors.validation(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  const repeated = repeatedKey(text);
  if (repeated !== undefined) throw errors.validation(`${what} names '${repeated}' twice in one object: each name once`, { repeated });
  return value;
}
