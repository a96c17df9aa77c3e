import { errors } from './errors';
import { InexactJsonNumber } from './json-number';
import { type JsonPath, scanJsonText } from './json-text-scan';

/**
 * Parses JSON text as people's tools write it: a leading byte-order mark (what Windows PowerShell
 * and some editors put before UTF-8 text) is not part of the JSON, so it is skipped rather than
 * refused as an unexpected character.
 */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
}

/**
 * How deeply sent JSON may nest arrays and objects. No body or manifest the app reads nests past a
 * dozen levels, and what reads it (the checks below, schemas, merge patches, JSON.stringify) walks
 * it recursively: JSON.parse takes half a million levels in a few hundred KB, which overflowed the
 * stack of those walks (a 500) where a 400 is due.
 */
export const MAX_SENT_JSON_DEPTH = 64;

/**
 * JSON text a caller sent (a request body, a registration manifest), read as `parseJsonText` reads
 * it, or a VALIDATION_ERROR naming `what` when it is not JSON, nests deeper than
 * MAX_SENT_JSON_DEPTH, names a field twice in one object (JSON.parse keeps the last of two
 * values silently, one the sender may not have meant), has a member named `__proto__`, or text
 * with half of a surrogate pair. With `keepInexactNumbers`, a number whose text the double does
 * not hold as written is an InexactJsonNumber (its text and the double) instead of the double.
 */
export function parseSentJson(text: string, what: string, options: { keepInexactNumbers?: boolean } = {}): unknown {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (e) {
    throw errors.validation(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  // The text first: nesting too deep for the recursive walk below is refused before it runs.
  const { repeated, tooDeep, inexactNumbers = [] } = scanJsonText(text, MAX_SENT_JSON_DEPTH, options.keepInexactNumbers === true);
  if (tooDeep) {
    throw errors.validation(`${what} nests arrays and objects more than ${MAX_SENT_JSON_DEPTH} levels deep: no field takes so deep a value`, { maxDepth: MAX_SENT_JSON_DEPTH });
  }
  if (repeated !== undefined) throw errors.validation(`${what} names '${repeated}' twice in one object: each name once`, { repeated });
  const { proto, halfPair } = valueProblems(value);
  if (proto !== undefined) throw errors.validation(`${what} has a member named '__proto__' (at ${proto}): no field is named so`, { path: proto });
  if (halfPair !== undefined) {
    throw errors.validation(`${what} has text that is not Unicode at ${halfPair}: half of a surrogate pair (an escape such as \\ud83d without its other half); send whole characters`, { path: halfPair });
  }
  if (!options.keepInexactNumbers) return value;
  return inexactNumbers.reduce((kept, { path, text: sent }) => withInexactNumber(kept, path, sent), value);
}

/** `value` with the number at `path` (a member or item, never `__proto__`: refused above) made an InexactJsonNumber. */
function withInexactNumber(value: unknown, path: JsonPath, sent: string): unknown {
  if (path.length === 0) return new InexactJsonNumber(sent, value as number);
  let holder = value as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) holder = holder[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  holder[last] = new InexactJsonNumber(sent, holder[last] as number);
  return value;
}

/** Half of a UTF-16 surrogate pair: a high one not followed by a low one, or a low one not after a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What parsed JSON holds that schemas would not tell, each as the path (`$...`) of its first place. */
interface ValueProblems {
  /**
   * A member named `__proto__` (JSON.parse makes it an own member). Schemas would drop it silently
   * (zod does, to keep it from becoming a prototype), so a caller who sent one would never hear it
   * was ignored: no field anywhere is named so.
   */
  proto?: string;
  /**
   * A string (or a member name) holding half of a surrogate pair. UTF-8 bodies cannot carry one,
   * but a `\ud800` escape can: stored as sent, it is no character, and a Service Bus event (UTF-8)
   * would carry U+FFFD in its place, so the ledger and the event would disagree.
   */
  halfPair?: string;
}

/** One walk of parsed JSON for both problems; it stops once a `__proto__` member, the weightier, is found. */
function valueProblems(value: unknown, path = '$', found: ValueProblems = {}): ValueProblems {
  if (found.proto !== undefined) return found;
  if (typeof value === 'string') {
    if (found.halfPair === undefined && LONE_SURROGATE.test(value)) found.halfPair = path;
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => valueProblems(item, `${path}[${i}]`, found));
  } else if (typeof value === 'object' && value !== null) {
    if (Object.hasOwn(value, '__proto__')) found.proto = `${path}.__proto__`;
    for (const [key, member] of Object.entries(value)) {
      // The name as a JSON escape shows it (`\ud83d`): the half itself would not print.
      if (found.halfPair === undefined && LONE_SURROGATE.test(key)) found.halfPair = `${path}.${JSON.stringify(key).slice(1, -1)}`;
      valueProblems(member, `${path}.${key}`, found);
    }
  }
  return found;
}
