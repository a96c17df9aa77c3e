import { retrainingRecords, webhookTrainer } from '../../shared/composition';
import { recordFailureInputSchema, recordResultInputSchema, retrainingInputSchema } from '../../shared/schemas/retraining';
import { submitTrainingJob } from '../../shared/usecases/retraining';
import { recordTrainingError, recordTrainingResult } from '../../shared/usecases/retraining-records';
import { defineActivity } from '../activity';
import { RETRAINING_ACTIVITIES } from './names';

export const submit = defineActivity(RETRAINING_ACTIVITIES.submit, retrainingInputSchema, (input) => submitTrainingJob(webhookTrainer(), input));

export const recordResult = defineActivity(RETRAINING_ACTIVITIES.recordResult, recordResultInputSchema, async ({ model, requestId, version }) => {
  const record = await recordTrainingResult(retrainingRecords(), model, requestId, version);
  return { state: record.state };
});

export const recordFailure = defineActivity(RETRAINING_ACTIVITIES.recordFailure, recordFailureInputSchema, async ({ model, requestId, error }) => {
  const record = await recordTrainingError(retrainingRecords(), model, requestId, error, true);
  return { state: record.state };
});
