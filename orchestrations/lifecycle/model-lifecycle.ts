import type { OrchestrationContext } from 'durable-functions';
import * as df from 'durable-functions';

import { parseOrThrow } from '../../shared/domain/errors';
import { addIsoDuration } from '../../shared/domain/policies/duration';
import type { ValidationOutcome } from '../../shared/schemas/evidence';
import type { LifecycleState } from '../../shared/schemas/lifecycle';
import {
  activityResultSchema,
  APPROVAL_EVENT,
  type LifecycleFacts,
  lifecycleInputSchema,
  type LifecycleOutput,
  type LifecycleStatus,
  type StateResult,
  stateResultSchema,
  type VersionRef,
} from '../../shared/schemas/lifecycle-orchestration';
import { callActivity, carriedTrace, failureReason, outageRetry } from '../activity';
import { jsonUnits, prefixWithin } from '../custom-status';
import { autoApprove, closeRetraining, expire, failValidation, promote, readVersion, recordValidation, startValidation, validate } from './activities';
import { MODEL_LIFECYCLE } from './names';

type Step = Generator<df.Task, unknown, unknown>;

// Calls an activity with the outage retries; its expected failure fails the lifecycle with that reason.
const run = callActivity;

/**
 * pending_approval: waits for a person's decision (the `approval` event, raised after the decision
 * is written) raced against the policy's timeout. The losing timer is cancelled. An event that
 * finds the version still pending (nothing was decided) goes back to waiting for the same deadline.
 * The deadline runs from the version's entry into pending_approval (`pendingSince`): when it was
 * pending as the lifecycle started (a restart must not extend it, and past it the version expires
 * at once), and when this lifecycle moved it there a moment ago (the approval watch counts from
 * that transition too). Only histories recorded before the step's result carried `pendingSince`
 * count from now, as they did, so they replay to the same timer.
 */
function* awaitDecision(context: OrchestrationContext, ref: VersionRef, facts: LifecycleFacts, evidenceHash: string | undefined, pendingSince: string | undefined): Generator<df.Task, LifecycleState, unknown> {
  const now = context.df.currentUtcDateTime;
  const deadline = addIsoDuration(pendingSince === undefined ? now : new Date(pendingSince), facts.approval.timeout);
  // Said on the version's history and the ledger, so a reader sees why nobody's decision counts.
  const expiry = { ...ref, reason: `no decision by ${deadline.toISOString()}: the approval timeout (policies.approval.timeout) is ${facts.approval.timeout}` };
  if (deadline.getTime() < now.getTime()) return (yield* run<StateResult>(expire, expiry)).state;
  for (;;) {
    setStatus(context, { step: 'pending_approval', state: 'pending_approval', ...(evidenceHash ? { evidenceHash } : {}), approvalDeadline: deadline.toISOString() });
    const decision = context.df.waitForExternalEvent(APPROVAL_EVENT);
    const timeout = context.df.createTimer(deadline);
    const winner = yield context.df.Task.any([decision, timeout]);
    if (winner === decision) {
      timeout.cancel();
      const now = yield* run<LifecycleFacts>(readVersion, ref);
      if (now.state !== 'pending_approval') return now.state;
      continue;
    }
    return (yield* run<StateResult>(expire, expiry)).state;
  }
}

/**
 * Validation failed for good (an outage past the retries, the runtime crashing on the artifact, a
 * bug) or its outcome could not be recorded: the version fails validation with the reason, so it
 * does not stay `validating` for good. Only this failure path schedules the step, so histories of
 * instances that validated replay unchanged. When even that cannot be recorded, the lifecycle
 * fails with the first error, as it did before (reconciliation fails the version later).
 */
function* validationNotCompleted(ref: VersionRef, evidenceHash: string | undefined, error: unknown): Generator<df.Task, NotCompleted, unknown> {
  // As long as a ledger reason may be: an error's message can be anything.
  const reason = `validation could not be completed: ${failureReason(error)}`.slice(0, 2000);
  let failed: StateResult;
  try {
    failed = yield* run<StateResult>(failValidation, { ...ref, reason, ...(evidenceHash ? { evidenceHash } : {}) });
  } catch {
    throw error;
  }
  // A person may have retired the version meanwhile: then the reason is not its outcome.
  return { state: failed.state, ...(failed.evidenceHash ? { evidenceHash: failed.evidenceHash } : {}), ...(failed.state === 'validation_failed' ? { reason } : {}) };
}

/** Where validationNotCompleted left the version, and the reason when it failed it. */
interface NotCompleted {
  state: LifecycleState;
  evidenceHash?: string;
  reason?: string;
}

function setStatus(context: OrchestrationContext, status: LifecycleStatus): void {
  context.df.setCustomStatus(status);
}

/**
 * How much of the custom status the reasons may take, in UTF-16 units of their JSON (quotes,
 * escapes and commas count). Durable Functions fails an orchestration whose custom status is more
 * than 16 KB of UTF-16 JSON (8192 units), and a failed validation has a reason per failed gate of
 * every split and segment: hundreds. The output and the evidence keep them all.
 */
