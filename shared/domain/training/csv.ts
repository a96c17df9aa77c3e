/**
 * CSV text as the product's reader parses it (RFC 4180): a field with a comma, a quote, a line
 * break or surrounding spaces is quoted with its quotes doubled; a missing value is an empty field.
 */
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvField(value: string | null): string {
  if (value === null) return '';
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(cells: readonly (string | null)[]): string {
  return cells.map(csvField).join(',');
}

/** A whole file: the header, then one line per row, each ended by LF. */
export function csvText(columns: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const lines = [csvLine(columns), ...rows.map(csvLine)];
  return `${lines.join('\n')}\n`;
}
