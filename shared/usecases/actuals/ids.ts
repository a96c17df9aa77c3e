import type { RawRows, Utf8Cells } from '../../domain/raw-rows';

const encoder = new TextEncoder();

/**
 * The id cells of a batch as UTF-8 byte ranges of one buffer: the reader's own bytes when it
 * keeps them (Parquet text), else each cell's text encoded into one buffer. Ids are compared as
 * the text the reader gives, untrimmed, as scoring stored them; an empty cell has length -1.
 */
export function idCells(raw: RawRows, column: number): Utf8Cells {
  const own = raw.utf8?.(column);
  if (own) return own;
  const n = raw.rowCount;
  const starts = new Int32Array(n);
  const lengths = new Int32Array(n);
  let bytes = new Uint8Array(Math.max(1024, n * 16));
  let used = 0;
  for (let r = 0; r < n; r += 1) {
    const text = raw.text(column, r);
    if (text === null) {
      lengths[r] = -1;
      continue;
    }
    if (used + text.length * 3 > bytes.length) {
      const grown = new Uint8Array(Math.max(2 * bytes.length, used + text.length * 3));
      grown.set(bytes.subarray(0, used));
      bytes = grown;
    }
    const written = encoder.encodeInto(text, bytes.subarray(used)).written;
    starts[r] = used;
    lengths[r] = written;
    used += written;
  }
  return { bytes, starts, lengths };
}