const STATUS_REASON_UNITS = 4000;

function statusReasons(reasons: readonly string[]): string[] {
  const shown: string[] = [];
  let used = 0;
  for (const reason of reasons) {
    const room = STATUS_REASON_UNITS - used;
    if (jsonUnits(reason) > room) {
      if (shown.length === 0) shown.push(`${prefixWithin(reason, room - 4)}…`);
      break;
    }
    shown.push(reason);
    used += jsonUnits(reason);
  }
  const cut = reasons.length - shown.length;
  return cut > 0 ? [...shown, `… ${cut} more reason(s) in the lifecycle's output and the evidence`] : shown;
}

/**
 * A version's way from registration to production: validation (artifact, parity, the validation
 * suite against the champion, evidence) -> pending_approval -> a person's decision or the timeout
 * -> promotion when approved (unless the policy leaves promotion to an admin). Every transition is
 * made by an activity through the registry's state machine, so the ledger and events follow. A
 * restarted instance picks up from the version's current state.
 */
function* modelLifecycle(context: OrchestrationContext): Step {
  const input = parseOrThrow(lifecycleInputSchema, context.df.getInput(), 'lifecycle input');
  const versionRef: VersionRef = { model: input.model, version: input.version };
  // Every activity input carries the trace of what started the lifecycle (a registration, a retraining).
  const ref = { ...versionRef, ...carriedTrace(input) };
  const log = (message: string) => {
    if (!context.df.isReplaying) context.log(`[${context.df.instanceId}] ${input.model} v${input.version}: ${message}`);
  };
  setStatus(context, { step: 'starting' });
  const facts = yield* run<LifecycleFacts>(readVersion, ref);
  let state = facts.state;
  let evidenceHash = facts.evidenceHash;
  let reasons: string[] | undefined;
  let pendingSince = facts.state === 'pending_approval' ? facts.pendingSince : undefined;

  if (state === 'registered') state = (yield* run<StateResult>(startValidation, ref)).state;
  if (state === 'validating') {
    setStatus(context, { step: 'validating', state });
    log('validating');
    try {
      const outcome = yield* run<ValidationOutcome>(validate, { ...ref, validatedAt: context.df.currentUtcDateTime.toISOString() });
      evidenceHash = outcome.evidenceHash;
      if (outcome.reasons.length > 0) reasons = outcome.reasons;
      const recorded = yield* run<StateResult>(recordValidation, { ...ref, outcome });
      state = recorded.state;
      pendingSince = recorded.pendingSince;
      log(`validation ${outcome.decision}: ${state}`);
    } catch (error) {
      const failed = yield* validationNotCompleted(ref, evidenceHash, error);
      state = failed.state;
      evidenceHash = failed.evidenceHash ?? evidenceHash;
      if (failed.reason) reasons = [...(reasons ?? []), failed.reason];
      log(`validation could not be completed: ${state}`);
    }
  }
  if (state === 'pending_approval') {
    if (facts.approval.autoApprove && evidenceHash) state = (yield* run<StateResult>(autoApprove, { ...ref, evidenceHash })).state;
    // Still pending after an auto-approval only when the model was updated since this lifecycle read
    // its policy, to wait for a person: it waits as if it had read that (no history had this branch before).
    if (state === 'pending_approval') state = yield* awaitDecision(context, ref, facts, evidenceHash, pendingSince);
    log(`decided: ${state}`);
  }
  if (state === 'approved' && facts.approval.promoteOnApproval) {
    setStatus(context, { step: 'promoting', state });
    const promoted = stateResultSchema.parse(yield* run<StateResult>(promote, ref));
    state = promoted.state;
    // Another champion change won the race: the version stays approved, and the output says why.
    if (promoted.reason) reasons = [...(reasons ?? []), promoted.reason];
    log(`promoted: ${state}${promoted.reason ? ` (${promoted.reason})` : ''}`);
  }
  // Decided: the retraining request that produced this version (if one did) closes with the outcome.
  // Bookkeeping only: if it cannot be done, the lifecycle still ends with its outcome.
  try {
    const closing = activityResultSchema.parse(yield closeRetraining({ ...ref, outcome: state }).withRetry(outageRetry));
    if (!closing.ok) log(`retraining request not closed: ${closing.code}: ${closing.message}`);
  } catch (error) {
    log(`retraining request not closed: ${(error as Error).message}`);
  }
  setStatus(context, { step: 'done', state, ...(evidenceHash ? { evidenceHash } : {}), ...(reasons ? { reasons: statusReasons(reasons) } : {}) });
  const output: LifecycleOutput = { ...versionRef, outcome: state, ...(evidenceHash ? { evidenceHash } : {}), ...(reasons ? { reasons } : {}) };
  return output;
}

df.app.orchestration(MODEL_LIFECYCLE, modelLifecycle);
