import { randomUUID } from 'node:crypto';

import { errors, isDomainError, parseOrThrow } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { defaultMetricFor } from '../domain/metrics';
import { rememberVerdict, windowsToEvaluate } from '../domain/monitor-windows';
import { evaluateDriftPolicy } from '../domain/policies/drift-policy';
import { samePeriodSpan, selectReference } from '../domain/policies/reference';
import type { RetrainingProgressBounds } from '../domain/policies/retraining-staleness';
import { newSegmentReasons, NOT_COMPARED, type WindowDrift, windowDrift } from '../domain/policies/window-drift';
import { judgeWindowPerformance, type PerformanceBaseline, validationBaseline } from '../domain/policies/window-performance';
import { DEFAULT_SEGMENT_MAX_VALUES } from '../domain/segment-cap';
import { windowFromId, windowIdOf, windowLengthMs } from '../domain/windows';
import type { Clock } from '../ports/clock';
import type { DataLake } from '../ports/data-lake';
import type { DriftMetrics } from '../ports/drift-metrics';
import type { EventPublisher } from '../ports/event-publisher';
import type { ModelRegistry, Versioned } from '../ports/model-registry';
import type { RetrainingQueue } from '../ports/retraining-queue';
import type { RunStore, UnreadableDocument } from '../ports/run-store';
import type { DriftEvaluation, DriftReport, PolicyVerdict } from '../schemas/drift';
import { validationEvidenceSchema } from '../schemas/evidence';
import type { ModelEventInput } from '../schemas/messages';
import type { ModelDefinition } from '../schemas/model';
import type { MonitoringWindow, MonitorState, WindowSpan } from '../schemas/monitoring';
import type { ReferenceWindow } from '../schemas/policies';
import type { ModelRecord } from '../schemas/registry';
import { type SegmentedProfile, withinSegmentCap } from './profiling';
import { gateRecords, requestRetraining, type RetrainingAnswer } from './request-retraining';
import { failRequestsPresumedLost } from './retraining-records';
import { loadReferenceProfile, loadWindowProfile, mergeAll, profiledWindowsBefore, profiledWindowsBetween, readLakeJson } from './window-profiles';

/**
 * The drift monitor (docs/production-loop.md, "Drift monitor"): for each model with a champion,
 * the complete monitoring windows since its last check, oldest first, are compared with the
 * reference its drift policy names (data and prediction drift, from stored profiles) and their
 * realised metrics with the champion's validation baseline (performance policy). Verdicts go on
 * the window documents and the model's monitor state; a breach that meets the policy raises one
 * retraining request; events tell subscribers.
 */

export interface DriftMonitorDeps {
  registry: ModelRegistry;
  runs: RunStore;
  lake: DataLake;
  queue: RetrainingQueue;
  events: EventPublisher;
  clock: Clock;
  /** Windows evaluated per model and run, oldest first; the rest wait for the next run. */
  maxWindowsPerModel: number;
  /** How long an open retraining request may go without progress before the gate fails it as presumed lost. */
  retrainingBounds: RetrainingProgressBounds;
  /** Told each window's drift once it is recorded (the per-column statistics, breaches). */
  metrics?: DriftMetrics;
  /** Values a segment key keeps by name in a window's merged profile (SEGMENT_MAX_VALUES; DEFAULT_SEGMENT_MAX_VALUES when absent). */
  segmentMaxValues?: number;
}

export interface WindowOutcome {
  windowId: string;
  drift: PolicyVerdict | null;
  performance: NonNullable<MonitoringWindow['performanceVerdict']>;
  retraining?: NonNullable<MonitoringWindow['retraining']>;
}

