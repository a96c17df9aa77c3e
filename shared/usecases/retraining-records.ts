import { errors, isDomainError, parseOrThrow } from '../domain/errors';
import { type RetrainingProgressBounds, staleRequest } from '../domain/policies/retraining-staleness';
import { isDecided } from '../domain/retraining';
import type { Clock } from '../ports/clock';
import type { EventPublisher } from '../ports/event-publisher';
import type { ModelRegistry } from '../ports/model-registry';
import { type DocumentPage, everyDocument, type PageRequest, type RunStore } from '../ports/run-store';
import type { LifecycleState } from '../schemas/lifecycle';
import { type RetrainingRequest, retrainingRequestId } from '../schemas/messages';
import { type RetrainingRecord, retrainingRecordSchema } from '../schemas/monitoring';

/**
 * RetrainingRecords (Cosmos `runs`, id = request id): what became of each request. Writes are
 * ETag-guarded and retried on a conflict; every change of state is published as a
 * `retraining.changed` event first (id `{requestId}:{state}`, so a retried write republishes the
 * same event and the topic drops it), then written; only the failure of a request presumed lost
 * (failIfPresumedLost) is published after its write, since a conflict can call it off.
 */
export interface RetrainingRecordDeps {
  runs: RunStore;
  clock: Clock;
  /** Where state changes are published (`model-events`); none in tests that do not look. */
  events?: EventPublisher;
}

/** What the registry must answer to decide whether a request's version is decided. */
export interface DecisionDeps extends RetrainingRecordDeps {
  registry: ModelRegistry;
}

const MAX_ATTEMPTS = 10;

/** The request's record, created `queued` when the monitor did not create it first. */
export async function ensureRetrainingRecord(deps: RetrainingRecordDeps, request: RetrainingRequest): Promise<RetrainingRecord> {
  const requestId = retrainingRequestId(request.model, request.window.id);
  const record = parseOrThrow(
    retrainingRecordSchema,
    {
      requestId,
      modelName: request.model,
      version: request.version,
      reason: request.reason,
      windowId: request.window.id,
      state: 'queued',
      requestedAt: request.requestedAt,
    },
    'retraining record',
  );
  return (await deps.runs.retraining.create(request.model, requestId, record)).value;
}

/**
 * Applies `change` to the stored record (re-read and re-applied on a conflict). `change` answers
 * the new record, or undefined to leave it as it is. NOT_FOUND when there is no record. A change
 * of state is published before the write (a retried write republishes it), or with `publish:
 * 'after'` only once the write landed: for a change that a conflict may call off, whose event
 * must not announce what did not happen.
 */
export async function updateRetrainingRecord(
  deps: RetrainingRecordDeps,
  model: string,
  requestId: string,
  change: (record: RetrainingRecord) => RetrainingRecord | undefined,
  options: { publish: 'first' | 'after' } = { publish: 'first' },
): Promise<RetrainingRecord> {
  for (let attempt = 1; ; attempt += 1) {
    const stored = await deps.runs.retraining.get(model, requestId);
    if (!stored) throw errors.notFound(`there is no retraining request '${requestId}' of model '${model}'`, { requestId });
    const next = change(stored.value);
    if (!next) return stored.value;
    const updated = parseOrThrow(retrainingRecordSchema, { ...next, updatedAt: deps.clock.now().toISOString() }, 'retraining record');
    const changed = updated.state !== stored.value.state;
    if (changed && options.publish === 'first') await publishChange(deps, updated);
    let written: RetrainingRecord;
    try {
      written = (await deps.runs.retraining.replace(model, requestId, updated, stored.etag)).value;
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') || attempt >= MAX_ATTEMPTS) throw error;
      continue;
    }
    if (changed && options.publish === 'after') await publishChange(deps, written);
    return written;
  }
}

