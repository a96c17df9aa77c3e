import { errors, formatIssues, isDomainError } from '../domain/errors';
import { parseRetrainingRequestId } from '../domain/retraining';
import { isWindowId } from '../domain/windows';
import type { TrainingWebhook } from '../ports/training-webhook';
import { type RetrainingRequest, retrainingRequestId, retrainingRequestSchema } from '../schemas/messages';
import type { ModelDefinition } from '../schemas/model';
import type { RetrainingRecord } from '../schemas/monitoring';
import type { RetrainingInput, RetrainingSubmitted, TrainingJob } from '../schemas/retraining';
import { type BuiltinTrainerDeps, championSpec, trainBuiltin, usableTrainingRows } from './builtin-trainer';
import {
  type DecisionDeps,
  ensureRetrainingRecord,
  recordLifecycleNotStarted,
  recordTrainingError,
  recordTrainingResult,
  startTraining,
  updateRetrainingRecord,
} from './retraining-records';
import { type TrainingDataDeps, type TrainingDataLimits, trainingSnapshot } from './training-data';

/**
 * A retraining request from the `retraining-requests` queue, handed to the model's trainer
 * (`policies.retraining.trainer`): `builtin` trains and registers here; `webhook` (and `azureml`,
 * an Azure ML job behind the same kind of URL) starts the `webhookRetraining` orchestration, which posts
 * the job and waits for the pipeline to report. Progress is on the request's RetrainingRecord.
 *
 * A handling that fails is thrown, so the host abandons the message and Service Bus delivers it
 * again, up to the queue's MaxDeliveryCount, then dead-letters it. Expected failures (a
 * DomainError: unknown model, no data, a malformed message) fail the record at once with the
 * reason; an outage is noted and only fails the record on the last delivery.
 */
export interface RetrainingDeps extends DecisionDeps, BuiltinTrainerDeps, TrainingDataDeps {
  limits: TrainingDataLimits;
  /** RETRAINING_WEBHOOK_URL: needed by models whose trainer is `webhook` or `azureml`. */
  webhookUrl: string | undefined;
  /** The queue's MaxDeliveryCount: the delivery after which the message is dead-lettered. */
  maxDeliveryCount: number;
}

/** What the trigger starts with the durable client. */
export interface RetrainingStarters {
  /** The version's modelLifecycle, unless it exists. */
  startLifecycle(model: string, version: number, requestId: string): Promise<void>;
  /** The `webhookRetraining` orchestration of a webhook trainer, unless it exists. */
  startWebhookRetraining(input: RetrainingInput): Promise<void>;
  /** Whether the request's `webhookRetraining` instance exists and has ended (completed, failed or terminated). */
  webhookRetrainingEnded(requestId: string): Promise<boolean>;
}

/** One delivery of a queue message. */
export interface RetrainingDelivery {
  body: unknown;
  messageId?: string | undefined;
  /** 1 on the first delivery (as the Functions host counts). */
  deliveryCount: number;
}

export interface RetrainingOutcome {
  requestId: string;
  state: RetrainingRecord['state'];
  resultVersion?: number;
  /** What this delivery did, for the log. */
  note: string;
}

/** A message body as the host hands it over: JSON already parsed, or its text or bytes. */
function bodyOf(body: unknown): unknown {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : undefined;
  if (text === undefined) return body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * How far ahead of this instance's clock a request's `requestedAt` may be (the monitor stamps it
 * with its own clock): further is a malformed request.
 */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const describe = (error: unknown) => (isDomainError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error));

/**
 * What makes a request's window no monitoring window, in words (undefined: nothing): an id
 * that names no window start, or a window that does not end after it starts (its trainer and
 * the webhook's pipeline would be handed a span of no time, or one running backwards).
 */
function windowRefProblem(window: RetrainingRequest['window']): string | undefined {
  if (!isWindowId(window.id)) return `window.id '${window.id}' is not a monitoring window id (YYYYMMDDTHHmmZ)`;
  if (Date.parse(window.end) <= Date.parse(window.start)) return `window.start ${window.start} is not before window.end ${window.end}: a window ends after it starts`;
  return undefined;
}