export interface ModelOutcome {
  model: string;
  version: number;
  /** Windows evaluated in this run (drift and performance), then windows whose late actuals were judged again. */
  windows: WindowOutcome[];
  /** Retraining requests sent in this run. */
  requests: string[];
  /** Open retraining requests this run failed as presumed lost (on every run, breach or not). */
  presumedLost?: string[];
  /** Why the model stopped early (the next run goes on from where it stopped). */
  error?: string;
  /** Why the model was left alone: another run holds it (it judges the windows), or its monitor state does not read. */
  skipped?: string;
  /**
   * The model's monitor state document when it does not read, with why: the model is left alone
   * (nothing judged, nothing requested, the document kept as it is) until it is repaired or removed.
   */
  unreadableState?: UnreadableDocument;
  /**
   * Window documents the run read (due, or with actuals to judge) that do not read (damaged, or
   * stored under rules that have since tightened), with why: left out, the other windows are
   * judged. One of them due for judging fails the model naming it, as its document cannot be updated.
   */
  unreadableWindows?: UnreadableDocument[];
}

export interface DriftMonitorReport {
  models: ModelOutcome[];
  /** Models without a champion: nothing to monitor. */
  withoutChampion: string[];
  /** Outages met on the way (other models went on); the caller reports them as a failure. */
  failures: Array<{ model: string; error: unknown }>;
}

/** The monitor state's id among a model's `monitors` documents. */
export const MONITOR_STATE_ID = 'monitor';

/**
 * How long a run's hold on a model lasts without renewal. A run renews it after every window and
 * before every retraining request; a run that died leaves the model to the next one after this.
 */
export const MONITOR_LEASE_MS = 15 * 60_000;

export async function runDriftMonitor(deps: DriftMonitorDeps): Promise<DriftMonitorReport> {
  const report: DriftMonitorReport = { models: [], withoutChampion: [], failures: [] };
  const holder = randomUUID();
  const listing = await deps.registry.listModels();
  // A model whose document cannot be read is a failure of this run, reported after the others.
  for (const { modelName, reason } of listing.unreadable) report.failures.push({ model: modelName, error: new Error(reason) });
  for (const record of listing.models) {
    let version: number | null;
    try {
      version = (await deps.registry.getChampion(record.modelName))?.value.version ?? null;
    } catch (error) {
      // One model's unreadable champion (an outage, a damaged document) does not stop the others.
      report.failures.push({ model: record.modelName, error });
      continue;
    }
    if (version === null) {
      report.withoutChampion.push(record.modelName);
      continue;
    }
    const outcome: ModelOutcome = { model: record.modelName, version, windows: [], requests: [] };
    report.models.push(outcome);
    try {
      await monitorModel(deps, record, version, outcome, holder);
    } catch (error) {
      outcome.error = error instanceof Error ? error.message : String(error);
      if (!isDomainError(error)) report.failures.push({ model: record.modelName, error });
    }
  }
  return report;
}

/** What every window of one model is judged with, loaded once per run. */
interface ModelContext {
  model: string;
  version: number;
  definition: ModelDefinition;
  now: Date;
  lengthMs: number;
  /** Run profile paths by window id. */
  profiled: Map<string, string[]>;
  /**
   * A version's validation baseline (read once per run): a window's realised metrics are those
   * of the version that scored it, so they are held against that version's own validation.
   */
  baselineOf: (version: number) => Promise<PerformanceBaseline>;
  /** The champion's reference profile (read once, when the policy asks for it). */
  training: () => Promise<SegmentedProfile | undefined>;
  /** A window's run profiles merged (read once per run). */
  windowProfile: (windowId: string) => Promise<SegmentedProfile | undefined>;
  /** Values a segment key keeps by name in a judged window (SEGMENT_MAX_VALUES). */
  segmentMaxValues: number;
  /** This run's hold on the model. */
  held: Held;
}

/** A run's lease on a model: the monitor state as the run last wrote it (with its ETag) and the run's id. */
interface Held {
  model: string;
  state: Versioned<MonitorState>;
  holder: string;
}

/**
 * One model, by one run at a time: the run takes the lease on the model's monitor state first (an
 * ETag-guarded write), and a run that finds another's lease live leaves the model alone. Two runs
 * at once (the timer and `POST /admin/functions/driftMonitor`; only the timer is a singleton)
 * would otherwise judge the same windows from views taken at different moments and raise
 * requests for different windows, each gate reading the records before the other's was stored.
 */
