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

/** `.out.parquet.parts-<pid>-`: the parts folder of a run, named after the process that owns it. */
const partsPrefix = (output: string) => `.${path.basename(output)}.parts-`;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user's process.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes parts folders of earlier runs for the same output whose process is gone (killed with
 * SIGKILL, or the machine stopped); a folder of a run still going is left alone.
 */
export function removeStaleParts(output: string): string[] {
  const dir = path.dirname(path.resolve(output));
  const prefix = partsPrefix(output);
  const removed: string[] = [];
  for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(entry.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && processIsAlive(pid)) continue;
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Removes `dir` if the process is interrupted, then lets the signal end the process as it would
 * have (exit status 128 + signal). Returns the function that stops watching.
 */
function removeOnSignals(dir: string): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    fs.rmSync(dir, { recursive: true, force: true });
    stop();
    process.kill(process.pid, signal);
  };
  const stop = () => CLEANUP_SIGNALS.forEach((s) => process.removeListener(s, onSignal));
  CLEANUP_SIGNALS.forEach((s) => process.once(s, onSignal));
  return stop;
}

/**
 * Scores the chunks one at a time into parts in a hidden folder next to `output`, then stitches
 * them into one Parquet file and one quarantine file in chunk (= file) order, so memory is one
 * chunk's whatever the input size. The folder is on the output's disk, so the results are
 * renamed into place: `output` and `quarantine` are replaced together once every chunk is
 * scored (a quarantine of an earlier run goes when this run rejects nothing), and on failure
 * both are left as they were. The folder is removed on success, on failure and on SIGINT,
 * SIGTERM or SIGHUP; folders that a killed run left behind are removed by the next run.
 */
export async function scoreInParts(chunks: readonly Chunk[], output: string, quarantine: string, scoreOne: ScoreOneChunk): Promise<ScoreTotals> {
  const dir = path.dirname(path.resolve(output));
  fs.mkdirSync(dir, { recursive: true });
  removeStaleParts(output);
  const tmp = fs.mkdtempSync(path.join(dir, `${partsPrefix(output)}${process.pid}-`));
  const stopWatching = removeOnSignals(tmp);
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
    // The quarantine first, the output last: a new output always comes with its own quarantine.
    if (rejected.length > 0) fs.renameSync(rejectedLines, quarantine);
    else fs.rmSync(quarantine, { force: true });
    fs.renameSync(stitched, output);
    return totals;
  } finally {
    stopWatching();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
