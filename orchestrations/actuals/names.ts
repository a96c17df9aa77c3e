/**
 * Names recorded in durable history: a persisted contract. Never rename one that has shipped;
 * add a new name instead.
 */
export const ACTUALS_JOIN = 'actualsJoin';

export const ACTUALS_ACTIVITIES = {
  plan: 'actualsPlan',
  joinBucket: 'actualsJoinBucket',
  updateWindow: 'actualsUpdateWindow',
  complete: 'actualsComplete',
  fail: 'actualsFail',
  /** Late matching (a run completed after a join was planned): what to match, the match, its windows. */
  lateRecords: 'actualsLateRecords',
  lateRuns: 'actualsLateRuns',
  lateMatch: 'actualsLateMatch',
  lateWindow: 'actualsLateWindow',
  /** The windows a late match whose activity failed recorded, to refresh them after all. */
  lateMatchWindows: 'actualsLateMatchWindows',
} as const;

/** One join per actuals file version (its id comes from the blob's path and ETag): starting it again is a no-op. */
export const actualsJoinInstanceId = (model: string, actualsId: string): string => `actuals:${model}:${actualsId}`;
