import { z } from 'zod';

import { batch, events } from '../../shared/composition';
import { modelNameSchema, versionNumberSchema } from '../../shared/schemas/common';
import { batchInputSchema, type InferenceRun } from '../../shared/schemas/monitoring';
import { chunkSummarySchema } from '../../shared/schemas/scoring';
import { completeRun, failRun, hasNewSegments, planRun, scoreRunChunk, startRun } from '../../shared/usecases/batch-inference';
import { flavourEventOf, runFailedEventOf } from '../../shared/usecases/run-events';
import { defineActivity } from '../activity';
import { BATCH_ACTIVITIES } from './names';

const runRefSchema = z.object({ model: modelNameSchema, runId: z.string().min(1) });
const plannedChunkSchema = z.object({ source: z.string().min(1), part: z.number().int().nonnegative(), chunk: z.unknown() });
const scoredChunkSchema = chunkSummarySchema.extend({
  // `predictions` is optional: a chunk scored before it was reported counted its rows as predictions.
  windows: z.array(z.object({ id: z.string(), rows: z.number().int().nonnegative(), predictions: z.number().int().nonnegative().optional() })),
});

export const startBatchRun = defineActivity(
  BATCH_ACTIVITIES.start,
  batchInputSchema.pick({ model: true, runId: true, kind: true, sources: true, scheduledFor: true }).extend({ instanceId: z.string().min(1) }),
  (input) => startRun(batch(), input),
);

export const planBatchRun = defineActivity(BATCH_ACTIVITIES.plan, runRefSchema, async (input) => {
  const planned = await planRun(batch(), input);
  if ('failed' in planned) await publishFailure(input.model, input.runId, planned.failed);
  return planned;
});

export const scoreBatchChunk = defineActivity(
  BATCH_ACTIVITIES.scoreChunk,
  runRefSchema.extend({ version: versionNumberSchema, planned: plannedChunkSchema, arrival: z.iso.datetime({ offset: true }) }),
  (input) => scoreRunChunk(batch(), { ...input, planned: { ...input.planned, chunk: input.planned.chunk as never } }),
);

export const completeBatchRun = defineActivity(
  BATCH_ACTIVITIES.complete,
  runRefSchema.extend({ version: versionNumberSchema, chunks: z.array(scoredChunkSchema) }),
  async (input) => {
    const run = await completeRun(batch(), input);
    await publishCompletion(run);
    return summaryOf(run);
  },
);

export const failBatchRun = defineActivity(BATCH_ACTIVITIES.fail, runRefSchema.extend({ error: z.string() }), async (input) => {
  const run = await failRun(batch(), input);
  await publishFailure(input.model, input.runId, input.error);
  return summaryOf(run);
});

/** What the orchestration returns and shows: the run without its long lists. */
export function summaryOf(run: InferenceRun) {
  const { runId, state, version, rowsRead, rowsScored, rowsQuarantined, windows, error } = run;
  return { runId, state, version, rowsRead, rowsScored, rowsQuarantined, windows, ...(error ? { error } : {}) };
}

async function publishCompletion(run: InferenceRun): Promise<void> {
  const base = { model: run.modelName, ...(run.version !== null ? { version: run.version } : {}), occurredAt: run.completedAt ?? run.createdAt };
  await events().publish({
    ...base,
    eventId: `run:${run.runId}:completed`,
    type: 'run.completed',
    data: { runId: run.runId, kind: run.kind === 'scheduled' ? 'scheduled-inference' : 'batch-inference', rows: run.rowsScored, quarantinedRows: run.rowsQuarantined },
  });
  if (run.flavours && hasNewSegments(run.flavours)) await events().publish(flavourEventOf({ ...run, flavours: run.flavours }));
}

async function publishFailure(model: string, runId: string, error: string): Promise<void> {
  await events().publish(runFailedEventOf({ model, runId, error, at: new Date().toISOString() }));
}
