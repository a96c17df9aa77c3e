/**
 * Parses JSON text as people's tools write it: a leading byte-order mark (what Windows PowerShell
 * and some editors put before UTF-8 text) is not part of the JSON, so it is skipped rather than
 * refused as an unexpected character.
 */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
}
