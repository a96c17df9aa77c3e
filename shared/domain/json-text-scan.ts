import { doubleHoldsNumberText } from './json-number';

/** Where a value sits in parsed JSON: member names and array indexes from the top. */
export type JsonPath = (string | number)[];

/** What one pass over valid JSON text finds that JSON.parse does not say. */
export interface JsonTextScan {
  /**
   * The first name an object gives twice (`{"x1": 1, "x1": 5}`). JSON.parse keeps the last value
   * silently, so a row would be scored with one of two values the client sent, and a gateway
   * reading the first would see another request than the app.
   */
  repeated?: string;
  /** Whether arrays and objects nest more than `maxDepth` levels deep (the scan stops there). */
  tooDeep: boolean;
  /**
   * With `checkNumbers`, the numbers whose text the double JSON.parse reads does not hold as
   * written (`0.12345678901234567891`), with where they are: the parsed value has lost their text.
   */
  inexactNumbers?: { path: JsonPath; text: string }[];
}

/** An open object (its names so far, the member being read) or array (the item being read). */
type Open = { names: Set<string>; name?: string } | { index: number };

const isNumberChar = (c: number) => (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45; // 0-9 - + . e E

/**
 * Scans valid JSON text once: one set of names per open object (so its depth is the stack's), the
 * strings skipped, escapes in names decoded, and with `checkNumbers` each number's text checked
 * against the double it reads as (about a microsecond a number, so only where a route asks). It
 * goes on past a repeated name, so that nesting too deep for a recursive walk of the parsed value
 * is always told.
 */
export function scanJsonText(text: string, maxDepth: number, checkNumbers = false): JsonTextScan {
  const open: Open[] = [];
  let repeated: string | undefined;
  const inexactNumbers: { path: JsonPath; text: string }[] = [];
  const found = (tooDeep: boolean): JsonTextScan => ({
    ...(repeated !== undefined ? { repeated } : {}),
    tooDeep,
    ...(inexactNumbers.length > 0 ? { inexactNumbers } : {}),
  });
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      let escaped = false;
      while (text.charCodeAt(end) !== 0x22) {
        if (text.charCodeAt(end) === 0x5c) {
          escaped = true;
          end += 2;
        } else end += 1;
      }
      if (expectKey) {
        // Escapes decoded: "\u0061" is "a".
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        const object = open[open.length - 1] as { names: Set<string>; name?: string };
        if (repeated === undefined && object.names.has(name)) repeated = name;
        object.names.add(name);
        object.name = name;
        expectKey = false;
      }
      i = end;
    } else if (checkNumbers && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end += 1;
      const number = text.slice(i, end);
      if (!doubleHoldsNumberText(number)) inexactNumbers.push({ path: open.map((o) => ('index' in o ? o.index : o.name!)), text: number });
      i = end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c === 0x7b ? { names: new Set() } : { index: 0 });
      if (open.length > maxDepth) return found(true);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      const top = open[open.length - 1];
      if (top !== undefined && 'index' in top) top.index += 1;
      expectKey = top !== undefined && !('index' in top);
    }
  }
  return found(false);
}