async function monitorModel(deps: DriftMonitorDeps, record: ModelRecord, version: number, outcome: ModelOutcome, holder: string): Promise<void> {
  const model = record.modelName;
  const now = deps.clock.now();
  const taken = await takeLease(deps, model, now, holder);
  if ('unreadable' in taken) {
    outcome.unreadableState = taken.unreadable;
    outcome.skipped = `its monitor state document '${taken.unreadable.id}' cannot be read (${taken.unreadable.reason}); repair or remove it`;
    return;
  }
  if ('busy' in taken) {
    outcome.skipped = taken.busy;
    return;
  }
  const held: Held = { model, state: taken, holder };
  try {
    const lost = await failRequestsLostSinceLastRun(deps, model, now);
    if (lost.length > 0) outcome.presumedLost = lost;
    const lengthMs = windowLengthMs(record.definition.policies.drift.window);
    const { due, profiled, relabelled, unreadable } = await windowsOfThisRun(deps, record.definition, model, held.state.value.evaluatedUntil, now, lengthMs);
    if (unreadable.length > 0) outcome.unreadableWindows = unreadable;
    const context = await modelContext(deps, record, version, now, profiled, held);
    for (const span of due) await judgeWindow(deps, context, span, outcome);
    const budget = deps.maxWindowsPerModel - due.length;
    for (const window of labelledSinceJudged(relabelled, due, context.held.state.value).slice(0, Math.max(0, budget))) {
      await judgeLateActuals(deps, context, window, outcome);
    }
  } finally {
    await releaseLease(deps, held);
  }
}

/** What one run of one model reads: the windows it judges and the profiles it compares them with. */
interface WindowsOfRun {
  /** The windows due, oldest first (at most the run's maximum). */
  due: WindowSpan[];
  /** Run profile paths by window id: the due windows' and those of their references. */
  profiled: Map<string, string[]>;
  /** Windows whose realised performance may not have been judged (late actuals), for labelledSinceJudged. */
  relabelled: MonitoringWindow[];
  /** Window documents met on the way that do not read. */
  unreadable: UnreadableDocument[];
}

/**
 * Reads only what the run judges, not the model's history: the windows due (with a profile or a
 * document, from `evaluatedUntil`, at most the run's maximum), the windows with actuals not yet
 * judged, and the profiles of the due windows' references (none for `training`; the `rolling`
 * windows before the first due one; the `same_period` lagged spans). The consecutive-windows rule
 * and the cooldowns read the monitor state and the retraining records, not windows.
 */
