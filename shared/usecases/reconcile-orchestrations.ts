import { within } from '../domain/at-most';
import { isDomainError } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { approvedSince } from '../domain/lifecycle';
import { lifecycleInstanceId } from '../domain/lifecycle-instance';
import { promoteOnApprovalBefore, type PromoteOnApprovalChange, promotionRefusal, RESTARTABLE_LIFECYCLE_STATES, type RestartableLifecycleState, restartRefusal, STARTING_LIFECYCLE_GRACE_MS } from '../domain/policies/lifecycle-restart';
import { impossibleInstanceId, strandedBy } from '../domain/policies/orchestration-outcome';
import type { VersionListing } from '../ports/model-registry';
import type { InstanceStatus, OrchestrationInstances } from '../ports/orchestration-instances';
import type { ModelNamePage, UnreadableDocument } from '../ports/run-store';
import type { WindowUpdate } from '../schemas/actuals';
import type { Actor, LifecycleState } from '../schemas/lifecycle';
import type { ModelVersion } from '../schemas/model-version';
import type { ActualsRecord, InferenceRun } from '../schemas/monitoring';
import type { PageKey } from '../schemas/paging';
import type { ActualsDeps } from './actuals/deps';
import { type EndedJoin, failStrandedActualsJoin, finishStrandedJoinFollowUps } from './actuals/record';
import { clearRunFollowUpsPending, failStrandedRun, ORCHESTRATED_RUN_STATES, SCHEDULED_DROPS } from './batch-inference';
import { RegistryUseCases } from './registry';
import { closeIfDecided } from './retraining-records';
import { runFailedEventOf } from './run-events';

/** What reconciliation reads and writes: the actuals join's dependencies (runs, events, the lake for a failed join's clean-up) and the Durable client. */
export interface ReconcileDeps extends ActualsDeps {
  instances: OrchestrationInstances;
  /** How long one status call may take before its document is left for next time (STATUS_CALL_TIMEOUT_MS when absent). */
  statusTimeoutMs?: number;
}

/**
 * How long one status call may take. The durable-functions client sets no timeout on its HTTP
 * calls, so a host that never answers one would hold the timer (and the documents after it) until
 * the function timeout; past this the document is reported as an error and judged next time.
 */
export const STATUS_CALL_TIMEOUT_MS = 30_000;

export type ReconciledKind = 'run' | 'actuals' | 'version';

/**
 * A document failed because its instance ended (or is gone) without recording the outcome: a run or
 * an actuals join (`failed`), or a model version (`validation_failed`; its id is the version number).
 */
export interface ReconciledDocument {
  kind: ReconciledKind;
  id: string;
  instanceId: string;
  /** The `error` recorded on the document (for a version, the transition's reason). */
  error: string;
}

/** What reconciling one model did. */
export interface ModelReconciliation {
  model: string;
  failed: ReconciledDocument[];
  /**
   * Documents an earlier reconciliation failed whose follow-ups an outage interrupted
   * (`followUpsPendingSince`), whose follow-ups were run again now and are done.
   */
  followedUp: { kind: ReconciledKind; id: string }[];
  /** Documents that do not read and may be orchestrated (their state says so or cannot be told): left alone. */
  unreadable: (UnreadableDocument & { kind: ReconciledKind })[];
  /**
   * Versions not yet decided (`registered`, `pending_approval`), or approved and not yet promoted
   * under a policy with promoteOnApproval, whose lifecycle ended or is gone: their lifecycle was
   * started again (recorded on the version, `lifecycleRestarts`).
   */
  restarted: RestartedLifecycle[];
  /**
   * Such versions whose lifecycle was started again MAX_LIFECYCLE_RESTARTS times already: left
   * alone, with the reason and what a person does.
   */
  leftForAPerson: { version: number; instanceId: string; state: RestartableLifecycleState; reason: string }[];
  /**
   * Approved versions whose lifecycle ended before promoting them, left approved because a
   * restarted lifecycle must not promote them (promotionRefusal: a later champion change or
   * approval would be undone, the approval is too old, or it was given while the policy left
   * promotion to an admin). `approved` is where such a version
   * rests until an admin promotes it, and a lifecycle history purged by retention would otherwise
   * be reported every hour for good, so these are logged at debug level only.
   */
  notPromoted: { version: number; instanceId: string; reason: string }[];
  /**
   * Retraining requests closed because the version they produced is decided although no lifecycle
   * closed them (a version failed here, or a close an outage interrupted), with the version's state.
   */
  retrainingClosed: { requestId: string; version: number; outcome: string }[];
  /** Documents that could not be judged, written or followed up (an outage), with the error; judged (or followed up) again next time. */
  errors: { kind: ReconciledKind | 'retraining'; id: string; error: string }[];
  /**
   * Windows a failed join's follow-ups recomputed (replacing older versions of its path) without
   * the late files of actuals records that do not read, each naming those records
   * (`uncountedRecords`): warned about as after any window refresh.
   */
  uncountedWindows: WindowUpdate[];
}