async function publishChange(deps: RetrainingRecordDeps, record: RetrainingRecord): Promise<void> {
  await deps.events?.publish({
    eventId: `${record.requestId}:${record.state}`,
    type: 'retraining.changed',
    model: record.modelName,
    version: record.version,
    occurredAt: deps.clock.now().toISOString(),
    correlationId: record.requestId,
    data: {
      requestId: record.requestId,
      state: record.state,
      ...(record.trainer ? { trainer: record.trainer } : {}),
      ...(record.resultVersion ? { resultVersion: record.resultVersion } : {}),
      ...(record.outcome ? { outcome: record.outcome } : {}),
      ...(record.error ? { error: record.error } : {}),
    },
  });
}

/** Drops optional members (`error`, ...) from a record: the schema has no nulls to clear them with. */
function without<K extends keyof RetrainingRecord>(record: RetrainingRecord, ...keys: K[]): RetrainingRecord {
  const copy = { ...record };
  for (const key of keys) delete copy[key];
  return copy;
}

/** A request starts (again) with a trainer; a closed or registered one is left alone. */
export function startTraining(deps: RetrainingRecordDeps, record: RetrainingRecord, trainer: string): Promise<RetrainingRecord> {
  return updateRetrainingRecord(deps, record.modelName, record.requestId, (r) =>
    r.state === 'queued' || r.state === 'failed' || (r.state === 'training' && r.trainer !== trainer)
      ? { ...without(r, 'error'), state: 'training', trainer }
      : undefined,
  );
}

/** The trainer failed: for good (`failed`) or, while the message will be delivered again, noted. */
export function recordTrainingError(
  deps: RetrainingRecordDeps,
  model: string,
  requestId: string,
  error: string,
  final: boolean,
): Promise<RetrainingRecord> {
  return updateRetrainingRecord(deps, model, requestId, (r) => {
    if (r.state === 'registered' || r.state === 'closed') return undefined;
    return final ? { ...r, state: 'failed', error } : { ...r, error };
  });
}

/**
 * An open request with no progress for longer than anything working on it could take
 * (retraining-staleness.ts) is failed as presumed lost, with the reason, so that it no longer
 * holds off the model's later requests. Judged again on the record as stored (ETag-guarded): a
 * request that made progress since it was read stays as it is, and its `retraining.changed` is
 * published only once the write landed (a crash between the two leaves the record failed without
 * the event; the record is what the gate reads). A late handler can still move it:
 * a registration records its version (the lifecycle's end closes it), a delivery of its message
 * starts it over as for any failed request. Answers the record as it is now.
 */
export function failIfPresumedLost(
  deps: RetrainingRecordDeps,
  record: RetrainingRecord,
  bounds: RetrainingProgressBounds,
  now: Date,
): Promise<RetrainingRecord> {
  return updateRetrainingRecord(
    deps,
    record.modelName,
    record.requestId,
    (r) => {
      const reason = staleRequest(r, bounds, now);
      return reason ? { ...r, state: 'failed', error: reason } : undefined;
    },
    { publish: 'after' },
  );
}

/**
 * Every open request of `records` past its presumed-lost bound at `now` (but `keep`, the request
 * being raised) failed as presumed lost (failIfPresumedLost); the others as they are. Answers the
 * records as they are now, in the same order.
 */
export function failRequestsPresumedLost(
  deps: RetrainingRecordDeps,
  records: readonly RetrainingRecord[],
  bounds: RetrainingProgressBounds,
  now: Date,
  keep?: string,
): Promise<RetrainingRecord[]> {
  return Promise.all(records.map((r) => (r.requestId !== keep && staleRequest(r, bounds, now) ? failIfPresumedLost(deps, r, bounds, now) : Promise.resolve(r))));
}

/**
 * The request's version is registered but its lifecycle could not be started before the message
 * ran out of deliveries (an outage of the durable client): nothing else would start it, and a
 * request left `registered` stays open, holding off every later request of the model. It fails
 * saying so and keeps `resultVersion`: the message sent again starts the lifecycle, and a lifecycle
 * that did start after all still closes it (closeRetrainingForVersion).
 */
