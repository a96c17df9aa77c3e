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
 * How deeply sent JSON may nest arrays and objects. No body or manifest the app reads nests past a
 * dozen levels, and what reads it (the checks below, schemas, merge patches, JSON.stringify) walks
 * it recursively: JSON.parse takes half a million levels in a few hundred KB, which overflowed the
 * stack of those walks (a 500) where a 400 is due.
 */
export const MAX_SENT_JSON_DEPTH = 64;

/** Whether valid JSON text opens more than `limit` arrays and objects inside each other. One pass, strings skipped. */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i += 1;
      while (text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/**
 * JSON text a caller sent (a request body, a registration manifest), read as `parseJsonText` reads
 * it, or a VALIDATION_ERROR naming `what` when it is not JSON, nests deeper than
 * MAX_SENT_JSON_DEPTH, names a field twice in one object (JSON.parse keeps the last of two
 * values silently, one the sender may not have meant), has a member named `__proto__`, or text
 * with half of a surrogate pair.
 */
export function parseSentJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (e) {
    throw errors.validation(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (nestedDeeperThan(text, MAX_SENT_JSON_DEPTH)) {
    throw errors.validation(`${what} nests arrays and objects more than ${MAX_SENT_JSON_DEPTH} levels deep: no field takes so deep a value`, { maxDepth: MAX_SENT_JSON_DEPTH });
  }
  const repeated = repeatedKey(text);
  if (repeated !== undefined) throw errors.validation(`${what} names '${repeated}' twice in one object: each name once`, { repeated });
  const proto = protoMemberPath(value);
  if (proto !== undefined) throw errors.validation(`${what} has a member named '__proto__' (at ${proto}): no field is named so`, { path: proto });
  const halfPair = halfSurrogateAt(value);
  if (halfPair !== undefined) {
    throw errors.validation(`${what} has text that is not Unicode at $${halfPair}: half of a surrogate pair (an escape such as \\ud83d without its other half); send whole characters`, { path: `$${halfPair}` });
  }
  return value;
}

/** Half of a UTF-16 surrogate pair: a high one not followed by a low one, or a low one not after a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Where parsed JSON has a string (or a member name) holding half of a surrogate pair, as a path
 * after `$` (empty: the value itself), or undefined. UTF-8 bodies cannot carry one, but a `\ud800`
 * escape can: stored as sent, it is no character, and a Service Bus event (UTF-8) would carry
 * U+FFFD in its place, so the ledger and the event would disagree.
 */
function halfSurrogateAt(value: unknown): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? '' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = halfSurrogateAt(item);
      if (found !== undefined) return `[${i}]${found}`;
    }
    return undefined;
  }
  for (const [key, member] of Object.entries(value)) {
    // The name as a JSON escape shows it (`\ud83d`): the half itself would not print.
    if (LONE_SURROGATE.test(key)) return `.${JSON.stringify(key).slice(1, -1)}`;
    const found = halfSurrogateAt(member);
    if (found !== undefined) return `.${key}${found}`;
  }
  return undefined;
}

/**
 * Where parsed JSON has a member named `__proto__` (JSON.parse makes it an own member), or
 * undefined. Schemas would drop it silently (zod does, to keep it from becoming a prototype), so
 * a caller who sent one would never hear it was ignored: no field anywhere is named so.
 */
function protoMemberPath(value: unknown, path = '$'): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = protoMemberPath(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Object.hasOwn(value, '__proto__')) return `${path}.__proto__`;
  for (const [key, member] of Object.entries(value)) {
    const found = protoMemberPath(member, `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