/** A version whose lifecycle was started again: its state then, and what was found of the instance. */
export interface RestartedLifecycle {
  version: number;
  instanceId: string;
  state: RestartableLifecycleState;
  cause: string;
  /** How many times reconciliation has started it again, this one included. */
  restarts: number;
  /** For an `approved` version: when it was approved (the restarted lifecycle promotes it now). */
  approvedAt?: string;
}

export interface ReconcileReport {
  /** The models with documents to judge or follow up, registered or not, by name. */
  models: ModelReconciliation[];
  /** Models whose documents could not be listed (an outage). */
  failures: { model: string; error: string }[];
}

/** What the user does about a document failed here: the file is the only way to get it done again. */
const RETRY_ADVICE = {
  batch: () => 'drop the file again to score it',
  scheduled: (model: string) => `drop its files again under ${lakePaths.dropsFolder(model)}${SCHEDULED_DROPS} to score them with the next scheduled run`,
  actuals: () => 'upload the file again',
  // The same package registers as the same version (its key): a new version is validated anew.
  version: () => 'once the cause is fixed, register the package again as a new version (a new Idempotency-Key, or a changed manifest) to validate it, and retire this one',
} as const;

/** The actor reconciliation's lifecycle transitions are recorded under. */
export const RECONCILE_ACTOR: Actor = { id: 'system:reconcileOrchestrations', kind: 'system', roles: [] };

/** As long as a transition's reason may be. */
const MAX_VERSION_REASON = 2000;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Fails the documents an orchestration instance was to finish but never will: inference runs
 * (`waiting_for_champion`, `running`) and actuals joins (`running`) whose instance was terminated,
 * failed or purged, or completed more than a grace period ago (shared/domain/policies/orchestration-outcome.ts).
 * Each is recorded `failed` with the reason and what to do, and `run.failed` is published (the
 * ids of the normal failure path); a failed join then settles its path's versions as `actualsFail`
 * does. Instances that run are left alone however long they take. Writes are ETag-guarded and the
 * event follows the write: a document that completes meanwhile stays completed, unannounced as
 * failed. The write marks the document (`followUpsPendingSince`) until its follow-ups are done, and
 * each run first reruns the follow-ups of the marked documents (idempotent), so an outage after
 * the write delays them instead of losing them. Only documents in those states or marked are read
 * (queries), of every model that has such documents, found across models rather than from the
 * registry: a drop for a model not registered yet waits for its champion, and its run must not stay
 * waiting for good once its instance is gone. One document's outage does not stop the others.
 *
 * Model versions still `validating` whose lifecycle instance (`lifecycle:{model}:{version}`) is so
 * are judged alike, for every registered model, and get `fail_validation` through the registry's
 * state machine (the ledger and `lifecycle.changed` follow). Versions not yet decided
 * (`registered`, `pending_approval`), and `approved` ones whose model promotes on approval, whose
 * lifecycle is so get it started again instead (it picks up from their state, and promotes an
 * approved one), at most MAX_LIFECYCLE_RESTARTS times per version; past that, or when promoting
 * would undo a later decision or act on an approval not given to promote (promotionRefusal), they are reported for a person. Then every open
 * retraining request whose version is decided is closed, as the lifecycle's end would have: that of
 * a version failed here, and one whose close an outage interrupted.
 */
