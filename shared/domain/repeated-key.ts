/**
 * The first name an object of valid JSON text gives twice (`{"x1": 1, "x1": 5}`), or undefined.
 * JSON.parse keeps the last value silently, so a row would be scored with one of two values the
 * client sent, and a gateway reading the first would see another request than the app.
 * One pass over the text, one set of names per open object.
 */
export function repeatedKey(text: string): string | undefined {
  const open: (Set<string> | null)[] = []; // a set per object, null per array
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
        if (names.has(name)) return name;
        names.add(name);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b) {
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      open.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) expectKey = open[open.length - 1] !== null;
  }
  return undefined;
}
