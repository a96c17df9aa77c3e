import type { OrchestrationContext } from 'durable-functions';
import * as df from 'durable-functions';
import { z } from 'zod';

import { registry, revalidation } from '../../shared/composition';
import { config } from '../../shared/config';
import { parseOrThrow } from '../../shared/domain/errors';
import { type ValidationOutcome, validationOutcomeSchema } from '../../shared/schemas/evidence';
import { revalidationInputSchema } from '../../shared/schemas/lifecycle-orchestration';
import { lateMatchSideSchema } from '../../shared/schemas/monitoring';
import {
  revalidationFor,
  revalidationReason,
  writeRevalidationData,
} from '../../shared/usecases/revalidation';
import { callActivity, carriedTrace, defineActivity } from '../activity';
import { validate } from './activities';
import { LIFECYCLE_ACTIVITIES, REVALIDATE_CHAMPION } from './names';

/** The system actor revalidations are recorded under. */
const REVALIDATION_ACTOR = { id: 'system:revalidateChampion', kind: 'system' as const, roles: [] };

export const findRevalidation = defineActivity(
  LIFECYCLE_ACTIVITIES.revalidationFor,
  z.object({ model: z.string().min(1), actualsId: z.string().min(1), runId: z.string().min(1).optional(), side: lateMatchSideSchema.optional() }),
  (input) => revalidationFor(revalidation(), input),
);

const revalidationData = defineActivity(
  LIFECYCLE_ACTIVITIES.revalidationData,
  revalidationInputSchema,
  (input) => writeRevalidationData(revalidation(), input, config().RETRAINING_MAX_ROWS),
);

const recordRevalidation = defineActivity(
  LIFECYCLE_ACTIVITIES.recordRevalidation,
  revalidationInputSchema.extend({ outcome: validationOutcomeSchema, at: z.iso.datetime({ offset: true }) }),
  async ({ outcome, at, ...input }) => {
    await registry().recordRevalidation(
      input.model,
      input.version,
      {
        evidenceHash: outcome.evidenceHash,
        decision: outcome.decision,
        reason: revalidationReason(input),
        at,
      },
      REVALIDATION_ACTOR,
    );
    return { recorded: true };
  },
);

const call = callActivity;

/**
 * The champion validated again on its validation data plus the newly labelled rows of a segment
 * value it never saw: new evidence (per segment, the new one included) and a rewritten reference
 * profile, a ledger entry and a `version.revalidated` event. The version's state does not change.
 */
function* revalidateChampion(context: OrchestrationContext): Generator<df.Task, ValidationOutcome, unknown> {
  const input = parseOrThrow(revalidationInputSchema, context.df.getInput(), 'revalidation input');
  const at = context.df.currentUtcDateTime.toISOString();
  const dataset = yield* call<string>(revalidationData, input);
  // Activity inputs carry the input's traceparent (revalidationData's and recordRevalidation's whole input does).
  const outcome = yield* call<ValidationOutcome>(validate, {
    model: input.model,
    version: input.version,
    validatedAt: at,
    dataset,
    ...carriedTrace(input),
  });
  yield* call(recordRevalidation, { ...input, outcome, at });
  if (!context.df.isReplaying)
    context.log(
      `[${context.df.instanceId}] ${input.model} v${input.version} revalidated: ${outcome.decision} (${revalidationReason(input)})`,
    );
  return outcome;
}

df.app.orchestration(REVALIDATE_CHAMPION, revalidateChampion);