export async function reconcileOrchestrations(deps: ReconcileDeps): Promise<ReconcileReport> {
  const [listing, withDocuments] = await Promise.all([deps.registry.listModels(), modelsToReconcile(deps)]);
  const report: ReconcileReport = { models: [], failures: listing.unreadable.map((u) => ({ model: u.modelName, error: u.reason })) };
  // Registered models for their versions and retraining requests; the others for their runs and joins.
  const models = [...new Set([...listing.models.map((m) => m.modelName), ...withDocuments])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const model of models) {
    try {
      report.models.push(await reconcileModel(deps, model));
    } catch (error) {
      report.failures.push({ model, error: message(error) });
    }
  }
  return report;
}

/** Model names a query for them reads at a time. */
export const MODEL_NAMES_PER_PAGE = 100;

/** The models, registered or not, with runs or joins in an orchestrated state (or untold) or with follow-ups pending, by name. */
async function modelsToReconcile(deps: ReconcileDeps): Promise<string[]> {
  const [withRuns, withJoins] = await Promise.all([
    everyModelName((page) => deps.runs.runs.listModelsToReconcile(ORCHESTRATED_RUN_STATES, page)),
    everyModelName((page) => deps.runs.actuals.listModelsToReconcile(['running'], page)),
  ]);
  return [...new Set([...withRuns, ...withJoins])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function everyModelName(list: (page: ModelNamePage) => Promise<string[]>): Promise<string[]> {
  const names: string[] = [];
  for (;;) {
    const page = await list({ limit: MODEL_NAMES_PER_PAGE, ...(names.length > 0 ? { after: names.at(-1)! } : {}) });
    names.push(...page);
    if (page.length < MODEL_NAMES_PER_PAGE) return names;
  }
}

/**
 * Status calls in flight at once for one model. Each is an HTTP call to the host (which reads its
 * task hub storage): one after another, thousands of running documents at ~100 ms each would
 * outlast the function timeout; a few at a time get through them without flooding the host.
 */
export const STATUS_CALLS_AT_ONCE = 8;

async function reconcileModel(deps: ReconcileDeps, model: string): Promise<ModelReconciliation> {
  const outcome: ModelReconciliation = { model, failed: [], followedUp: [], unreadable: [], restarted: [], leftForAPerson: [], notPromoted: [], retrainingClosed: [], errors: [], uncountedWindows: [] };
  const [runs, joins, pendingRuns, pendingJoins, validating, ...undecidedByState] = await Promise.all([
    orchestratedRuns(deps, model),
    deps.runs.actuals.listReadableInState(model, 'running'),
    deps.runs.runs.listReadableFollowUpsPending(model),
    deps.runs.actuals.listReadableFollowUpsPending(model),
    versionsIn(deps, outcome, model, 'validating'),
    ...RESTARTABLE_LIFECYCLE_STATES.map((state) => (state === 'approved' ? approvedVersionsToPromote(deps, outcome, model) : versionsIn(deps, outcome, model, state))),
  ]);
  const undecided = undecidedByState.flatMap((l) => l.versions);
  const approved = undecided.filter((v) => v.state === 'approved');
  outcome.unreadable.push(
    ...uniqueById([...runs.unreadable, ...pendingRuns.unreadable]).map((u) => ({ ...u, kind: 'run' as const })),
    ...uniqueById([...joins.unreadable, ...pendingJoins.unreadable]).map((u) => ({ ...u, kind: 'actuals' as const })),
    ...unreadableVersions([validating, ...undecidedByState]).map((u) => ({ ...u, kind: 'version' as const })),
  );
  // Follow-ups an outage interrupted on an earlier run first: they belong to documents failed before these.
  for (const run of pendingRuns.documents) await followUp(outcome, 'run', run.runId, () => runFollowUps(deps, run));
  for (const record of pendingJoins.documents) await followUp(outcome, 'actuals', record.actualsId, async () => noteUncounted(outcome, await finishStrandedJoinFollowUps(deps, record)));
  // Statuses are asked a few at a time; the writes stay one at a time, in order (joins of one file settle each other's versions).
  const timeoutMs = deps.statusTimeoutMs ?? STATUS_CALL_TIMEOUT_MS;
  const askHost = atMostAtOnce(STATUS_CALLS_AT_ONCE, (instanceId: string) =>
    within(timeoutMs, deps.instances.status(instanceId), `the status of instance '${instanceId}' did not come within ${timeoutMs} ms`),
  );
  // An id no instance can have is never sent: the client would ask for the whole task hub (empty) or another instance (`?`, `#`).
  const statusOf = (instanceId: string) => (impossibleInstanceId(instanceId) === undefined ? askHost(instanceId) : Promise.resolve(undefined));
  const runStatuses = runs.documents.map((run) => statusOf(run.instanceId));
  const joinStatuses = joins.documents.map((record) => statusOf(record.instanceId));
  const versionStatuses = validating.versions.map((v) => statusOf(lifecycleInstanceId(model, v.version)));
  const undecidedStatuses = undecided.map((v) => statusOf(lifecycleInstanceId(model, v.version)));
  for (const [i, run] of runs.documents.entries()) await judge(outcome, 'run', run.runId, async () => reconcileRun(deps, run, await runStatuses[i]!));
  for (const [i, record] of joins.documents.entries()) await judge(outcome, 'actuals', record.actualsId, async () => reconcileJoin(deps, outcome, record, await joinStatuses[i]!));
  for (const [i, version] of validating.versions.entries()) await judge(outcome, 'version', String(version.version), async () => reconcileVersion(deps, version, await versionStatuses[i]!));
  for (const [i, version] of undecided.entries()) await judge(outcome, 'version', String(version.version), async () => restartStrandedLifecycle(deps, outcome, version, await undecidedStatuses[i]!, approved));
  await closeRetrainingOfDecidedVersions(deps, outcome, model);
  return outcome;
}

/**
 * The model's versions in `state` (a query: its other versions are not read), those whose document
 * does not read apart (they are left alone, for a person: the others are still reconciled). A query
 * that fails (an outage) is an error of the model's versions in that state, judged again next time:
 * it must not stop the model's runs and joins from being reconciled.
 */
async function versionsIn(deps: ReconcileDeps, outcome: ModelReconciliation, model: string, state: LifecycleState): Promise<VersionListing> {
  try {
    return await deps.registry.listReadableVersionsInState(model, state);
  } catch (error) {
    outcome.errors.push({ kind: 'version', id: state, error: `the versions in ${state} could not be listed: ${message(error)}` });
    return { versions: [], unreadable: [] };
  }
}

/**
 * The versions that do not read, under their number as a version's id (as reconciliation names
 * versions), each once: one whose state cannot be told is in every state's listing.
 */
function unreadableVersions(listings: readonly VersionListing[]): UnreadableDocument[] {
  const found = new Map<string, UnreadableDocument>();
  for (const { version, reason } of listings.flatMap((l) => l.unreadable)) {
    const id = version === null ? '(number untold)' : String(version);
    found.set(`${id}\n${reason}`, { id, reason });
  }
  return [...found.values()].sort((a, b) => Number(a.id) - Number(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The model's `approved` versions when its approval policy (read now, from the model's definition)
 * has promoteOnApproval: their lifecycle was to promote them. Otherwise none: an approved version
 * rests there until an admin promotes it, and its lifecycle's end is not asked about.
 */
async function approvedVersionsToPromote(deps: ReconcileDeps, outcome: ModelReconciliation, model: string): Promise<VersionListing> {
  let record;
  try {
    record = await deps.registry.getModel(model);
  } catch (error) {
    outcome.errors.push({ kind: 'version', id: 'approved', error: `the model's approval policy could not be read: ${message(error)}` });
    return { versions: [], unreadable: [] };
  }
  if (!record?.definition.policies.approval.promoteOnApproval) return { versions: [], unreadable: [] };
  return versionsIn(deps, outcome, model, 'approved');
}

/**
 * `call`, with at most `limit` calls in flight: the others wait their turn, in the order asked. Each
 * answer is a promise already handled (a failure is seen when it is awaited, not as unhandled).
 */
function atMostAtOnce<A, R>(limit: number, call: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  let running = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    running--;
    waiting.shift()?.();
  };
  return (arg) => {
    const answer = new Promise<R>((resolve, reject) => {
      const start = () => {
        running++;
        call(arg).then(resolve, reject).finally(next);
      };
      if (running < limit) start();
      else waiting.push(start);
    });
    answer.catch(() => undefined);
    return answer;
  };
}

/** Runs in every orchestrated state; one that does not read and whose state cannot be told is in each listing, and listed once. */
async function orchestratedRuns(deps: ReconcileDeps, model: string) {
  const listings = await Promise.all(ORCHESTRATED_RUN_STATES.map((state) => deps.runs.runs.listReadableInState(model, state)));
  return { documents: listings.flatMap((l) => l.documents), unreadable: uniqueById(listings.flatMap((l) => l.unreadable)) };
}

/** Documents that do not read, each once (one may be in several listings), by id. */
function uniqueById(unreadable: UnreadableDocument[]): UnreadableDocument[] {
  const byId = new Map(unreadable.map((u) => [u.id, u]));
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function followUp(outcome: ModelReconciliation, kind: ReconciledKind, id: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    outcome.followedUp.push({ kind, id });
  } catch (error) {
    outcome.errors.push({ kind, id, error: message(error) });
  }
}

/**
 * The follow-up of a run reconciliation failed: `run.failed` from the stored document (the same
 * event each time, its id fixed, so the topic drops a repeat), then the marker cleared. A run no
 * longer failed (a late completion landed over it) only loses the marker.
 */
async function runFollowUps(deps: ReconcileDeps, run: InferenceRun): Promise<void> {
  const { modelName: model, runId } = run;
  if (run.state === 'failed') {
    const at = run.completedAt ?? run.followUpsPendingSince ?? deps.clock.now().toISOString();
    await deps.events.publish(runFailedEventOf({ model, runId, error: run.error ?? 'the orchestration ended without recording the outcome', at }));
  }
  await clearRunFollowUpsPending(deps, model, runId);
}

async function judge(outcome: ModelReconciliation, kind: ReconciledKind, id: string, reconcile: () => Promise<ReconciledDocument | undefined | void>): Promise<void> {
  try {
    const failed = await reconcile();
    if (failed) outcome.failed.push(failed);
  } catch (error) {
    outcome.errors.push({ kind, id, error: message(error) });
  }
}

async function reconcileRun(deps: ReconcileDeps, run: InferenceRun, status: InstanceStatus | undefined): Promise<ReconciledDocument | undefined> {
  const { modelName: model, runId, instanceId } = run;
  const now = deps.clock.now();
  const stranded = strandedBy(instanceId, status, now);
  if (!stranded) return undefined;
  const error = `${stranded}; ${RETRY_ADVICE[run.kind](model)}`;
  const written = await failStrandedRun(deps, { model, runId, instanceId, error, at: now });
  if (!written.failed) return undefined;
  await runFollowUps(deps, written.run);
  return { kind: 'run', id: runId, instanceId, error };
}

async function reconcileJoin(deps: ReconcileDeps, outcome: ModelReconciliation, record: ActualsRecord, status: InstanceStatus | undefined): Promise<ReconciledDocument | undefined> {
  const { modelName: model, actualsId, instanceId } = record;
  const now = deps.clock.now();
  const stranded = strandedBy(instanceId, status, now);
  if (!stranded) return undefined;
  const error = `${stranded}; ${RETRY_ADVICE.actuals()}`;
  const ended = await failStrandedActualsJoin(deps, { model, actualsId, instanceId, error, at: now.toISOString() });
  noteUncounted(outcome, ended);
  return ended.failed ? { kind: 'actuals', id: actualsId, instanceId, error } : undefined;
}

/** Keeps the windows a join's replacement refreshed without some records' late files, for the warnings. */
function noteUncounted(outcome: ModelReconciliation, ended: EndedJoin): void {
  outcome.uncountedWindows.push(...ended.replacement.windows.filter((update) => (update.uncountedRecords ?? []).length > 0));
}

/**
 * A version still `validating` whose lifecycle ended or is gone will never be validated:
 * `fail_validation` with the reason and what to do, by the registry's state machine (ETag-guarded
 * on the version as stored), so a version that moved on meanwhile (retired by a person, or its
 * validation recorded) is left as it is.
 */
async function reconcileVersion(deps: ReconcileDeps, version: ModelVersion, status: InstanceStatus | undefined): Promise<ReconciledDocument | undefined> {
  const { modelName: model } = version;
  const instanceId = lifecycleInstanceId(model, version.version);
  const stranded = strandedBy(instanceId, status, deps.clock.now());
  if (!stranded) return undefined;
  const reason = `validation could not be completed: ${stranded}; ${RETRY_ADVICE.version()}`.slice(0, MAX_VERSION_REASON);
  const registry = new RegistryUseCases({ registry: deps.registry, clock: deps.clock, events: deps.events });
  try {
    const after = await registry.applyCommand(model, version.version, { type: 'fail_validation', reason }, RECONCILE_ACTOR);
    if (after.state !== 'validation_failed') return undefined;
  } catch (error) {
    if (isDomainError(error) && error.code === 'ILLEGAL_TRANSITION') return undefined;
    throw error;
  }
  return { kind: 'version', id: String(version.version), instanceId, error: reason };
}

/**
 * A version not yet decided (`registered`, `pending_approval`) whose lifecycle ended or is gone
 * would wait for good (a pending one would never expire): its lifecycle is started again under its
 * instance id, and picks up from the version's state (a pending one keeps its deadline). So is an
 * `approved` one whose model promotes on approval (approvedVersionsToPromote), whose lifecycle
 * ended before promoting it (an approval its lifecycle was gone for, or one terminated or failed
 * between the approval and the promotion): the restarted lifecycle promotes it. Not when that
 * lifecycle completed after the approval (it ended as it meant to: another champion change won the
 * race, or the policy then left promotion to an admin; one that completed before the approval
 * never saw it), nor when promotionRefusal refuses (a later decision would be undone, or the approval was not given to promote: then it rests
 * approved, reported in `notPromoted`). A
 * registered version with no instance yet, registered within STARTING_LIFECYCLE_GRACE_MS, is left
 * alone: its registration may be about to start it. The restart is recorded on the version first, by an
 * ETag-guarded write on the version as read now: a version decided or restarted meanwhile (a
 * person, another host's reconciliation) is left as it is (a conflict), and of two hosts only one
 * starts it. Past MAX_LIFECYCLE_RESTARTS the version is left alone and reported for a person.
 */
async function restartStrandedLifecycle(
  deps: ReconcileDeps,
  outcome: ModelReconciliation,
  listed: ModelVersion,
  status: InstanceStatus | undefined,
  approved: readonly ModelVersion[],
): Promise<void> {
  const { modelName: model, version } = listed;
  const instanceId = lifecycleInstanceId(model, version);
  const now = deps.clock.now();
  const cause = strandedBy(instanceId, status, now);
  if (!cause) return;
  if (listed.state === 'registered' && status === undefined && now.getTime() - Date.parse(listed.createdAt) < STARTING_LIFECYCLE_GRACE_MS) return;
  if (listed.state === 'approved' && status?.runtimeStatus === 'Completed' && status.lastUpdatedTime.getTime() >= Date.parse(approvedSince(listed))) return;
  const stored = await deps.registry.getVersion(model, version);
  const state = stored?.value.state;
  if (!stored || !isRestartable(state) || state !== listed.state) return;
  if (state === 'approved') {
    const atRest = await promotionRefused(deps, stored.value, approved, now);
    if (atRest !== undefined) {
      outcome.notPromoted.push({ version, instanceId, reason: atRest });
      return;
    }
  }
  const refusal = restartRefusal(stored.value, state, instanceId);
  if (refusal !== undefined) {
    outcome.leftForAPerson.push({ version, instanceId, state, reason: refusal });
    return;
  }
  const restarts = [...(stored.value.lifecycleRestarts ?? []), { at: now.toISOString(), state, cause: cause.slice(0, MAX_VERSION_REASON) }];
  try {
    await deps.registry.replaceVersion({ ...stored.value, lifecycleRestarts: restarts }, stored.etag);
  } catch (error) {
    if (isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') return;
    throw error;
  }
  if (!(await deps.instances.startLifecycle({ model, version }))) return;
  outcome.restarted.push({ version, instanceId, state, cause, restarts: restarts.length, ...(state === 'approved' ? { approvedAt: approvedSince(stored.value) } : {}) });
}

/**
 * Why the lifecycle of this approved version is not started again to promote it: a later decision
 * it would undo (promotionRefusal, against the champion pointer as stored now and the latest other
 * approval listed), an approval too old to act on, or one given while the policy left promotion to
 * an admin (the model's ledger since the approval).
 */
async function promotionRefused(deps: ReconcileDeps, version: ModelVersion, approved: readonly ModelVersion[], now: Date): Promise<string | undefined> {
  const [champion, promoteOnApprovalChange] = await Promise.all([
    deps.registry.getChampion(version.modelName),
    promoteOnApprovalChangeSince(deps, version.modelName, approvedSince(version)),
  ]);
  const approvedAt = Date.parse(approvedSince(version));
  const later = approved
    .filter((other) => other.version !== version.version && Date.parse(approvedSince(other)) > approvedAt)
    .sort((a, b) => Date.parse(approvedSince(b)) - Date.parse(approvedSince(a)))[0];
  const laterApproval = later && { version: later.version, at: approvedSince(later) };
  return promotionRefusal(version, { now, champion: champion?.value, laterApproval, promoteOnApprovalChange });
}

/** Ledger entries one page of a model's updates since an approval holds. */
const MODEL_UPDATES_PER_PAGE = 100;
/**
 * How many of a model's updates since an approval reconciliation reads to find the policy the
 * approval was given under. Approvals older than MAX_APPROVAL_AGE_TO_PROMOTE_MS are refused anyway,
 * and no model is updated this often in a week: past it, the version is left for a person.
 */
export const MAX_MODEL_UPDATES_READ_SINCE_APPROVAL = 1000;

/**
 * The first change of promoteOnApproval the model's ledger records at or after `approvedAt` (its
 * `model_updated` entries, oldest first, a page at a time, read only as far as that change), or
 * undefined when none does. An update stamped the very millisecond of the approval counts as after
 * it: of the two orders, that one leaves the version for a person.
 */
async function promoteOnApprovalChangeSince(deps: ReconcileDeps, model: string, approvedAt: string): Promise<PromoteOnApprovalChange | undefined> {
  let read = 0;
  for (let after: PageKey | undefined; ; ) {
    const page = await deps.registry.listAuditPage(model, { kind: 'model_updated', from: approvedAt, limit: MODEL_UPDATES_PER_PAGE, ...(after ? { after } : {}) });
    for (const entry of page.entries) {
      if (entry.kind !== 'model_updated') continue;
      const before = promoteOnApprovalBefore(entry);
      if (before !== undefined) return { at: entry.at, revision: entry.revision, wasOn: before.wasOn };
    }
    read += page.entries.length;
    if (page.next === null) return undefined;
    if (read >= MAX_MODEL_UPDATES_READ_SINCE_APPROVAL) return { unread: read };
    after = page.next;
  }
}

const isRestartable = (state: LifecycleState | undefined): state is RestartableLifecycleState => (RESTARTABLE_LIFECYCLE_STATES as readonly (LifecycleState | undefined)[]).includes(state);

/**
 * Closes the open retraining requests whose version is decided: the lifecycle's end closes them,
 * and a version failed here had none (nor has one whose close an outage interrupted). Only the
 * model's open requests are read (a query), and the version of each `registered` one; one that
 * does not read is left to the retraining gate.
 */
async function closeRetrainingOfDecidedVersions(deps: ReconcileDeps, outcome: ModelReconciliation, model: string): Promise<void> {
  let open;
  try {
    open = (await deps.runs.retraining.listReadableOpen(model)).documents;
  } catch (error) {
    outcome.errors.push({ kind: 'retraining', id: 'open', error: `the open retraining requests could not be listed: ${message(error)}` });
    return;
  }
  for (const record of open) {
    const version = record.resultVersion;
    if (record.state !== 'registered' || version === undefined) continue;
    try {
      const after = await closeIfDecided(deps, record, version);
      if (after.state === 'closed' && after.outcome !== undefined) outcome.retrainingClosed.push({ requestId: after.requestId, version, outcome: after.outcome });
    } catch (error) {
      outcome.errors.push({ kind: 'retraining', id: record.requestId, error: message(error) });
    }
  }
}
