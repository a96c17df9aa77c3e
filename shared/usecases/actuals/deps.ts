import { errors, isDomainError, parseOrThrow } from '../../domain/errors';
import { sameEtag } from '../../domain/lake-objects';
import { lakePaths } from '../../domain/lake-paths';
import { addIsoDuration } from '../../domain/policies/duration';
import type { Clock } from '../../ports/clock';
import type { DataLake } from '../../ports/data-lake';
import type { EventPublisher } from '../../ports/event-publisher';
import type { ModelRegistry } from '../../ports/model-registry';
import type { RunStore } from '../../ports/run-store';
import type { TabularFiles } from '../../ports/tabular-files';
import { type ActualsJoinPlan, actualsJoinPlanSchema } from '../../schemas/actuals';
import type { ActualsRecord } from '../../schemas/monitoring';

/** A file read as one chunk (a predictions part, a labelled file): its row groups stream in order. */
export const WHOLE_FILE = { targetChunkBytes: Number.MAX_SAFE_INTEGER, targetChunkRows: Number.MAX_SAFE_INTEGER };

/** The start of the lookback of a join planned at `at`: completed runs created before it are not searched. */
export const lookbackStart = (settings: Pick<ActualsSettings, 'lookback'>, at: Date | string): Date => addIsoDuration(new Date(at), settings.lookback, -1);

/** How the actuals join trades memory, parallelism and precision (settings ACTUALS_*). */
export interface ActualsSettings {
  /** How far back completed runs are searched for an id (ISO 8601 duration). */
  lookback: string;
  /** About how many ids one join activity holds: a larger file is joined in hash ranges of ids. */
  bucketRows: number;
  /** Join (and window) activities at once. */
  parallelism: number;
  /** Labelled rows one metrics computation holds at most; above, a deterministic sample by id hash. */
  metricsMaxRows: number;
  /** Bootstrap resamples behind realised metrics' confidence intervals. */
  bootstrapResamples: number;
  /** Values a segment key keeps by name in realised metrics (SEGMENT_MAX_VALUES; DEFAULT_SEGMENT_MAX_VALUES when absent). */
  segmentMaxValues?: number | undefined;
}

export interface ActualsDeps {
  registry: ModelRegistry;
  runs: RunStore;
  lake: DataLake;
  files: TabularFiles;
  events: EventPublisher;
  clock: Clock;
  settings: ActualsSettings;
}

/** Files of one join while it runs, under `datasets/{model}/actuals-work/{actualsId}/`. */
export const work = {
  plan: (model: string, actualsId: string) => lakePaths.actualsWork(model, actualsId, 'plan.json'),
  /** Bucket `b`'s labelled rows of one window, when the join has several buckets. */
  labelledPiece: (model: string, actualsId: string, windowId: string, bucket: number) =>
    lakePaths.actualsWork(model, actualsId, `labelled/${windowId}/bucket-${String(bucket).padStart(5, '0')}.parquet`),
  labelledPieces: (model: string, actualsId: string, windowId: string) => `${lakePaths.actualsWorkFolder(model, actualsId)}labelled/${windowId}/`,
};

/** Bucket `b`'s quarantined rows: `quarantine/{model}/{actualsId}/bucket-NNNNN.jsonl`. */
export const quarantinePath = (model: string, actualsId: string, bucket: number) =>
  lakePaths.quarantine(model, actualsId, `bucket-${String(bucket).padStart(5, '0')}.jsonl`);

export async function writePlan(lake: DataLake, plan: ActualsJoinPlan): Promise<void> {
  const valid = parseOrThrow(actualsJoinPlanSchema, plan, 'actuals join plan');
  await lake.write(work.plan(plan.model, plan.actualsId), Buffer.from(JSON.stringify(valid)), { contentType: 'application/json' });
}

export async function readPlan(lake: DataLake, model: string, actualsId: string): Promise<ActualsJoinPlan> {
  const path = work.plan(model, actualsId);
  const text = (await lake.readBuffer(path)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw errors.validation(`'${path}' is not JSON: ${(e as Error).message}`, { path });
  }
  return parseOrThrow(actualsJoinPlanSchema, json, `actuals join plan ${path}`);
}

/** Writes the record with `change` applied, re-reading it on a concurrent change. */
export async function updateActualsRecord(deps: ActualsDeps, model: string, actualsId: string, change: (r: ActualsRecord) => ActualsRecord): Promise<ActualsRecord> {
  for (let attempt = 1; ; attempt += 1) {
    const stored = await deps.runs.actuals.get(model, actualsId);
    if (!stored) throw errors.notFound(`no actuals record '${actualsId}' of '${model}'`, { model, actualsId });
    const next = change(stored.value);
    if (next === stored.value) return next;
    try {
      return (await deps.runs.actuals.replace(model, actualsId, next, stored.etag)).value;
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT' && attempt < 5)) throw error;
    }
  }
}

/** Every object under a prefix, by path. */
export async function listPaths(lake: DataLake, prefix: string, suffix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of lake.list(prefix)) if (o.path.endsWith(suffix)) out.push(o.path);
  return out;
}

/**
 * Fails the join when the file is no longer the version it joins (an ETag never comes back, so an
 * unchanged one means every byte read was that version's): its rows would be counted and labelled
 * as this version's, while the new version has its own event and join.
 */
async function assertActualsUnchanged(lake: DataLake, source: { path: string; etag: string }): Promise<void> {
  const now = await lake.stat(source.path);
  if (now && sameEtag(now.etag, source.etag)) return;
  throw errors.invalidInputFile(
    `the actuals file changed while it was joined (${now ? 'replaced' : 'removed'}): this version is not joined${now ? '; the new version is joined on its own' : ''}`,
    { path: source.path, etag: source.etag },
  );
}

/**
 * Reads the actuals file with `read`. A read that fails on a file no longer the version joined
 * fails as changed: a new version need not fit the plan (fewer row groups, other columns), and
 * what it makes the reader throw says nothing true about the version being joined.
 */
export async function readingUnchanged<T>(lake: DataLake, source: { path: string; etag: string }, read: () => Promise<T>): Promise<T> {
  let value: T;
  try {
    value = await read();
  } catch (error) {
    await assertActualsUnchanged(lake, source);
    throw error;
  }
  await assertActualsUnchanged(lake, source);
  return value;
}

export { sameEtag };
