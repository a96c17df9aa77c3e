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
}

/**
 * Scans valid JSON text once: one set of names per open object (so its depth is the stack's), the
 * strings skipped, escapes in names decoded. It goes on past a repeated name, so that nesting too
 * deep for a recursive walk of the parsed value is always told.
 */
export function scanJsonText(text: string, maxDepth: number): JsonTextScan {
  const open: (Set<string> | null)[] = []; // a set per object, null per array
  let repeated: string | undefined;
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
        const names = open[open.length - 1]!;
        if (repeated === undefined && names.has(name)) repeated = name;
        names.add(name);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c === 0x7b ? new Set() : null);
      if (open.length > maxDepth) return { ...(repeated !== undefined ? { repeated } : {}), tooDeep: true };
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) expectKey = open[open.length - 1] !== null;
  }
  return { ...(repeated !== undefined ? { repeated } : {}), tooDeep: false };
}