async function windowsOfThisRun(
  deps: DriftMonitorDeps,
  definition: ModelDefinition,
  model: string,
  evaluatedUntil: string | null,
  now: Date,
  lengthMs: number,
): Promise<WindowsOfRun> {
  const max = deps.maxWindowsPerModel;
  // Due windows start at or after evaluatedUntil and end by now; ids sort by start, at minute precision.
  const from = evaluatedUntil === null ? undefined : windowIdOf(Math.ceil(Date.parse(evaluatedUntil) / 60_000) * 60_000);
  const before = windowIdOf(Math.floor((now.getTime() - lengthMs) / 60_000) * 60_000 + 60_000);
  const [profiled, documents, relabelled] = await Promise.all([
    profiledWindowsBetween(deps.lake, model, { from, before, maxWindows: max }),
    readableWindowsFrom(deps.runs, model, { from, before }, max),
    // Late actuals matter only on windows judged in earlier runs: those that start before evaluatedUntil.
    from === undefined ? { documents: [], unreadable: [] } : deps.runs.windows.listReadablePerformanceUnjudged(model, from),
  ]);
  // The first `max` of either source hold the first `max` of both.
  const due = windowsToEvaluate([...profiled.keys(), ...documents.ids], lengthMs, evaluatedUntil, now, max);
  for (const [id, paths] of await referenceProfiles(deps.lake, model, definition.policies.drift.reference, due)) profiled.set(id, paths);
  const unreadable = new Map([...documents.unreadable, ...relabelled.unreadable].map((u) => [u.id, u]));
  return { due, profiled, relabelled: relabelled.documents, unreadable: [...unreadable.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

/**
 * The ids of at least the first `max` readable window documents in the range (all there are when
 * fewer), and those met that do not read: they take places in a listing, so it is read again longer
 * until `max` read or the range is exhausted.
 */
async function readableWindowsFrom(runs: RunStore, model: string, range: { from: string | undefined; before: string }, max: number): Promise<{ ids: string[]; unreadable: UnreadableDocument[] }> {
  for (let limit = max; ; limit += max) {
    const listing = await runs.windows.listReadableInRange(model, { ...range, limit });
    const ids = listing.documents.map((w) => w.window.id);
    if (ids.length >= max || ids.length + listing.unreadable.length < limit) return { ids, unreadable: listing.unreadable };
  }
}

/** The run profiles of the windows the policy's reference compares the due windows with. */
async function referenceProfiles(lake: DataLake, model: string, reference: ReferenceWindow, due: readonly WindowSpan[]): Promise<Map<string, string[]>> {
  const first = due[0];
  if (reference.kind === 'training' || !first) return new Map();
  if (reference.kind === 'rolling') return profiledWindowsBefore(lake, model, first, reference.windows);
  const found = new Map<string, string[]>();
  for (const span of due) {
    const { from, to } = samePeriodSpan(reference, span);
    for (const [id, paths] of await profiledWindowsBetween(lake, model, { from: windowIdOf(from), before: windowIdOf(to) })) found.set(id, paths);
  }
  return found;
}

/**
 * The model's open requests past their presumed-lost bound, failed on every run and not only when a
 * breach consults the gate: between breaches `GET .../retraining` would show a lost request as
 * `queued` or `training` for good. Only open requests are read (a query by state), not the model's
 * history of requests. A request whose document does not read is left to the gate, which fails
 * closed on it when a breach asks. Answers the ids of the requests failed.
 */
async function failRequestsLostSinceLastRun(deps: DriftMonitorDeps, model: string, now: Date): Promise<string[]> {
  const { documents } = await deps.runs.retraining.listReadableOpen(model);
  const after = await failRequestsPresumedLost(deps, documents, deps.retrainingBounds, now);
  return after.filter((r, i) => r.state === 'failed' && documents[i]!.state !== 'failed').map((r) => r.requestId);
}

function lease(deps: DriftMonitorDeps, holder: string): NonNullable<MonitorState['lease']> {
  return { holder, until: new Date(deps.clock.now().getTime() + MONITOR_LEASE_MS).toISOString() };
}

/**
 * The model's monitor state as stored (undefined before the first run), or, when its document does
 * not read (damaged, or stored under rules that have since tightened), which document and why. An
 * outage is thrown: the store's `get` fails on both, so the listing, which reads documents one by
 * one, tells them apart.
 */
export async function readMonitorState(runs: RunStore, model: string): Promise<{ state: Versioned<MonitorState> | undefined } | { unreadable: UnreadableDocument }> {
  try {
    return { state: await runs.monitors.get(model, MONITOR_STATE_ID) };
  } catch (error) {
    const unreadable = (await runs.monitors.listReadable(model)).unreadable.find((u) => u.id === MONITOR_STATE_ID);
    if (unreadable) return { unreadable };
    throw error;
  }
}

/**
 * The model's monitor state with this run's lease on it (created on the first run), or why the run
 * leaves the model alone: another run holds it, or the state does not read. A state that does not
 * read is not started over: it holds the lease of a run that may be live and the history the
 * consecutive-windows rule and the cooldown judge by, so a fresh one could judge windows twice at
 * once or alert inside the cooldown; and overwriting it would lose what it holds.
 */
async function takeLease(
  deps: DriftMonitorDeps,
  model: string,
  now: Date,
  holder: string,
): Promise<Versioned<MonitorState> | { busy: string } | { unreadable: UnreadableDocument }> {
  const busy = (until: string) => ({ busy: `another drift monitor run holds the model until ${until}` });
  for (let attempt = 1; attempt <= 3; attempt++) {
    const read = await readMonitorState(deps.runs, model);
    if ('unreadable' in read) return read;
    const found = read.state;
    if (!found) {
      const fresh: MonitorState = { modelName: model, evaluatedUntil: null, recent: [], lastAlertAt: null, updatedAt: now.toISOString(), lease: lease(deps, holder) };
      const created = await deps.runs.monitors.create(model, MONITOR_STATE_ID, fresh);
      if (created.created) return created;
      continue;
    }
    const other = found.value.lease;
    if (other && other.holder !== holder && Date.parse(other.until) > deps.clock.now().getTime()) return busy(other.until);
    try {
      return await deps.runs.monitors.replace(model, MONITOR_STATE_ID, { ...found.value, lease: lease(deps, holder) }, found.etag);
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT')) throw error;
    }
  }
  const latest = (await deps.runs.monitors.get(model, MONITOR_STATE_ID))?.value.lease;
  return busy(latest?.until ?? 'it is released');
}

/** The state written with this run's lease renewed (and `change` applied); CONCURRENCY_CONFLICT when another run took the model over. */
async function renewLease(deps: DriftMonitorDeps, held: Held, change: Partial<MonitorState> = {}): Promise<void> {
  held.state = await deps.runs.monitors.replace(held.model, MONITOR_STATE_ID, { ...held.state.value, ...change, lease: lease(deps, held.holder) }, held.state.etag);
}

/** The lease given back at the end of the run (best effort: it expires anyway). */
async function releaseLease(deps: DriftMonitorDeps, held: Held): Promise<void> {
  try {
    held.state = await deps.runs.monitors.replace(held.model, MONITOR_STATE_ID, { ...held.state.value, lease: null }, held.state.etag);
  } catch {
    // Taken over or unreachable: the lease runs out by itself.
  }
}

async function modelContext(
  deps: DriftMonitorDeps,
  record: ModelRecord,
  version: number,
  now: Date,
  profiled: Map<string, string[]>,
  held: Held,
): Promise<ModelContext> {
  const model = record.modelName;
  const profiles = new Map<string, Promise<SegmentedProfile | undefined>>();
  const baselines = new Map<number, Promise<PerformanceBaseline>>();
  const baselineOf = (scoredBy: number) => {
    if (!baselines.has(scoredBy)) baselines.set(scoredBy, validationBaselineOf(deps, record.definition, model, scoredBy));
    return baselines.get(scoredBy)!;
  };
  // The champion's read up front: its evidence unreadable fails the model before any window is judged.
  await baselineOf(version);
  let training: Promise<SegmentedProfile | undefined> | undefined;
  return {
    model,
    version,
    definition: record.definition,
    now,
    lengthMs: windowLengthMs(record.definition.policies.drift.window),
    profiled,
    baselineOf,
    training: () => (training ??= loadReferenceProfile(deps.lake, model, version)),
    windowProfile: (windowId) => {
      if (!profiles.has(windowId)) profiles.set(windowId, loadWindowProfile(deps.lake, profiled.get(windowId) ?? []));
      return profiles.get(windowId)!;
    },
    segmentMaxValues: deps.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES,
    held,
  };
}

/** One due window: drift and performance judged, retraining asked for on a breach, all recorded; the state moves past it last. */
async function judgeWindow(
  deps: DriftMonitorDeps,
  context: ModelContext,
  span: WindowSpan,
  outcome: ModelOutcome,
): Promise<void> {
  const at = context.now.toISOString();
  const state = context.held.state.value;
  const drift = await driftOf(context, span, state);
  // The document as it is now (the list at the start of the run is minutes old by now).
  const document = (await deps.runs.windows.get(context.model, span.id))?.value;
  const performance = await performanceOf(context, document);
  const retraining = await retrainIfBreached(deps, context, span, { drift: drift.evaluation, ...performance }, evidenceOf(drift, performance));
  await recordWindow(deps.runs, context, span, {
    drift: { ...drift, evaluatedAt: at },
    performanceVerdict: performance.verdict,
    performanceEvaluation: { ...performance.evaluation, evaluatedAt: at, judgedUpdatedAt: document?.performance?.updatedAt ?? null },
    ...(retraining ? { retraining: retraining.outcome } : {}),
  });
  deps.metrics?.windowRecorded({ model: context.model, version: context.version, windowId: span.id, overall: drift.overall, segments: drift.segments, evaluation: drift.evaluation });
  await deps.events.publishAll(driftEvents(context, span, drift));
  report(outcome, span, drift.evaluation.verdict, performance.verdict, retraining);
  await renewLease(deps, context.held, {
    evaluatedUntil: span.end,
    recent: rememberVerdict(state.recent, drift.evaluation.windowVerdict),
    lastAlertAt: drift.evaluation.alert ? at : state.lastAlertAt,
    updatedAt: at,
  });
}

/** Windows judged before (not in this run) whose actuals changed since: late labels. */
function labelledSinceJudged(stored: readonly MonitoringWindow[], due: readonly WindowSpan[], state: MonitorState): MonitoringWindow[] {
  const until = state.evaluatedUntil === null ? -Infinity : Date.parse(state.evaluatedUntil);
  const judgedNow = new Set(due.map((w) => w.id));
  return stored
    .filter((w) => !judgedNow.has(w.window.id) && Date.parse(w.window.end) <= until)
    .filter(performanceChangedSinceJudged)
    .sort((a, b) => Date.parse(a.window.start) - Date.parse(b.window.start));
}

/**
 * Whether the window's performance is another than the one its evaluation judged (also none, after
 * one was judged). Compared by the `updatedAt` the evaluation judged, not by clocks: the join
 * stamps `updatedAt` on its machine before its write lands, so a stamp earlier than the monitor's
 * clock can still be news to it.
 */
function performanceChangedSinceJudged(window: MonitoringWindow): boolean {
  const judged = window.performanceEvaluation;
  // Performance gone since it was judged: a newer version of an actuals file took the window's labelled rows out.
  if (window.performance === null) return typeof judged?.judgedUpdatedAt === 'string';
  if (!judged) return true;
  if (judged.judgedUpdatedAt !== undefined) return judged.judgedUpdatedAt !== window.performance.updatedAt;
  return Date.parse(window.performance.updatedAt) > Date.parse(judged.evaluatedAt);
}

/** A window whose actuals came after it was judged: its performance judged again (its drift stays). */
async function judgeLateActuals(deps: DriftMonitorDeps, context: ModelContext, listed: MonitoringWindow, outcome: ModelOutcome): Promise<void> {
  const window = (await deps.runs.windows.get(context.model, listed.window.id))?.value ?? listed;
  const performance = await performanceOf(context, window);
  const retraining = await retrainIfBreached(deps, context, window.window, performance, { performance: performance.evaluation });
  await recordWindow(deps.runs, context, window.window, {
    performanceVerdict: performance.verdict,
    performanceEvaluation: { ...performance.evaluation, evaluatedAt: context.now.toISOString(), judgedUpdatedAt: window.performance?.updatedAt ?? null },
    ...(retraining ? { retraining: retraining.outcome } : {}),
  });
  report(outcome, window.window, null, performance.verdict, retraining);
}

function report(outcome: ModelOutcome, span: WindowSpan, drift: PolicyVerdict | null, performance: WindowOutcome['performance'], retraining: RetrainingAnswer | undefined): void {
  outcome.windows.push({ windowId: span.id, drift, performance, ...(retraining ? { retraining: retraining.outcome } : {}) });
  if (retraining?.sent) outcome.requests.push(retraining.outcome.requestId!);
}

/** A version's own metric at validation, from its evidence (none: performance is not judged). */
async function validationBaselineOf(deps: DriftMonitorDeps, definition: ModelDefinition, model: string, version: number): Promise<PerformanceBaseline> {
  const metric = definition.policies.performance.metric ?? defaultMetricFor(definition.task);
  const validated = (await deps.registry.getVersion(model, version))?.value;
  if (!validated?.evidenceHash) return validationBaseline(null, metric);
  const path = lakePaths.evidence(model, version, validated.evidenceHash);
  return validationBaseline(parseOrThrow(validationEvidenceSchema, await readLakeJson(deps.lake, path), `validation evidence ${path}`), metric);
}

type WindowDriftSection = Omit<NonNullable<MonitoringWindow['drift']>, 'evaluatedAt'>;

/**
 * The window's drift section: its profile against the reference, judged by the policy with the
 * model's history. A window that cannot be compared (no profiles, no reference, profiles that do
 * not fit together) is `insufficient_data` with the reason, so it neither extends nor breaks a run.
 */
async function driftOf(context: ModelContext, span: WindowSpan, state: MonitorState): Promise<WindowDriftSection> {
  const policy = context.definition.policies.drift;
  const reference = referenceOf(context, span);
  let compared: WindowDrift | undefined;
  let current: SegmentedProfile | undefined;
  let notCompared = '';
  try {
    const [loaded, referenceProfile] = [await context.windowProfile(span.id), await reference.load()];
    // Runs each within the cap can bring other values: the window keeps the cap too, the reference's values first.
    current = loaded && withinSegmentCap(loaded, { maxValues: context.segmentMaxValues, reference: referenceProfile });
    if (!current) notCompared = 'no rows were scored in this window (no run profiles)';
    else if (!referenceProfile) notCompared = reference.missing;
    else compared = windowDrift(policy, referenceProfile, current);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    notCompared = `not compared: ${error.message}`;
  }
  const evaluation = evaluateDriftPolicy(
    policy,
    compared ? { overall: compared.overall, segments: compared.segments } : { overall: NOT_COMPARED },
    { recent: state.recent, lastAlertAt: state.lastAlertAt },
    context.now,
  );
  // Not compared: say why, instead of the policy's "no column had enough data".
  evaluation.reasons = compared
    ? [...newSegmentReasons(compared.newSegments), ...evaluation.reasons]
    : [{ scope: 'dataset', verdict: 'insufficient_data', message: notCompared }];
  return {
    reference: reference.label,
    overall: compared?.overall ?? NOT_COMPARED,
    segments: compared?.segments ?? {},
    evaluation,
    ...(compared && compared.newSegments.length > 0 ? { newSegments: compared.newSegments } : {}),
    ...(compared && current?.cappedSegments ? { cappedSegments: current.cappedSegments } : {}),
  };
}

/** The reference the policy names for a window: the champion's validation profile, or stored windows merged. */
function referenceOf(context: ModelContext, span: WindowSpan): { label: string; missing: string; load(): Promise<SegmentedProfile | undefined> } {
  const choice = context.definition.policies.drift.reference;
  const stored = [...context.profiled.keys()].map((id) => windowFromId(id, context.lengthMs));
  const selection = selectReference(choice, span, stored);
  if (selection.source === 'training') {
    const path = lakePaths.referenceProfile(context.model, context.version);
    return { label: path, missing: `the champion v${context.version} has no reference profile (${path})`, load: context.training };
  }
  const ids = selection.windows.map((w) => w.id);
  return {
    label: `${choice.kind} windows ${ids.join(' ') || '(none)'}${selection.complete ? '' : ` (${ids.length} of ${selection.wanted})`}`,
    missing: `no stored window to form the ${choice.kind} reference yet`,
    load: async () => mergeAll((await Promise.all(ids.map((id) => context.windowProfile(id)))).filter((p): p is SegmentedProfile => p !== undefined)),
  };
}

/** The window's performance against the validation baseline of the version that scored it (`scoredBy`). */
async function performanceOf(context: ModelContext, window: MonitoringWindow | undefined) {
  const { policies } = context.definition;
  const scoredBy = window?.version ?? context.version;
  const judged = judgeWindowPerformance(policies.performance, await context.baselineOf(scoredBy), {
    performance: window?.performance ?? null,
    labelCoverage: window?.labelCoverage ?? 0,
    minSegmentRows: policies.validation.minSegmentRows,
  });
  return { ...judged, scoredBy };
}

function evidenceOf(drift: WindowDriftSection, performance: Awaited<ReturnType<typeof performanceOf>>): Record<string, unknown> {
  const drifted = drift.overall.columns.filter((c) => c.drifted).map((c) => ({ column: c.name, method: c.method, statistic: c.statistic }));
  return {
    drift: { verdict: drift.evaluation.verdict, consecutive: drift.evaluation.consecutive, shareDrifted: drift.overall.shareDrifted, drifted, reference: drift.reference },
    performance: performance.evaluation,
  };
}

/**
 * A drift alert (the policy's consecutive-windows rule met, outside its cooldown) or a performance
 * breach asks for retraining; the request's gate decides whether one is sent, on the model's
 * retraining records read now: a run lasts minutes, and a request the lifecycle closed (or another
 * writer stored) since the run started must count as it is, not as it was.
 */
async function retrainIfBreached(
  deps: DriftMonitorDeps,
  context: ModelContext,
  span: WindowSpan,
  verdicts: { drift?: DriftEvaluation; verdict: NonNullable<MonitoringWindow['performanceVerdict']>; scoredBy: number },
  evidence: Record<string, unknown>,
): Promise<RetrainingAnswer | undefined> {
  // How a version that no longer serves did says little about the champion: recorded, not retrained on.
  const breached = verdicts.verdict === 'breach';
  const championBreached = breached && verdicts.scoredBy === context.version;
  const reason = championBreached ? 'performance' : verdicts.drift?.alert ? 'drift' : undefined;
  if (!reason) {
    if (!breached) return undefined;
    const blockedBy = `the window was scored by v${verdicts.scoredBy}, which is no longer the champion (v${context.version})`;
    return { outcome: { reason: 'performance', requestId: null, blockedBy }, sent: false };
  }
  // Still this run's model (else CONCURRENCY_CONFLICT stops it here), for a lease's length from now.
  await renewLease(deps, context.held);
  const ask = { model: context.model, window: span, policy: context.definition.policies.retraining, now: context.now };
  // What the gate judges, or none sent: an unreadable one may be the open request (fails closed, naming it).
  return requestRetraining(deps, { ...ask, version: context.version, reason, records: await gateRecords(deps.runs, ask), evidence });
}

/**
 * Writes the monitor's fields of a window document (ETag read-modify-write, created if missing),
 * leaving what the actuals join and batch inference own (`predictions`, `labelled`,
 * `labelCoverage`, `performance`) as they are.
 */
async function recordWindow(runs: RunStore, context: ModelContext, span: WindowSpan, fields: Partial<MonitoringWindow>): Promise<void> {
  const { model, version } = context;
  for (let attempt = 1; ; attempt++) {
    const stored = await runs.windows.get(model, span.id);
    try {
      if (stored) {
        await runs.windows.replace(model, span.id, { ...stored.value, version: stored.value.version ?? version, ...fields }, stored.etag);
        return;
      }
      const fresh: MonitoringWindow = { modelName: model, window: span, version, predictions: 0, labelled: 0, labelCoverage: 0, performance: null, drift: null, ...fields };
      if ((await runs.windows.create(model, span.id, fresh)).created) return;
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT')) throw error;
    }
    if (attempt >= 5) throw errors.concurrencyConflict(`window ${span.id} of '${model}' kept changing while the monitor recorded its verdicts`, { model, window: span.id });
  }
}

function driftEvents(context: ModelContext, span: WindowSpan, drift: WindowDriftSection): ModelEventInput[] {
  const base = { model: context.model, version: context.version, occurredAt: context.now.toISOString() };
  const scores = Object.fromEntries(drift.overall.columns.filter((c) => c.statistic !== null).map((c) => [c.name, c.statistic!]));
  const events: ModelEventInput[] = [
    { ...base, eventId: `${context.model}:drift-evaluated:${span.id}`, type: 'drift.evaluated', data: { windowId: span.id, verdict: drift.evaluation.verdict, scores } },
  ];
  if (drift.evaluation.windowVerdict === 'drift') {
    const scopes: Array<[string, DriftReport]> = [['', drift.overall], ...Object.entries(drift.segments).map(([segment, report]): [string, DriftReport] => [`${segment}:`, report])];
    const drifted = scopes.flatMap(([scope, report]) => report.columns.filter((c) => c.drifted).map((c) => ({ column: c.name, key: `${scope}${c.name}`, statistic: c.statistic! })));
    events.push({
      ...base,
      eventId: `${context.model}:drift-detected:${span.id}`,
      type: 'drift.detected',
      data: { windowId: span.id, columns: [...new Set(drifted.map((d) => d.column))], scores: Object.fromEntries(drifted.map((d) => [d.key, d.statistic])) },
    });
  }
  return events;
}
