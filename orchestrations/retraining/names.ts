/**
 * Names recorded in durable history: a persisted contract. Never rename one that has shipped;
 * add a new name instead.
 */
export const WEBHOOK_RETRAINING = 'webhookRetraining';

export const RETRAINING_ACTIVITIES = {
  submit: 'retrainingSubmit',
  recordResult: 'retrainingRecordResult',
  recordFailure: 'retrainingRecordFailure',
} as const;

/** One instance per request: its id is the request id (`retrain:{model}:{windowId}`). */
export const retrainingInstanceId = (requestId: string): string => requestId;
