import { isDomainError } from '../../domain/errors';
import { hashBytes, IdTable } from '../../domain/id-table';
import { windowLengthMs } from '../../domain/windows';
import type { ModelDefinition } from '../../schemas/model';
import type { ActualsRecord, InferenceRun } from '../../schemas/monitoring';
import { type ActualsDeps, WHOLE_FILE } from './deps';
import { idCells } from './ids';
import { candidateRun } from './plan';
import { quarantineBuckets, unmatchedLines } from './quarantine-lines';

/**
 * Which of the actuals records waiting for late matches have unmatched ids in one run, found with
 * one pass over the run's id column. In production most records keep a few ids no run will ever
 * score; without this, every completed run would be read again in full by the late match of each
 * of them (one per record in the lookback), to find nothing.
 */

const encoder = new TextEncoder();

/**
 * Ids, each tagged with the records (by index) whose unmatched actuals hold it: an id several
 * actuals files left unmatched (an id never scored, sent every day) is stored once, its tags
 * chained in typed arrays.
 */
class TaggedIds {
  readonly table = new IdTable(1024);
  /** Per id: its latest (id, record) pair, -1 when none. */
  private head: Int32Array = new Int32Array(1024);
  /** Per pair: the pair before it of the same id (-1: none), and its record. */
  private next: Int32Array = new Int32Array(1024);
  private owner: Int32Array = new Int32Array(1024);
  /** (id, record) pairs held: what memory grows with. */
  pairs = 0;

  add(id: string, record: number): void {
    const bytes = encoder.encode(id);
    const before = this.table.size;
    const slot = this.table.add(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length));
    if (slot >= this.head.length) this.head = grown(this.head, 2 * this.head.length);
    if (slot === before) this.head[slot] = -1;
    // A record's ids come one after another: the same id again in one record has its pair on top.
    else if (this.owner[this.head[slot]!] === record) return;
    if (this.pairs === this.next.length) {
      this.next = grown(this.next, 2 * this.pairs);
      this.owner = grown(this.owner, 2 * this.pairs);
    }
    this.next[this.pairs] = this.head[slot]!;
    this.owner[this.pairs] = record;
    this.head[slot] = this.pairs;
    this.pairs += 1;
  }

  /** Calls `found` with each record tagged on the id at `slot`. */
  forEachRecord(slot: number, found: (record: number) => void): void {
    for (let pair = this.head[slot]!; pair >= 0; pair = this.next[pair]!) found(this.owner[pair]!);
  }
}

function grown(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/**
 * Streams the id column of the run's parts once, marking in `hit` every record one of whose ids
 * it meets. Stops early once every record of the group is hit. Returns why the run cannot be
 * read (a part gone or damaged since its manifest was read), else undefined; outages are thrown.
 */
async function markHits(deps: ActualsDeps, definition: ModelDefinition, parts: readonly string[], group: TaggedIds, members: Set<number>, hit: Uint8Array): Promise<string | undefined> {
  let left = [...members].filter((record) => hit[record] === 0).length;
  const mark = (record: number) => {
    if (hit[record] === 1) return;
    hit[record] = 1;
    left -= 1;
  };
  if (left === 0) return undefined;
  const idColumn = definition.idColumn;
  try {
    for (const part of parts) {
      const plan = await deps.files.plan(part, WHOLE_FILE);
      for (const chunk of plan.chunks) {
        const opened = await deps.files.open(part, chunk, { columns: [idColumn], reuseBuffers: true });
        const column = opened.columns.indexOf(idColumn);
        if (column < 0) {
          await opened.batches.return(undefined);
          return `the predictions part '${part}' has no id column '${idColumn}'`;
        }
        for await (const raw of opened.batches) {
          const { bytes, starts, lengths } = idCells(raw, column);
          for (let r = 0; r < raw.rowCount; r += 1) {
            const length = lengths[r]!;
            if (length < 0) continue;
            const start = starts[r]!;
            const slot = group.table.find(bytes, start, length, hashBytes(bytes, start, length));
            if (slot >= 0) group.forEachRecord(slot, mark);
          }
          if (left === 0) break;
        }
        if (left === 0) return undefined;
      }
    }
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return error.message;
  }
  return undefined;
}

/**
 * The records (of `records`, in their order) with at least one unmatched id the run carries:
 * only these get a late match with it. The unmatched ids are read from the joins' quarantines
 * and held with their records in groups of at most `ACTUALS_BUCKET_ROWS` (id, record) pairs,
 * the ids one join bucket holds; each group is one pass over the run's id column. A record whose
 * quarantine cannot be read (damaged) is kept: its own late match reports it, as before. When the
 * run's predictions cannot be read none is kept (each late match would be skipped), with the reason.
 */
export async function recordsWithIdsInRun(
  deps: ActualsDeps,
  definition: ModelDefinition,
  run: InferenceRun & { version: number },
  records: readonly ActualsRecord[],
): Promise<{ actualsIds: string[]; reason?: string }> {
  if (records.length === 0) return { actualsIds: [] };
  const candidate = await candidateRun(deps, definition, run, windowLengthMs(definition.policies.drift.window));
  if (!('parts' in candidate)) return { actualsIds: [], reason: `run '${run.runId}' cannot be read: ${candidate.reason}` };
  const bound = deps.settings.bucketRows;
  const hit = new Uint8Array(records.length);
  let group = new TaggedIds();
  const members = new Set<number>();
  const pass = async (): Promise<string | undefined> => {
    if (group.pairs === 0) return undefined;
    const problem = await markHits(deps, definition, candidate.parts, group, members, hit);
    group = new TaggedIds();
    members.clear();
    return problem;
  };
  for (const [i, record] of records.entries()) {
    const ids = unmatchedIds(deps, record);
    try {
      for (;;) {
        let step: IteratorResult<string>;
        try {
          step = await ids.next();
        } catch (error) {
          if (!(isDomainError(error) || error instanceof SyntaxError)) throw error;
          hit[i] = 1;
          break;
        }
        if (step.done) break;
        group.add(step.value, i);
        members.add(i);
        if (group.pairs < bound) continue;
        const problem = await pass();
        if (problem !== undefined) return { actualsIds: [], reason: `run '${run.runId}' cannot be read: ${problem}` };
        // Hit already: the rest of its ids need not be held.
        if (hit[i] === 1) break;
      }
    } finally {
      // Its quarantine file is not left downloading (an outage while the run was read, a record found).
      await ids.return(undefined);
    }
  }
  const problem = await pass();
  if (problem !== undefined) return { actualsIds: [], reason: `run '${run.runId}' cannot be read: ${problem}` };
  return { actualsIds: records.filter((_, i) => hit[i] === 1).map((r) => r.actualsId) };
}

/** The record's unmatched ids, bucket after bucket of its join's quarantine. */
async function* unmatchedIds(deps: ActualsDeps, record: ActualsRecord): AsyncGenerator<string> {
  for (const path of await quarantineBuckets(deps, record.modelName, record.actualsId)) {
    for await (const { cells } of unmatchedLines(deps, path)) yield cells[0];
  }
}
