import { mapAtMost } from '../domain/at-most';
import { errors, parseOrThrow } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { type DecisionRefusal, decisionRefusal } from '../domain/lifecycle';
import type { DataLake } from '../ports/data-lake';
import type { ModelListing, ModelRegistry } from '../ports/model-registry';
import type { AwaitingApproval, ValidationSummary } from '../schemas/approvals';
import { type ValidationEvidence, validationEvidenceSchema } from '../schemas/evidence';
import type { Actor } from '../schemas/lifecycle';
import type { ModelVersion } from '../schemas/model-version';
import type { ModelRecord } from '../schemas/registry';
import { type LifecycleDeadlineReads, pendingApprovalOf, versionsAwaitingDecision, withLifecycleDeadline } from './pending-approvals';
import { readLakeJson } from './window-profiles';

/** The registry, the lake for the evidence, and the deadlines running lifecycles report (each read within `statusTimeoutMs`). */
export interface ApprovalsInboxDeps extends LifecycleDeadlineReads {
  registry: Pick<ModelRegistry, 'getModel' | 'listModels' | 'listReadableVersionsInState'>;
  lake: DataLake;
}

export interface ApprovalsInboxRequest {
  /** Who asks: whether they may decide each version is judged for them. */
  actor: Actor;
  now: Date;
  /** One model only; MODEL_NOT_FOUND when there is none. */
  model?: string;
  /** Only the versions the caller may (true) or may not (false) decide. */
  youMayDecide?: boolean;
  /** Why the decision routes refuse this caller whatever the version (the API role they need), if they do: it comes first, as the routes check it first. */
  refusedByRoute?: string;
}

export interface ApprovalsInbox {
  /** Soonest deadline first (then by model and version). */
  approvals: AwaitingApproval[];
  /**
   * What could not be read, and why: models whose stored document does not read (no `version`), and
   * waiting versions whose stored document does not read (`version`, when it can be told); the
   * others are still listed.
   */
  unreadable: { model: string; version?: number; reason: string }[];
}

/** Waiting versions whose lifecycle deadline and evidence bundle are read at once. */
const VERSIONS_AT_ONCE = 8;

/**
 * The approver's inbox: every version waiting in pending_approval (of one model, or of every model,
 * also one whose policy approves automatically now: a lifecycle started before that still waits
 * for a person), with its deadline, what its validation found, and whether `actor` may decide it,
 * judged by the rule the approve and reject commands apply (`decisionRefusal`), so the inbox
 * offers no decision they would refuse.
 *
 * Reads the model documents (one query across partitions, or one point read for `model`), one
 * query per model for its pending versions only, and per pending version the deadline its
 * lifecycle reports (withLifecycleDeadline: the policy's when none runs, or its status fails or
 * does not come within the timeout) and its evidence bundle. A model whose stored document does
 * not read is listed in `unreadable`, and so is each waiting version whose stored document does
 * not read, beside its model's others; a version whose evidence cannot be read is listed with
 * `evidenceUnreadable` instead of its summary. A query that fails (an outage) fails the inbox, as the model list does:
 * a store that did not answer is not a damaged document, nor are its internals an answer.
 */
export async function approvalsInbox(deps: ApprovalsInboxDeps, request: ApprovalsInboxRequest): Promise<ApprovalsInbox> {
  const found = await versionsAwaitingDecision(deps.registry, await modelsToRead(deps.registry, request.model), 'fail');
  const unreadable = found.flatMap((m) =>
    'error' in m ? [{ model: m.model, reason: m.error }] : m.unreadable.map((u) => ({ model: m.model, ...(u.version !== null ? { version: u.version } : {}), reason: u.reason })),
  );
  let waiting = found.flatMap((m) => ('error' in m ? [] : m.versions.map((version) => awaiting(m.record, version, request))));
  // Filtered before the evidence is read: what the caller did not ask for costs no blob read.
  if (request.youMayDecide !== undefined) waiting = waiting.filter((a) => a.entry.youMayDecide === request.youMayDecide);
  // A status that cannot be read leaves the policy's deadline: the inbox still answers, as the evidence's failure does not stop it either.
  const approvals = await mapAtMost(waiting, VERSIONS_AT_ONCE, async ({ entry, version }) => withValidation(deps.lake, (await withLifecycleDeadline(deps, entry, request.now)).approval, version));
  approvals.sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline) || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || a.version - b.version);
  return { approvals, unreadable };
}