/**
 * The request in a message, or VALIDATION_ERROR naming what is wrong with it. A body that is no
 * request fails the record its message id names, if any; a body naming another request than its
 * id leaves that record alone (the message may not be about it at all).
 */
async function parseDelivery(deps: RetrainingDeps, delivery: RetrainingDelivery): Promise<RetrainingRequest> {
  const parsed = retrainingRequestSchema.safeParse(bodyOf(delivery.body));
  const windowProblem = parsed.success ? windowRefProblem(parsed.data.window) : undefined;
  const ref = parseRetrainingRequestId(delivery.messageId);
  const malformed = (reason: string) => errors.validation(`malformed retraining request${delivery.messageId ? ` '${delivery.messageId}'` : ''}: ${reason}`);
  if (parsed.success && windowProblem === undefined) {
    // Duplicate detection keys on the id: an id naming another request would let two of a window through.
    const named = retrainingRequestId(parsed.data.model, parsed.data.window.id);
    if (ref && delivery.messageId !== named) throw malformed(`its message id names another request than its body does ('${named}')`);
    if (Date.parse(parsed.data.requestedAt) <= deps.clock.now().getTime() + MAX_CLOCK_SKEW_MS) return parsed.data;
  }
  const error = malformed(
    !parsed.success
      ? formatIssues(parsed.error)
      : (windowProblem ??
        `requestedAt ${parsed.data.requestedAt} is in the future (it is ${deps.clock.now().toISOString()}): its record would hold off every later request of the model for the retraining cooldown after that time`),
  );
  if (ref) {
    await recordTrainingError(deps, ref.model, retrainingRequestId(ref.model, ref.windowId), describe(error), true).catch((e: unknown) => {
      if (!(isDomainError(e) && e.code === 'NOT_FOUND')) throw e;
    });
  }
  throw error;
}

/** Handles one delivery of a retraining request; throws (after recording why) when it fails. */
export async function handleRetrainingMessage(deps: RetrainingDeps, starters: RetrainingStarters, delivery: RetrainingDelivery): Promise<RetrainingOutcome> {
  const request = await parseDelivery(deps, delivery);
  const model = await deps.registry.getModel(request.model);
  if (!model) throw errors.modelNotFound(request.model);
  const record = await ensureRetrainingRecord(deps, request);
  try {
    // The request was raised on the champion its record names: a copy naming another version would
    // train that version's spec and register it as the parent, while the request says otherwise.
    if (record.version !== request.version) {
      throw errors.validation(
        `malformed retraining request '${record.requestId}': it names version ${request.version}, the request was raised on version ${record.version} (its record) and keeps it`,
        { recordVersion: record.version, messageVersion: request.version },
      );
    }
    return await retrain(deps, starters, request, record, model.definition);
  } catch (error) {
    const permanent = isDomainError(error) && error.code !== 'CONCURRENCY_CONFLICT';
    const last = delivery.deliveryCount >= deps.maxDeliveryCount;
    const deadLetter = last ? ` (delivery ${delivery.deliveryCount} of ${deps.maxDeliveryCount}: the message goes to the dead-letter queue)` : '';
    const note = permanent || last ? `${describe(error)}${deadLetter}` : `delivery ${delivery.deliveryCount} failed, to be retried: ${describe(error)}`;
    const after = await recordTrainingError(deps, record.modelName, record.requestId, note, permanent || last);
    // Only an outage can be what kept a registered version's lifecycle from starting; a refused
    // message (a copy naming another version) leaves the registered request as it is.
    if (last && !permanent) await recordLifecycleNotStarted(deps, after.modelName, after.requestId, note);
    throw error;
  }
}