export function recordLifecycleNotStarted(deps: RetrainingRecordDeps, model: string, requestId: string, error: string): Promise<RetrainingRecord> {
  return updateRetrainingRecord(deps, model, requestId, (r) =>
    r.state === 'registered' && r.resultVersion !== undefined
      ? { ...r, state: 'failed', error: `v${r.resultVersion} is registered, but its lifecycle was not started: ${error}` }
      : undefined,
  );
}

/**
 * The trainer registered `version` for the request: `registered` with the result, then closed at
 * once if that version is already decided (a retried request, or a pipeline that reported after
 * its version's lifecycle ended). Otherwise the lifecycle's end closes it.
 */
export async function recordTrainingResult(deps: DecisionDeps, model: string, requestId: string, version: number): Promise<RetrainingRecord> {
  const record = await updateRetrainingRecord(deps, model, requestId, (r) => {
    if (r.state === 'closed' || (r.state === 'registered' && r.resultVersion === version)) return undefined;
    if (r.state === 'registered') {
      throw errors.illegalTransition(`retraining request '${requestId}' already registered version ${r.resultVersion}, not ${version}`, { requestId });
    }
    return { ...without(r, 'error'), state: 'registered', resultVersion: version };
  });
  return closeIfDecided(deps, record, version);
}

/**
 * A `registered` record whose version is already decided closes at once; any other stays as it is.
 * Reconciliation also closes so the request of a version it decided (no lifecycle end closes it).
 */
export async function closeIfDecided(deps: DecisionDeps, record: RetrainingRecord, version: number): Promise<RetrainingRecord> {
  if (record.state !== 'registered') return record;
  const model = record.modelName;
  const [found, modelRecord] = await Promise.all([deps.registry.getVersion(model, version), deps.registry.getModel(model)]);
  if (!found || !modelRecord) return record;
  const state = found.value.state;
  if (!isDecided(state, modelRecord.definition.policies.approval.promoteOnApproval)) return record;
  return (await closeRetrainingForVersion(deps, { model, version, outcome: state }))[0] ?? record;
}

/** How a webhook retraining records the pipeline's failure report (also the words of the orchestration). */
export const pipelineFailure = (error: string): string => `the training pipeline failed: ${error}`;

/**
 * Takes a webhook pipeline's report (`POST .../retraining/{requestId}/complete`) on the request's
 * record, once: only a request still `training` takes one, and the ETag-guarded write decides
 * between reports sent twice or at once, so exactly one is taken and every other is
 * ILLEGAL_TRANSITION (409). A version report makes the request `registered` (closed at once if
 * that version is already decided), a failure report `failed`. The caller then hands the report
 * to the waiting orchestration, which records the same.
 */
export async function takePipelineReport(
  deps: DecisionDeps,
  model: string,
  requestId: string,
  report: { outcome: 'registered'; version: number } | { outcome: 'failed'; error: string },
): Promise<RetrainingRecord> {
  const taken = await updateRetrainingRecord(deps, model, requestId, (r) => {
    if (r.state !== 'training') {
      const what = r.state === 'registered' || r.state === 'closed' ? ` (version ${r.resultVersion} was reported)` : r.error ? ` (${r.error})` : '';
      throw errors.illegalTransition(`retraining request '${requestId}' is not waiting for a report: it is ${r.state}${what}`, {
        requestId,
        state: r.state,
        ...(r.resultVersion !== undefined ? { resultVersion: r.resultVersion } : {}),
      });
    }
    return report.outcome === 'registered'
      ? { ...without(r, 'error'), state: 'registered', resultVersion: report.version }
      : { ...r, state: 'failed', error: pipelineFailure(report.error) };
  });
  return report.outcome === 'registered' ? closeIfDecided(deps, taken, report.version) : taken;
}

/**
 * The lifecycle of `version` ended in `outcome`: every request that produced it and is not closed
 * is closed with that outcome: a `registered` one, or one failed because the lifecycle seemed not
 * to start (recordLifecycleNotStarted). Returns the records it closed (none when no request produced it).
 * Only the requests whose `resultVersion` is the version are read (a query), not the model's history.
 * A request whose document does not read may be one that produced it (its `resultVersion` says so,
 * or cannot be told): the readable ones are closed first, then the call fails naming it (closing
 * again closes nothing twice).
 */
