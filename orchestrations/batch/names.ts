/** Names recorded in durable history: a persisted contract. Never rename one that has shipped. */
export const BATCH_INFERENCE = 'batchInference';

export const BATCH_ACTIVITIES = {
  start: 'batchStartRun',
  plan: 'batchPlanRun',
  scoreChunk: 'batchScoreChunk',
  complete: 'batchCompleteRun',
  fail: 'batchFailRun',
} as const;

/** Raised on a run waiting for a champion when the model's champion changes. */
export const CHAMPION_CHANGED_EVENT = 'championChanged';

/** One instance per run (a run id is derived from its files and ETags): a repeated blob event is a no-op. */
export const batchInstanceId = (model: string, runId: string): string => `batch:${model}:${runId}`;
