import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';

import { BATCH_INFERENCE, batchInstanceId } from '../../orchestrations/batch/names';
import { batch, registry } from '../../shared/composition';
import { config } from '../../shared/config';
import { isDomainError } from '../../shared/domain/errors';
import { dueScheduledRun } from '../../shared/usecases/batch-inference';
import { startOnce } from '../durable-client';

/**
 * Scheduled inference: on each tick (SCHEDULED_INFERENCE_CHECK, every minute by default), each model with a `schedule` (NCRONTAB) whose latest
 * occurrence has no run yet gets one over the drops that accumulated in
 * `drops/{model}/scheduled/` since its previous occurrence. The run id names the occurrence, so a
 * repeated tick starts nothing new. Each model is checked on its own: a schedule that cannot be
 * read is logged as a warning on every tick; an outage on one model is reported, after the other
 * models were checked, by failing the invocation.
 */
app.timer('scheduleInference', {
  schedule: '%SCHEDULED_INFERENCE_CHECK%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const client = df.getClient(context);
    const now = new Date();
    const failures: string[] = [];
    const listing = await registry().listModels();
    for (const { modelName, reason } of listing.unreadable) failures.push(`${modelName}: ${reason}`);
    for (const model of listing.models) {
      if (!model.definition.schedule) continue;
      try {
        const due = await dueScheduledRun(batch(), model.definition, now);
        if (!due) continue;
        const started = await startOnce(client, BATCH_INFERENCE, batchInstanceId(due.model, due.runId), { ...due, maxParallel: config().BATCH_MAX_PARALLEL_CHUNKS });
        if (started) context.log(`scheduleInference: ${due.model} run ${due.runId} over ${due.sources.length} file(s)`);
      } catch (error) {
        if (isDomainError(error)) context.warn(`scheduleInference: ${error.message}`);
        else failures.push(`${model.modelName}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`scheduleInference: ${failures.join('; ')}`);
  },
});
