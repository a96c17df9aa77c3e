import fs from 'node:fs';
import path from 'node:path';

import { concatParquetFiles } from '../shared/adapters/tabular/parquet-concat';
import type { Chunk, ChunkSummary } from '../shared/schemas/scoring';

export type ScoreTotals = Pick<ChunkSummary, 'rowsRead' | 'rowsScored' | 'rowsRejected' | 'rejectionReasons'>;

/** Scores one chunk into a Parquet part and, when rows are rejected, a quarantine file. */
export type ScoreOneChunk = (chunk: Chunk, partFile: string, quarantineFile: string) => Promise<ChunkSummary>;

function appendFiles(files: readonly string[], output: string): void {
  const out = fs.openSync(output, 'w');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (const file of files) {
      const fd = fs.openSync(file, 'r');
      try {
        for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) fs.writeSync(out, buf, 0, n);
      } finally {
        fs.closeSync(fd);
      }
    }
  } finally {
    fs.closeSync(out);
  }
}

/**
 * Scores the chunks one at a time into parts in a temporary folder next to `output`, then
 * stitches them into one Parquet file and one quarantine file in chunk (= file) order, so memory
 * is one chunk's whatever the input size. The folder is on the output's disk, so the results are
 * renamed into place: `output` and `quarantine` appear only once every chunk is scored, and the
 * folder is removed on success and on failure.
 */
export async function scoreInParts(chunks: readonly Chunk[], output: string, quarantine: string, scoreOne: ScoreOneChunk): Promise<ScoreTotals> {
  const dir = path.dirname(path.resolve(output));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, `.${path.basename(output)}-`));
  try {
    const totals: ScoreTotals = { rowsRead: 0, rowsScored: 0, rowsRejected: 0, rejectionReasons: {} };
    const parts: string[] = [];
    const rejected: string[] = [];
    for (const chunk of chunks) {
      const name = `chunk-${String(chunk.index).padStart(5, '0')}`;
      const part = path.join(tmp, `${name}.parquet`);
      const quarantinePart = path.join(tmp, `${name}.rejected.jsonl`);
      const summary = await scoreOne(chunk, part, quarantinePart);
      parts.push(part);
      if (summary.rowsRejected > 0) rejected.push(quarantinePart);
      totals.rowsRead += summary.rowsRead;
      totals.rowsScored += summary.rowsScored;
      totals.rowsRejected += summary.rowsRejected;
      for (const [code, n] of Object.entries(summary.rejectionReasons)) totals.rejectionReasons[code] = (totals.rejectionReasons[code] ?? 0) + n;
    }
    const stitched = path.join(tmp, 'output.parquet');
    // Each part goes as soon as it is copied: disk use stays at the output plus one part.
    concatParquetFiles(parts, stitched, (part) => fs.rmSync(part));
    const rejectedLines = path.join(tmp, 'output.rejected.jsonl');
    if (rejected.length > 0) appendFiles(rejected, rejectedLines);
    fs.renameSync(stitched, output);
    if (rejected.length > 0) fs.renameSync(rejectedLines, quarantine);
    return totals;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