export async function closeRetrainingForVersion(
  deps: RetrainingRecordDeps,
  input: { model: string; version: number; outcome: LifecycleState },
): Promise<RetrainingRecord[]> {
  const produced = (r: RetrainingRecord) => (r.state === 'registered' || r.state === 'failed') && r.resultVersion === input.version;
  const listing = await deps.runs.retraining.listReadableWithResultVersion(input.model, input.version);
  const open = listing.documents.filter(produced);
  const closedAt = deps.clock.now().toISOString();
  const closed = await Promise.all(
    open.map((r) =>
      updateRetrainingRecord(deps, input.model, r.requestId, (current) =>
        produced(current) ? { ...without(current, 'error'), state: 'closed', outcome: input.outcome, closedAt } : undefined,
      ),
    ),
  );
  everyDocument('retraining', input.model, listing);
  return closed;
}

/** A page of a model's retraining requests, newest first (by requestedAt, then id), and those on it the store cannot read apart (by id, with why). */
export function listRetrainingRequests(deps: Pick<RetrainingRecordDeps, 'runs'>, model: string, page: PageRequest): Promise<DocumentPage<RetrainingRecord>> {
  return deps.runs.retraining.listReadablePage(model, page);
}

/** The request's webhookRetraining instance, as the completion route sees it through the durable client. */
export interface WaitingPipeline {
  /** Whether the instance exists and is still running (it waits for the report, or is taking one). */
  running(): Promise<boolean>;
  /** Raises the report as the event the instance waits for. */
  deliver(): Promise<void>;
}

/**
 * `POST .../retraining/{requestId}/complete`: checks the report (the request exists, a reported
 * version exists and was registered after the request was made, the request's webhook retraining
 * is running), takes it on the record once (`takePipelineReport`: a second report, sent again or
 * at the same time, is 409 and never reaches the orchestration), then delivers it.
 */
export async function acceptPipelineReport(
  deps: DecisionDeps,
  input: { model: string; requestId: string; report: { outcome: 'registered'; version: number } | { outcome: 'failed'; error: string } },
  pipeline: WaitingPipeline,
): Promise<RetrainingRecord> {
  const { model, requestId, report } = input;
  if (!(await deps.registry.getModel(model))) throw errors.modelNotFound(model);
  const record = await deps.runs.retraining.get(model, requestId);
  if (!record) throw errors.notFound(`there is no retraining request '${requestId}' of model '${model}'`, { requestId });
  if (report.outcome === 'registered') {
    const version = (await deps.registry.getVersion(model, report.version))?.value;
    if (!version) throw errors.versionNotFound(model, report.version);
    // What this request trained was registered after it was made (the champion it was raised on never is).
    if (Date.parse(version.createdAt) < Date.parse(record.value.requestedAt)) {
      throw errors.validation(
        `version ${report.version} was registered at ${version.createdAt}, before retraining request '${requestId}' was made (${record.value.requestedAt}): it is not what the request trained`,
        { version: report.version, registeredAt: version.createdAt, requestedAt: record.value.requestedAt },
      );
    }
  }
  if (!(await pipeline.running())) {
    // Most often a report sent again after the orchestration took the first: say what it took.
    const r = record.value;
    const trainer = r.trainer ? `, trainer ${r.trainer}` : '';
    const taken = r.resultVersion !== undefined ? `: version ${r.resultVersion} was registered for it` : r.state === 'failed' && r.error ? `: ${r.error}` : '';
    throw errors.illegalTransition(`retraining request '${requestId}' is not waiting for a report (it is ${r.state}${trainer})${taken}`, {
      requestId,
      state: r.state,
      ...(r.resultVersion !== undefined ? { resultVersion: r.resultVersion } : {}),
    });
  }
  const taken = await takePipelineReport(deps, model, requestId, report);
  await pipeline.deliver();
  return taken;
}