/**
 * Every model, or the one asked for; a model document that does not read is listed apart, not
 * thrown. `getModel` fails alike on such a document and on an outage: only then is the model list
 * read, which tells them apart and gives the reason it gives without `?model=`; an outage is
 * thrown again (a 500, as when the list cannot be read), never answered as a damaged model.
 */
async function modelsToRead(registry: ApprovalsInboxDeps['registry'], model: string | undefined): Promise<ModelListing> {
  if (model === undefined) return registry.listModels();
  let record: ModelRecord | undefined;
  try {
    record = await registry.getModel(model);
  } catch (error) {
    const unreadable = (await registry.listModels()).unreadable.filter((u) => u.modelName === model);
    if (unreadable.length > 0) return { models: [], unreadable };
    throw error;
  }
  if (!record) throw errors.modelNotFound(model);
  return { models: [record], unreadable: [] };
}

/** A waiting version's entry before its evidence is read, with the version it describes. */
function awaiting(record: ModelRecord, version: ModelVersion, request: ApprovalsInboxRequest): { entry: AwaitingApproval; version: ModelVersion } {
  const whyNot = whyYouMayNotDecide(record, version, request);
  const entry: AwaitingApproval = {
    ...pendingApprovalOf(record, version, request.now),
    evidenceHash: version.evidenceHash ?? null,
    registeredBy: version.registrant,
    validation: null,
    youMayDecide: whyNot === undefined,
    ...(whyNot !== undefined ? { whyNot } : {}),
  };
  return { entry, version };
}

/** The entry with its evidence summary, or why the evidence cannot be read. */
async function withValidation(lake: DataLake, entry: AwaitingApproval, version: ModelVersion): Promise<AwaitingApproval> {
  if (version.evidenceHash === undefined) return { ...entry, evidenceUnreadable: 'the version carries no evidence hash' };
  const path = lakePaths.evidence(version.modelName, version.version, version.evidenceHash);
  try {
    return { ...entry, validation: validationSummary(parseOrThrow(validationEvidenceSchema, await readLakeJson(lake, path), `validation evidence ${path}`)) };
  } catch (error) {
    // Listed all the same: the version waits, and its deadline runs, whether its evidence reads or not.
    return { ...entry, evidenceUnreadable: messageOf(error) };
  }
}

/** The first refusal approve or reject would answer this caller with, in the order they check; undefined when both would accept. */
function whyYouMayNotDecide(record: ModelRecord, version: ModelVersion, request: ApprovalsInboxRequest): string | undefined {
  if (request.refusedByRoute !== undefined) return request.refusedByRoute;
  const { approverRole, autoApprove } = record.definition.policies.approval;
  for (const decision of ['approve', 'reject'] as const) {
    const refusal = decisionRefusal(version, decision, request.actor, { approverRole, autoApprove });
    if (refusal) return refusalText(refusal);
  }
  // Both commands must quote the version's evidence hash: without one, none is accepted.
  if (version.evidenceHash === undefined) return 'the version carries no evidence hash to quote';
  return undefined;
}

function refusalText(refusal: DecisionRefusal): string {
  switch (refusal.rule) {
    case 'approver_role':
      return `the model's approval policy requires the role '${refusal.requiredRole}'`;
    case 'registrant':
      return 'you registered this version (separation of duties)';
  }
}

/** The decision, and the challenger against the champion on the split least favourable to the challenger. */
export function validationSummary(evidence: ValidationEvidence): ValidationSummary {
  const regression = (split: (typeof evidence.splits)[number]) => split.comparison.regressionVsChampion ?? -Infinity;
  // Without a champion no split regresses: the first (the policy's first strategy) stands for them.
  const headline = evidence.splits.reduce<(typeof evidence.splits)[number] | undefined>((worst, s) => (worst === undefined || regression(s) > regression(worst) ? s : worst), undefined);
  return {
    decision: evidence.decision,
    validatedAt: evidence.validatedAt,
    championVersion: evidence.champion?.version ?? null,
    rowsEvaluated: evidence.dataset?.rowsEvaluated ?? null,
    splits: evidence.splits.length,
    headline: headline
      ? {
          split: headline.name,
          metric: headline.comparison.metric,
          direction: headline.comparison.direction,
          challenger: headline.comparison.challenger,
          champion: headline.comparison.champion,
          regressionVsChampion: headline.comparison.regressionVsChampion,
        }
      : null,
  };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
