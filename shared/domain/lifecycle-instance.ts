/**
 * The instance id of a version's `modelLifecycle` orchestration: one instance per version, so
 * starting it twice is a no-op. Recorded in durable history and derived again by reconciliation
 * to ask for the instance of a version still `validating`: never change it.
 */
export const lifecycleInstanceId = (model: string, version: number): string => `lifecycle:${model}:${version}`;
