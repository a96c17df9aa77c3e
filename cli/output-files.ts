/**
 * Writing the commands' output files: never over a file the command reads, and never half:
 * each file is written beside its destination under a hidden name and renamed into place, so a
 * failed or interrupted write leaves the earlier file as it was.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { errors } from '../shared/domain/errors';

/** The same file, however it is spelled: through symbolic links, hard links, `./a` and `a`. */
export function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Refuses an output path that names a file the run reads (`inputs` by what they are: 'input
 * file', 'manifest', ...); `doing` says what would overwrite it ('scoring').
 */
export function refuseOverwritingInputs(
  outputs: readonly string[],
  inputs: Readonly<Record<string, string | undefined>>,
  doing: string,
): void {
  for (const output of outputs) {
    for (const [what, input] of Object.entries(inputs)) {
      if (input !== undefined && sameFile(output, input))
        throw errors.validation(`the output ${output} is the ${what} ${input}: ${doing} would overwrite it; choose another output path`);
    }
  }
}

/** Endings that name another format than Parquet: a file so named is taken for that format by the next reader. */
const OTHER_FORMAT = /\.(csv|csv\.gz|tsv|txt|json|jsonl|xlsx)$/i;

/** Refuses a Parquet output named like another format (`out.csv`), which would read as that format's garbage. */
export function refuseNonParquetNames(outputs: readonly string[]): void {
  for (const file of outputs) {
    const ending = OTHER_FORMAT.exec(file)?.[0];
    if (ending)
      throw errors.validation(`the output ${file} would be a Parquet file under a ${ending} name, which readers take for ${ending.slice(1).toUpperCase()}: name it .parquet`);
  }
}

/** Refuses an output path where a folder is (before any work is done for it). */
export function refuseFolderOutputs(outputs: readonly string[]): void {
  for (const file of outputs)
    if (fs.existsSync(file) && fs.statSync(file).isDirectory())
      throw errors.validation(`the output ${file} is a folder: give a file path`);
}

/** Refuses a folder in the output's place and makes the output's folder when it is missing. */
function prepareOutput(file: string): void {
  refuseFolderOutputs([file]);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
}

/** A hidden file beside `file`, on its disk, so that a rename puts it in place. */
function siblingTemp(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes each file's data beside it, then renames them into place in the order given (the last
 * is the one a reader looks at first: the quarantine before its output). `null` data removes the
 * file instead (a quarantine of an earlier run). A missing folder is made; a folder in the way is
 * refused. When a write fails, nothing is replaced and no hidden file is left.
 */
export function writeFilesInPlace(files: readonly { file: string; data: string | Uint8Array | null }[]): void {
  files.forEach(({ file }) => prepareOutput(file));
  const temps = files.map(({ file, data }) => (data === null ? null : siblingTemp(file)));
  const step = (i: number, act: () => void) => {
    try {
      act();
    } catch (e) {
      throw new Error(`cannot write ${files[i]!.file}: ${(e as Error).message.replaceAll(temps[i] ?? files[i]!.file, files[i]!.file)}`);
    }
  };
  try {
    files.forEach(({ data }, i) => data !== null && step(i, () => fs.writeFileSync(temps[i]!, data)));
    files.forEach(({ file }, i) =>
      step(i, () => (temps[i] === null ? fs.rmSync(file, { force: true }) : fs.renameSync(temps[i]!, file))),
    );
  } finally {
    // Gone when renamed; what a failed write or rename left.
    for (const temp of temps) if (temp !== null) fs.rmSync(temp, { force: true });
  }
}

/** Writes one file through a sibling and a rename (writeFilesInPlace). */
export const writeFileInPlace = (file: string, data: string | Uint8Array): void =>
  writeFilesInPlace([{ file, data }]);

/**
 * Writes a stream (a download) beside `file` and renames it into place once the stream has
 * ended: a download that breaks off leaves the earlier file whole and no partial one.
 */
export async function writeStreamInPlace(file: string, source: Readable): Promise<void> {
  prepareOutput(file);
  const temp = siblingTemp(file);
  const out = fs.createWriteStream(temp);
  try {
    await pipeline(source, out);
    fs.renameSync(temp, file);
  } catch (e) {
    throw new Error(`cannot write ${file}: ${(e as Error).message.replaceAll(temp, file)}`);
  } finally {
    // A download that breaks off at once can fail the pipeline while the file is still being
    // opened: it would appear after the removal below, so the stream is let close first.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    fs.rmSync(temp, { force: true });
  }
}
