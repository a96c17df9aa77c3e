import { z } from 'zod';

import { DEFAULT_CSV_LIMITS } from './domain/csv-limits';
import { formatIssues } from './domain/errors';
import { COSMOS_RESOURCES, LAKE_RESOURCES, SERVICEBUS_RESOURCES } from './domain/resources';
import { DEFAULT_SEGMENT_MAX_VALUES } from './domain/segment-cap';
import { isoDurationSchema } from './schemas/common';

/**
 * The one place that reads process.env. Every setting the app reads is declared here, validated
 * once, and documented with its local default in local.settings.sample.json.
 */
const nonEmpty = z.string().trim().min(1);
/** A whole number above 0, given as text in the environment. */
const positiveInteger = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const configSchema = z.object({
  /** Cosmos DB account endpoint (identity-based on Azure). */
  COSMOS_ENDPOINT: z.url().default('https://127.0.0.1:8081'),
  /** Account key: only for the local Cosmos server. On Azure leave unset to use managed identity. */
  COSMOS_KEY: nonEmpty.optional(),
  COSMOS_DATABASE: nonEmpty.default(COSMOS_RESOURCES.database),
  /** Accept the local server's self-signed certificate. Never true on Azure. */
  COSMOS_ALLOW_INSECURE_TLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Blob Storage: a connection string locally, or a service URI with managed identity on Azure. */
  STORAGE_CONNECTION_STRING: nonEmpty.optional(),
  STORAGE_BLOB_SERVICE_URI: z.url().optional(),
  DATA_CONTAINER: nonEmpty.default(LAKE_RESOURCES.dataContainer),
  /** Service Bus: a connection string locally, or the fully qualified namespace on Azure. */
  SERVICEBUS_CONNECTION_STRING: nonEmpty.optional(),
  SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: nonEmpty.optional(),
  RETRAINING_QUEUE: nonEmpty.default(SERVICEBUS_RESOURCES.queues[0].name),
  EVENTS_TOPIC: nonEmpty.default(SERVICEBUS_RESOURCES.topics[0].name),
  /** Client id of a user-assigned managed identity, when the app uses one. */
  AZURE_CLIENT_ID: nonEmpty.optional(),
  /** Bytes of a CSV chunk (a range ending at a record end) and rows of a Parquet chunk (whole row groups). */
  BATCH_TARGET_CHUNK_BYTES: z.coerce.number().int().min(1024).default(32 * 1024 * 1024),
  BATCH_TARGET_CHUNK_ROWS: z.coerce.number().int().min(1).default(250_000),
  /** Chunks of one data drop scored at once (the fan-out's width). */
  BATCH_MAX_PARALLEL_CHUNKS: z.coerce.number().int().min(1).max(256).default(8),
  /** NCRONTAB of the timer that starts models' scheduled runs (it checks each model's own `schedule`). */
  SCHEDULED_INFERENCE_CHECK: nonEmpty.default('0 * * * * *'),
  /** Rows one synchronous scoring request (`POST /models/{model}/score`) may carry. */
  SCORE_MAX_ROWS: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** A webhook trainer's job URL (an Azure ML or Databricks job trigger); models whose policy names `webhook` or `azureml` need it. */
  RETRAINING_WEBHOOK_URL: z.url().optional(),
  /** How long a webhook retraining waits for `POST .../retraining/{requestId}/complete`. */
  RETRAINING_WEBHOOK_TIMEOUT: isoDurationSchema.default('P1D'),
  /**
   * How long a retraining request may stay `queued` with nothing touching it before the drift
   * monitor fails it as presumed lost (its message lost), so that it stops holding off the model's
   * later requests; also its message's time to live, after which the queue dead-letters it.
   */
  RETRAINING_QUEUED_TIMEOUT: isoDurationSchema.default('P1D'),
  /** The retraining queue's MaxDeliveryCount: on that delivery a failing request is recorded as dead-lettered. */
  RETRAINING_MAX_DELIVERY_COUNT: z.coerce.number().int().min(1).max(2000).default(SERVICEBUS_RESOURCES.queues[0].maxDeliveryCount),
  /** Built-in trainer: labelled windows read (the request's and those before it, newest first). */
  RETRAINING_WINDOWS: z.coerce.number().int().min(1).max(366).default(7),
  /** Built-in trainer: labelled rows read at most (the newest). */
  RETRAINING_MAX_ROWS: z.coerce.number().int().min(10).max(10_000_000).default(200_000),
  /** Built-in trainer: with fewer labelled rows than this it trains on a training set instead. */
  RETRAINING_MIN_ROWS: z.coerce.number().int().min(2).default(50),
  /** Built-in trainer: the training set when the champion names none, a lake path with `{model}`, e.g. `datasets/{model}/training.csv`. */
  RETRAINING_TRAINING_DATASET: nonEmpty.regex(/\{model\}/, 'a lake path with {model} in it').optional(),
  /** Largest ONNX artifact a registration accepts, in bytes (HTTP uploads are also bound by the host's request limit). */
  MAX_ARTIFACT_BYTES: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  /**
   * When the drift monitor runs: six-field NCRONTAB, UTC. The timer reads it as
   * `%DRIFT_MONITOR_SCHEDULE%`, so the host needs it set (local settings, infra); hourly by default.
   */
  DRIFT_MONITOR_SCHEDULE: z
    .string()
    .trim()
    .regex(/^\S+( \S+){5}$/, 'a six-field NCRONTAB expression (second minute hour day month day-of-week)')
    .default('0 0 * * * *'),
  /**
   * When the approval watch records pending approvals and their time left (the metrics the
   * approval alert reads): six-field NCRONTAB, UTC, bound by the timer as `%APPROVAL_WATCH_SCHEDULE%`.
   */
  APPROVAL_WATCH_SCHEDULE: z
    .string()
    .trim()
    .regex(/^\S+( \S+){5}$/, 'a six-field NCRONTAB expression (second minute hour day month day-of-week)')
    .default('0 */15 * * * *'),
  /**
   * When reconciliation fails the runs and actuals joins whose orchestration instance ended (or is
   * gone) without recording the outcome: six-field NCRONTAB, UTC, bound by the timer as
   * `%RECONCILE_SCHEDULE%`; hourly at half past by default (the drift monitor runs on the hour).
   */
  RECONCILE_SCHEDULE: z
    .string()
    .trim()
    .regex(/^\S+( \S+){5}$/, 'a six-field NCRONTAB expression (second minute hour day month day-of-week)')
    .default('0 30 * * * *'),
  /** Monitoring windows the drift monitor evaluates per model and run (oldest first; the rest wait for the next run). */
  DRIFT_MONITOR_MAX_WINDOWS: z.coerce.number().int().positive().max(1000).default(48),
  /**
   * Bounds on one CSV record of a data drop (shared/domain/csv-limits.ts): bytes per
   * record, bytes per field, fields per record. A record past them is quarantined with the reason.
   */
  CSV_MAX_RECORD_BYTES: positiveInteger.default(DEFAULT_CSV_LIMITS.maxRecordBytes),
  CSV_MAX_FIELD_BYTES: positiveInteger.default(DEFAULT_CSV_LIMITS.maxFieldBytes),
  CSV_MAX_FIELDS: positiveInteger.default(DEFAULT_CSV_LIMITS.maxFields),
  /**
   * Rows a validation dataset may hold: validation keeps every evaluated row in memory and
   * bootstraps over them, so a larger one fails validation saying so instead of exhausting the worker.
   */
  VALIDATION_MAX_ROWS: z.coerce.number().int().positive().max(50_000_000).default(2_000_000),
  /**
   * Values a segment key keeps by name (shared/domain/segment-cap.ts, where the default is
   * argued): past it, validation fails the dataset check, and profiles, realised metrics and
   * flavours count the rarer values together as `key=__other__`.
   */
  SEGMENT_MAX_VALUES: z.coerce.number().int().positive().max(10_000).default(DEFAULT_SEGMENT_MAX_VALUES),
  /**
   * Actuals join: how far back completed inference runs are searched for an id (ISO 8601 duration);
   * also how long a joined file's unmatched actuals wait for late matches.
   */
  ACTUALS_LOOKBACK: isoDurationSchema.default('P90D'),
  /** Actuals join: about how many ids one join activity holds; a larger file is split in hash ranges of ids. */
  ACTUALS_BUCKET_ROWS: z.coerce.number().int().positive().default(2_000_000),
  /** Actuals join: join and window activities run at once. */
  ACTUALS_PARALLELISM: z.coerce.number().int().positive().max(64).default(4),
  /** Actuals join: labelled rows one metrics computation holds; above it, a deterministic sample of the ids. */
  ACTUALS_METRICS_MAX_ROWS: z.coerce.number().int().positive().default(1_000_000),
  /** Actuals join: bootstrap resamples behind the confidence intervals of realised metrics (0: only analytic ones, as Wilson for accuracy; each resample is one more pass over the rows). */
  ACTUALS_BOOTSTRAP_RESAMPLES: z.coerce.number().int().min(0).max(10_000).default(0),
  /**
   * Where the app's OpenTelemetry spans go: `azure-monitor` (Application Insights, the setting on
   * Azure), `console` (stdout, to look at locally) or `none` (no provider is installed: spans go to
   * whatever the process registered, nothing by default).
   */
  TELEMETRY_EXPORTER: z.enum(['azure-monitor', 'console', 'none']).default('none'),
  /**
   * With `azure-monitor`: the share of traces kept, 0 to 1 (1, the default: every trace), decided
   * per trace id so a trace is kept or dropped whole. Metrics are not sampled.
   */
  TELEMETRY_SAMPLING_RATIO: z
    .string()
    .trim()
    .regex(/^(0|1)(\.\d+)?$/, 'a number from 0 to 1')
    .transform(Number)
    .refine((n) => n <= 1, 'a number from 0 to 1')
    .default(1),
  /** Application Insights (set by the platform on Azure); the azure-monitor exporter needs it. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: nonEmpty.optional(),
  /** `Authorization=AAD` (with `ClientId=...`): the exporter authenticates with the managed identity instead of the key. */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: nonEmpty.optional(),
});

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment; throws ConfigError listing every field error at once. */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const result = configSchema.safeParse(env);
  const issues = result.success ? [] : formatIssues(result.error).split('\n');
  // Cross-field rules are checked on the raw values so they are reported with the field errors.
  if (!env.STORAGE_CONNECTION_STRING && !env.STORAGE_BLOB_SERVICE_URI) {
    issues.push(
      'STORAGE_BLOB_SERVICE_URI: set STORAGE_CONNECTION_STRING (local) or STORAGE_BLOB_SERVICE_URI (Azure)',
    );
  }
  if (env.TELEMETRY_EXPORTER === 'azure-monitor' && !env.APPLICATIONINSIGHTS_CONNECTION_STRING) {
    issues.push('APPLICATIONINSIGHTS_CONNECTION_STRING: TELEMETRY_EXPORTER=azure-monitor needs it');
  }
  if (!result.success || issues.length > 0) throw new ConfigError(issues);
  return result.data;
}

/**
 * The Service Bus settings alone, for tools that use nothing else (`mlops deadletters`): the full
 * config would refuse them for lacking storage settings they do not need.
 */
export function serviceBusSettings(env: Record<string, string | undefined> = process.env): Pick<AppConfig, 'SERVICEBUS_CONNECTION_STRING' | 'SERVICEBUS_FULLY_QUALIFIED_NAMESPACE'> {
  const result = configSchema.pick({ SERVICEBUS_CONNECTION_STRING: true, SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: true }).safeParse(env);
  if (!result.success) throw new ConfigError(formatIssues(result.error).split('\n'));
  return result.data;
}

let cached: AppConfig | undefined;

/** The process's configuration, read from process.env on first use. */
export function config(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
