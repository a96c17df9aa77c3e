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
import type { ActualsRecord } from '../../shared/schemas/monitoring';
import { joinActualsBucket } from '../../shared/usecases/actuals/join-bucket';
import { lateMatchActuals, lateRecordsForRun, lateRunsForJoin, recordedLateWindows, refreshLateWindow } from '../../shared/usecases/actuals/late-match';
import { planActualsJoin } from '../../shared/usecases/actuals/plan';
import { completeActualsJoin, type EndedJoin, failActualsJoin } from '../../shared/usecases/actuals/record';
import { uncountedWarnings, updateLabelledWindow } from '../../shared/usecases/actuals/window';
import { defineActivity } from '../activity';
import { ACTUALS_ACTIVITIES } from './names';

export const plan = defineActivity(ACTUALS_ACTIVITIES.plan, actualsPlanInputSchema, (input) => planActualsJoin(actualsJoin(), input));

export const joinBucket = defineActivity(ACTUALS_ACTIVITIES.joinBucket, actualsBucketInputSchema, (input) => joinActualsBucket(actualsJoin(), input));

/**
 * A window refreshed without the late files of actuals records that do not read: a warning per
 * record, naming it and why, so someone repairs or removes it (its late rows count again then).
 */
export function warnUncounted(context: InvocationContext, model: string, update: WindowUpdate): WindowUpdate {
  for (const warning of uncountedWarnings(model, update)) context.warn(warning);
  return update;
}

/**
 * What `actualsComplete` and `actualsFail` answer: the record's state. The windows the join's
 * replacement of its path's older versions refreshed are warned about as a window activity's are.
 */
export function endedJoinState(context: InvocationContext, model: string, ended: EndedJoin): { state: ActualsRecord['state'] } {
  for (const update of ended.replacement.windows) warnUncounted(context, model, update);
  return { state: ended.record.state };
}

export const updateWindow = defineActivity(ACTUALS_ACTIVITIES.updateWindow, actualsWindowInputSchema, async (input, context) =>
  warnUncounted(context, input.model, await updateLabelledWindow(actualsJoin(), input)),
);

export const complete = defineActivity(ACTUALS_ACTIVITIES.complete, actualsCompleteInputSchema, async (input, context) =>
  endedJoinState(context, input.model, await completeActualsJoin(actualsJoin(), input)),
);

export const fail = defineActivity(ACTUALS_ACTIVITIES.fail, actualsFailInputSchema, async (input, context) =>
  endedJoinState(context, input.model, await failActualsJoin(actualsJoin(), input)),
);

export const lateRecords = defineActivity(ACTUALS_ACTIVITIES.lateRecords, lateRecordsInputSchema, (input) => lateRecordsForRun(actualsJoin(), input));

export const lateRuns = defineActivity(ACTUALS_ACTIVITIES.lateRuns, lateRunsInputSchema, (input) => lateRunsForJoin(actualsJoin(), input));

export const lateMatch = defineActivity(ACTUALS_ACTIVITIES.lateMatch, lateMatchStepInputSchema, (input) => lateMatchActuals(actualsJoin(), input));

export const lateWindow = defineActivity(ACTUALS_ACTIVITIES.lateWindow, lateWindowInputSchema, async (input, context) =>
  warnUncounted(context, input.model, await refreshLateWindow(actualsJoin(), input)),
);

export const lateMatchWindows = defineActivity(ACTUALS_ACTIVITIES.lateMatchWindows, lateMatchStepInputSchema, (input) => recordedLateWindows(actualsJoin(), input));
