import type { InvocationContext } from '@azure/functions';

import { actualsJoin } from '../../shared/composition';
import {
  actualsBucketInputSchema,
  actualsCompleteInputSchema,
  actualsFailInputSchema,
  actualsPlanInputSchema,
  actualsWindowInputSchema,
  lateMatchStepInputSchema,
  lateRecordsInputSchema,
  lateRunsInputSchema,
  lateWindowInputSchema,
  type WindowUpdate,
} from '../../shared/schemas/actuals';
import { joinActualsBucket } from '../../shared/usecases/actuals/join-bucket';
import { lateMatchActuals, lateRecordsForRun, lateRunsForJoin, recordedLateWindows, refreshLateWindow } from '../../shared/usecases/actuals/late-match';
import { planActualsJoin } from '../../shared/usecases/actuals/plan';
import { completeActualsJoin, failActualsJoin } from '../../shared/usecases/actuals/record';
import { updateLabelledWindow } from '../../shared/usecases/actuals/window';
import { defineActivity } from '../activity';
import { ACTUALS_ACTIVITIES } from './names';

export const plan = defineActivity(ACTUALS_ACTIVITIES.plan, actualsPlanInputSchema, (input) => planActualsJoin(actualsJoin(), input));

export const joinBucket = defineActivity(ACTUALS_ACTIVITIES.joinBucket, actualsBucketInputSchema, (input) => joinActualsBucket(actualsJoin(), input));

/**
 * A window refreshed without the late files of actuals records that do not read: a warning per
 * record, naming it and why, so someone repairs or removes it (its late rows count again then).
 */
export function warnUncounted(context: InvocationContext, model: string, update: WindowUpdate): WindowUpdate {
  for (const { actualsId, reason, files } of update.uncountedRecords ?? []) {
    context.warn(`window ${update.windowId} of '${model}': ${files} late labelled file(s) of actuals record '${actualsId}' not counted: the record cannot be read (${reason})`);
  }
  return update;
}

export const updateWindow = defineActivity(ACTUALS_ACTIVITIES.updateWindow, actualsWindowInputSchema, async (input, context) =>
  warnUncounted(context, input.model, await updateLabelledWindow(actualsJoin(), input)),
);

export const complete = defineActivity(ACTUALS_ACTIVITIES.complete, actualsCompleteInputSchema, async (input) => {
  const record = await completeActualsJoin(actualsJoin(), input);
  return { state: record.state };
});

export const fail = defineActivity(ACTUALS_ACTIVITIES.fail, actualsFailInputSchema, async (input) => {
  const record = await failActualsJoin(actualsJoin(), input);
  return { state: record.state };
});

export const lateRecords = defineActivity(ACTUALS_ACTIVITIES.lateRecords, lateRecordsInputSchema, (input) => lateRecordsForRun(actualsJoin(), input));

export const lateRuns = defineActivity(ACTUALS_ACTIVITIES.lateRuns, lateRunsInputSchema, (input) => lateRunsForJoin(actualsJoin(), input));

export const lateMatch = defineActivity(ACTUALS_ACTIVITIES.lateMatch, lateMatchStepInputSchema, (input) => lateMatchActuals(actualsJoin(), input));

export const lateWindow = defineActivity(ACTUALS_ACTIVITIES.lateWindow, lateWindowInputSchema, async (input, context) =>
  warnUncounted(context, input.model, await refreshLateWindow(actualsJoin(), input)),
);

export const lateMatchWindows = defineActivity(ACTUALS_ACTIVITIES.lateMatchWindows, lateMatchStepInputSchema, (input) => recordedLateWindows(actualsJoin(), input));
