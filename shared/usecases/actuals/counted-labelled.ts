import { parseLabelledPath } from '../../domain/lake-paths';
import type { ActualsCollection } from '../../ports/run-store';

/**
 * Which files of `datasets/{model}/labelled/` count, for every reader of labelled data (window
 * performance, the trainer, revalidation data). A join's own file (`{actualsId}.parquet`) counts as
 * placed. A late match's (`{actualsId}~{runId}.parquet`) counts only when the record `actualsId`
 * holds a `lateMatches` entry for `runId` that lists the file's window: a late match writes its
 * files before its record, so one that fails for good in between leaves files the record does not
 * hold, and a retry that labels fewer windows leaves the first attempt's other files behind. A
 * replaced version needs no test here: the replacement moves its files out of `labelled/`.
 *
 * Each record is read once per instance, so a reader pays one point read per actuals file with a
 * late file among those it checks; make a new instance to see records written since.
 */
export class CountedLabelledFiles {
  /** Per actuals id, `{runId}/{windowId}` of each window its late matches recorded. */
  private readonly recorded = new Map<string, Promise<ReadonlySet<string>>>();

  constructor(
    private readonly actuals: Pick<ActualsCollection, 'get'>,
    private readonly model: string,
  ) {}

  /** `files` without the late files their records do not hold, in the order given. */
  async keep<F extends { path: string }>(files: readonly F[]): Promise<F[]> {
    const counts = await Promise.all(files.map((file) => this.counts(file.path)));
    return files.filter((_, i) => counts[i]);
  }

  private async counts(path: string): Promise<boolean> {
    const parts = parseLabelledPath(path);
    if (parts?.runId === undefined) return true;
    return (await this.recordedOf(parts.actualsId)).has(`${parts.runId}/${parts.windowId}`);
  }

  private recordedOf(actualsId: string): Promise<ReadonlySet<string>> {
    let found = this.recorded.get(actualsId);
    if (!found) {
      found = this.actuals.get(this.model, actualsId).then((stored) => new Set((stored?.value.lateMatches ?? []).flatMap((m) => m.windows.map((w) => `${m.runId}/${w}`))));
      this.recorded.set(actualsId, found);
    }
    return found;
  }
}
