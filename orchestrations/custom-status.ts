/**
 * Keeping custom status small. Durable Functions fails an orchestration whose custom status is
 * more than 16 KB of UTF-16 JSON (the extension's SetCustomStatus; docs/devhost-durable.md, Size
 * limits): about 8,192 UTF-16 units of `JSON.stringify(status)`, where quotes, escapes and
 * characters outside the BMP count. Anything that grows with the data (reasons, window lists,
 * error messages) is cut or counted with these before it goes into a status.
 */

/** A string's share of a status's JSON: its JSON string and the comma after it. */
export const jsonUnits = (text: string): number => JSON.stringify(text).length + 1;

/** The longest start of `text` whose JSON (without the quotes) takes at most `units`. */
export function prefixWithin(text: string, units: number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const cost = JSON.stringify(ch).length - 2;
    if (used + cost > units) break;
    used += cost;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** `text` whole when its JSON takes at most `units`, else its start that fits and `…`. */
export function statusText(text: string, units: number): string {
  return jsonUnits(text) - 3 <= units ? text : `${prefixWithin(text, units - 1)}…`;
}