async function retrain(
  deps: RetrainingDeps,
  starters: RetrainingStarters,
  request: RetrainingRequest,
  record: RetrainingRecord,
  definition: ModelDefinition,
): Promise<RetrainingOutcome> {
  const { requestId, modelName } = record;
  if (record.state === 'closed') return { requestId, state: record.state, note: `already closed (${record.outcome ?? 'no outcome'})` };
  if (record.state === 'registered' && record.resultVersion !== undefined) {
    // A redelivery after the version was registered: make sure its lifecycle runs.
    await starters.startLifecycle(modelName, record.resultVersion, requestId);
    const after = await recordTrainingResult(deps, modelName, requestId, record.resultVersion);
    return { requestId, state: after.state, resultVersion: record.resultVersion, note: 'already registered' };
  }
  const policy = definition.policies.retraining;
  if (!policy.enabled) throw errors.validation(`retraining is disabled for model '${modelName}' (policies.retraining.enabled)`);
  const parent = (await deps.registry.getVersion(modelName, request.version))?.value;
  if (!parent) throw errors.versionNotFound(modelName, request.version);

  if (policy.trainer !== 'builtin') {
    if (!deps.webhookUrl) throw errors.validation(`model '${modelName}' retrains with the '${policy.trainer}' trainer, which needs RETRAINING_WEBHOOK_URL`);
    // One instance per request id, and an ended one is never started again: a message delivered
    // again after it ended must not put the request back to `training`, where it would stay open
    // (holding off every later request of the model) with nothing left to end it.
    if (await starters.webhookRetrainingEnded(requestId)) {
      const ended =
        record.state === 'failed' ? record : await recordTrainingError(deps, modelName, requestId, `its ${policy.trainer} retraining ended without recording an outcome`, true);
      return { requestId, state: ended.state, note: `its ${policy.trainer} retraining already ended (${ended.state}${ended.error ? `: ${ended.error}` : ''})` };
    }
    await startTraining(deps, record, policy.trainer);
    await starters.startWebhookRetraining({ requestId, model: modelName, request });
    return { requestId, state: 'training', note: `submitted to the ${policy.trainer} trainer` };
  }

  await startTraining(deps, record, 'builtin');
  const spec = await championSpec(deps.lake, parent);
  const windows = definition.policies.retraining.windows ?? deps.limits.windows;
  const snapshot = await trainingSnapshot(deps, {
    definition,
    parent,
    windowId: request.window.id,
    limits: { ...deps.limits, windows },
    usableRows: (columns, rows) => usableTrainingRows(definition, spec, columns, rows),
  });
  await updateRetrainingRecord(deps, modelName, requestId, (r) => ({
    ...r,
    training: {
      source: snapshot.source,
      from: snapshot.from,
      trainRows: snapshot.trainRows,
      validationRows: snapshot.validationRows,
      skipped: snapshot.skipped,
      datasets: [snapshot.trainPath, snapshot.validationPath],
    },
  }));
  const { version, refused } = await trainBuiltin(deps, { definition, parent, requestId, request, snapshot, spec });
  await updateRetrainingRecord(deps, modelName, requestId, (r) => (r.training ? { ...r, training: { ...r.training, refused } } : undefined));
  // Recorded before the lifecycle starts, so the lifecycle's end finds the request to close.
  const after = await recordTrainingResult(deps, modelName, requestId, version.version);
  await starters.startLifecycle(modelName, version.version, requestId);
  return { requestId, state: after.state, resultVersion: version.version, note: `registered v${version.version}` };
}

/** The job a webhook trainer receives: the request, where to report, the lineage to register with. */
export function trainingJobOf(input: RetrainingInput): TrainingJob {
  return {
    requestId: input.requestId,
    request: input.request,
    complete: { method: 'POST', path: `/api/models/${input.model}/retraining/${input.requestId}/complete` },
    lineage: { parentVersion: input.request.version, trainingRun: input.requestId },
  };
}

/** Posts the job to the webhook trainer; answers how long to wait for its report. */
export async function submitTrainingJob(
  deps: { webhook: TrainingWebhook; webhookUrl: string | undefined; timeout: string },
  input: RetrainingInput,
): Promise<RetrainingSubmitted> {
  if (!deps.webhookUrl) throw errors.validation('RETRAINING_WEBHOOK_URL is not set: there is no webhook trainer to post the job to');
  await deps.webhook.submit(deps.webhookUrl, trainingJobOf(input));
  return { timeout: deps.timeout };
}
