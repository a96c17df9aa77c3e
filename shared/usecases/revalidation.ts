import { MISSING_PROFILE_VALUE } from '../domain/drift';
import { errors } from '../domain/errors';
import { MISSING_SEGMENT } from '../domain/metrics';
import type { ModelRegistry } from '../ports/model-registry';
import type { RevalidationInput } from '../schemas/lifecycle-orchestration';
import { revalidationDataset, type TrainingDataDeps } from './training-data';
import { loadReferenceProfile } from './window-profiles';

/**
 * Revalidation of the champion on a new data flavour: when an actuals file labels rows of a
 * segment value the champion's validation data never had (`region=east`), the champion is
 * validated again on its validation data plus those labelled rows, so the evidence shows how it
 * does on the new flavour. Its state does not change; the ledger and the events say it happened.
 */
export interface RevalidationDeps extends TrainingDataDeps {
  registry: ModelRegistry;
}

/**
 * A metrics segment (`region=(missing)`) as the reference profile names it (`region=∅`): rows
 * without a value are no new flavour, and read under the metrics' name they would look like one
 * to every actuals file that labels such a row.
 */
const asProfileSegment = (segment: string): string =>
  segment.endsWith(`=${MISSING_SEGMENT}`) ? `${segment.slice(0, -MISSING_SEGMENT.length)}${MISSING_PROFILE_VALUE}` : segment;

/**
 * What to revalidate after an actuals file was joined: the champion and the labelled segments its
 * reference profile lacks (null when there is no champion, no reference or nothing new).
 */
export async function revalidationFor(
  deps: RevalidationDeps,
  input: { model: string; actualsId: string },
): Promise<RevalidationInput | null> {
  const record = await deps.runs.actuals.get(input.model, input.actualsId);
  if (!record || record.value.state !== 'completed' || !record.value.metrics) return null;
  const version = (await deps.registry.getChampion(input.model))?.value.version ?? null;
  if (version === null) return null;
  const reference = await loadReferenceProfile(deps.lake, input.model, version);
  if (!reference) return null;
  const newSegments = record.value.metrics.segments
    .filter((s) => s.rows > 0 && reference.segments[asProfileSegment(s.segment)] === undefined)
    .map((s) => s.segment)
    .sort();
  if (newSegments.length === 0) return null;
  return {
    model: input.model,
    version,
    actualsId: input.actualsId,
    windows: record.value.windows,
    newSegments,
  };
}

/** Writes the revalidation's data file (the version's validation rows and the labelled ones); its lake path. */
export async function writeRevalidationData(
  deps: RevalidationDeps,
  input: RevalidationInput,
  maxRows: number,
): Promise<string> {
  const [model, version] = await Promise.all([
    deps.registry.getModel(input.model),
    deps.registry.getVersion(input.model, input.version),
  ]);
  if (!model) throw errors.modelNotFound(input.model);
  if (!version) throw errors.versionNotFound(input.model, input.version);
  const data = await revalidationDataset(deps, {
    definition: model.definition,
    version: version.value,
    windows: input.windows,
    name: input.actualsId,
    maxRows,
  });
  if (data.labelledRows === 0) {
    throw errors.insufficientData(
      `no labelled row of ${input.newSegments.join(', ')} could be joined back to its drop`,
      { skipped: data.skipped },
    );
  }
  return data.path;
}

/** The ledger's words for a revalidation. */
export const revalidationReason = (input: RevalidationInput): string =>
  `new segment value(s) ${input.newSegments.join(', ')} labelled by actuals ${input.actualsId}`;
