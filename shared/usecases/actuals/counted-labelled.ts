import { parseLabelledPath } from '../../domain/lake-paths';
import type { ActualsCollection } from '../../ports/run-store';
import { readStoredDocument } from '../stored-document';

/** An actuals record that did not read, so none of its late files counted: why, and how many of those checked were left out. */
export interface UncountedRecord {
  actualsId: string;
  reason: string;
  files: number;
}

/** What a record's late matches let count: `{runId}/{windowId}` of each window they recorded, or why the record does not read. */
type Recorded = { windows: ReadonlySet<string> } | { unreadable: string };

/**
 * Which files of `datasets/{model}/labelled/` count, for every reader of labelled data (window
 * performance, the trainer, revalidation data). A join's own file (`{actualsId}.parquet`) counts as
 * placed. A late match's (`{actualsId}~{runId}.parquet`) counts only when the record `actualsId`
 * holds a `lateMatches` entry for `runId` that lists the file's window: a late match writes its
 * files before its record, so one that fails for good in between leaves files the record does not
 * hold, and a retry that labels fewer windows leaves the first attempt's other files behind. A
 * replaced version needs no test here: the replacement moves its files out of `labelled/`.
 *
 * A record that does not read (damaged, or stored under rules that have since tightened) lets
 * none of its late files count, and says so in `uncounted()`: one bad document must not stop every
 * window holding its files from being refreshed. A read that fails (an outage) still throws, so
 * the reader is retried rather than count too little.
 *
 * Each record is read once per instance, so a reader pays one point read per actuals file with a
 * late file among those it checks; make a new instance to see records written since.
 */
export class CountedLabelledFiles {
  private readonly recorded = new Map<string, Promise<Recorded>>();
  private readonly leftOut = new Map<string, UncountedRecord>();

  constructor(
    private readonly actuals: Pick<ActualsCollection, 'get' | 'listReadableInRange'>,
    private readonly model: string,
  ) {}

  /** `files` without the late files their records do not hold, in the order given. */
  async keep<F extends { path: string }>(files: readonly F[]): Promise<F[]> {
    const counts = await Promise.all(files.map((file) => this.counts(file.path)));
    return files.filter((_, i) => counts[i]);
  }

  /** The records that did not read among those checked so far, by actuals id, with the late files each left out. */
  uncounted(): UncountedRecord[] {
    return [...this.leftOut.values()].sort((a, b) => (a.actualsId < b.actualsId ? -1 : a.actualsId > b.actualsId ? 1 : 0));
  }

  private async counts(path: string): Promise<boolean> {
    const parts = parseLabelledPath(path);
    if (parts?.runId === undefined) return true;
    const recorded = await this.recordedOf(parts.actualsId);
    if ('windows' in recorded) return recorded.windows.has(`${parts.runId}/${parts.windowId}`);
    const left = this.leftOut.get(parts.actualsId) ?? { actualsId: parts.actualsId, reason: recorded.unreadable, files: 0 };
    this.leftOut.set(parts.actualsId, { ...left, files: left.files + 1 });
    return false;
  }

  private recordedOf(actualsId: string): Promise<Recorded> {
    let found = this.recorded.get(actualsId);
    if (!found) {
      found = this.read(actualsId);
      this.recorded.set(actualsId, found);
    }
    return found;
  }

  /** The record's recorded windows, or why it does not read (an outage is thrown). */
  private async read(actualsId: string): Promise<Recorded> {
    const stored = await readStoredDocument(this.actuals, this.model, actualsId);
    if (stored && 'unreadable' in stored) return { unreadable: stored.unreadable.reason };
    return { windows: new Set((stored?.value.lateMatches ?? []).flatMap((m) => m.windows.map((w) => `${m.runId}/${w}`))) };
  }
}
