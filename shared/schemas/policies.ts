import { z } from 'zod';

import { columnNameSchema, isoDurationSchema } from './common';

/**
 * Per-model policies. Defaults follow what established monitoring tools use (Evidently and Azure
 * ML: Wasserstein / Jensen-Shannon 0.1 on large samples, KS / chi-squared p < 0.05 on small ones,
 * dataset drift at >= 50% of columns) and fix their known weaknesses with minimum sample sizes,
 * hysteresis and a cooldown (docs/drift.md, "Policies").
 */

export const driftMethodSchema = z.enum([
  'ks',
  'chi_squared',
  'z_test',
  'psi',
  'jensen_shannon',
  'wasserstein',
  'hellinger',
  'l_infinity',
]);
export type DriftMethod = z.infer<typeof driftMethodSchema>;

export const columnDriftOverrideSchema = z.strictObject({
  column: columnNameSchema,
  method: driftMethodSchema.optional(),
  threshold: z.number().positive().optional(),
  ignore: z.boolean().default(false),
  /** Non-null values this column needs in both samples; the policy's minSamples when absent. */
  minSamples: z.number().int().positive().optional(),
});

export const referenceWindowSchema = z.discriminatedUnion('kind', [
  /** The profile of the data the version was trained on. */
  z.strictObject({ kind: z.literal('training') }),
  /** The last N monitoring windows before the current one. */
  z.strictObject({ kind: z.literal('rolling'), windows: z.number().int().min(1).max(365) }),
  /** The same period one season (3 months) or one year earlier, so seasonality is not drift. */
  z.strictObject({
    kind: z.literal('same_period'),
    lag: z.enum(['season', 'year']),
    /** How many stored windows, starting at the lagged start of the current one, form the reference. */
    windows: z.number().int().min(1).max(365).default(1),
  }),
]);
export type ReferenceWindow = z.infer<typeof referenceWindowSchema>;

export const driftPolicySchema = z.strictObject({
  /** `auto` picks the test by column type and sample size; a name forces one method. */
  method: z.union([z.literal('auto'), driftMethodSchema]).default('auto'),
  /** Rows at or below which `auto` uses p-value tests; above it, distances. */
  smallSampleMaxRows: z.number().int().positive().default(1000),
  pValueThreshold: z.number().gt(0).lt(1).default(0.05),
  distanceThreshold: z.number().positive().default(0.1),
  psiThreshold: z.number().positive().default(0.1),
  /** Hellinger distance at or above which a column drifts (whylogs' "possible drift" band). */
  hellingerThreshold: z.number().positive().default(0.15),
  /** Largest change of a bin's or category's share at or above which a column drifts. */
  lInfinityThreshold: z.number().positive().default(0.1),
  /**
   * With more than smallSampleMaxRows values in both samples a p-value test must also show this
   * effect size (KS statistic, Cramér's V, difference of proportions) to count as drift, so huge
   * samples do not flag negligible differences.
   */
  minEffectSize: z.number().min(0).max(1).default(0.05),
  /** Reference-quantile bins for PSI, Jensen-Shannon, Hellinger, L-infinity and chi-squared on numeric columns. */
  histogramBins: z.number().int().min(2).max(100).default(10),
  /** Below this many non-null values in either sample a column's verdict is insufficient_data. */
  minSamples: z.number().int().positive().default(30),
  /** The dataset drifts when at least this share of the evaluated columns drift. */
  shareDriftedColumns: z.number().gt(0).max(1).default(0.5),
  multipleTestingCorrection: z
    .enum(['none', 'bonferroni', 'benjamini_hochberg'])
    .default('benjamini_hochberg'),
  columns: z.array(columnDriftOverrideSchema).default([]),
  /** Evaluate each segment (by the model's segment keys) as well as the whole window. */
  perSegment: z.boolean().default(true),
  /** A breach must persist this many consecutive windows before it counts. */
  consecutiveWindows: z.number().int().min(1).max(30).default(2),
  /** After an alert, further breaches within this period are reported without a new alert. */
  cooldown: isoDurationSchema.default('P7D'),
  window: isoDurationSchema.default('P1D'),
  reference: referenceWindowSchema.default({ kind: 'training' }),
});
export type DriftPolicy = z.infer<typeof driftPolicySchema>;

export const regressionMetricSchema = z.enum(['mae', 'rmse', 'mape', 'r2', 'mean_error']);
/**
 * Classification metrics. `precision`, `recall` and `f1` are the positive class's (class index 1)
 * for binary models and the macro average for multiclass ones; `roc_auc` and `pr_auc` are
 * one-vs-rest macro averages for multiclass. See docs/metrics.md.
 */
export const classificationMetricSchema = z.enum([
  'accuracy',
  'precision',
  'recall',
  'f1_macro',
  'f1_weighted',
  'roc_auc',
  'pr_auc',
  'log_loss',
  'brier',
  'f1',
  'precision_weighted',
  'recall_weighted',
  'roc_auc_weighted',
]);
export const metricNameSchema = z.union([regressionMetricSchema, classificationMetricSchema]);
export type MetricName = z.infer<typeof metricNameSchema>;

export const performancePolicySchema = z.strictObject({
  /** Defaults by task when absent: rmse for regression, roc_auc for binary, f1_macro for multiclass. */
  metric: metricNameSchema.optional(),
  /** Allowed relative degradation against the validation baseline before a breach. */
  tolerance: z.number().min(0).max(1).default(0.1),
  /** Windows with a smaller share of predictions that have actuals are provisional. */
  minLabelCoverage: z.number().min(0).max(1).default(0.5),
});

export const validationSplitSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('random'),
    testFraction: z.number().gt(0).lt(1).default(0.2),
    seed: z.number().int().default(42),
  }),
  z.strictObject({
    kind: z.literal('time'),
    cutoff: z.iso.datetime({ offset: true }).optional(),
    testFraction: z.number().gt(0).lt(1).default(0.2),
  }),
  z.strictObject({ kind: z.literal('group'), column: columnNameSchema }),
  z.strictObject({
    kind: z.literal('kfold'),
    k: z.number().int().min(2).max(20).default(5),
    seed: z.number().int().default(42),
  }),
  z.strictObject({
    kind: z.literal('stratified'),
    k: z.number().int().min(2).max(20).default(5),
    seed: z.number().int().default(42),
  }),
]);

export const validationGatesSchema = z.strictObject({
  /** The metric the gates and the champion comparison use; task default when absent. */
  metric: metricNameSchema.optional(),
  /** Absolute bound the metric must meet (a minimum for higher-is-better metrics, else a maximum). */
  threshold: z.number().optional(),
  /** A challenger may be at most this much (relative) worse than the champion on the same data. */
  maxRegressionVsChampion: z.number().min(0).max(1).default(0),
  /** Segments with fewer validation rows are reported but do not gate. */
  minSegmentRows: z.number().int().positive().default(100),
  /** Allowed relative degradation of any gated segment against the overall metric. */
  maxSegmentRegression: z.number().min(0).max(1).default(0.2),
  /** Bootstrap resamples behind each metric's confidence interval (0: intervals only where analytic). */
  bootstrapResamples: z.number().int().min(0).max(10_000).default(1000),
  splits: z
    .array(validationSplitSchema)
    .min(1)
    .default([{ kind: 'random', testFraction: 0.2, seed: 42 }]),
});

export const retrainingPolicySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** No new request within this period after the last one. */
  cooldown: isoDurationSchema.default('P7D'),
  trainer: z.enum(['builtin', 'azureml', 'webhook']).default('builtin'),
  /**
   * Labelled windows the built-in trainer learns from: the request's and those before it. Absent:
   * the RETRAINING_WINDOWS setting. Fewer windows follow a fast-changing world sooner.
   */
  windows: z.number().int().min(1).max(366).optional(),
});

/** The role that may approve or reject versions unless a model's policy names a stricter one. */
export const DEFAULT_APPROVER_ROLE = 'MLOps.Approver';

export const approvalPolicySchema = z.strictObject({
  /** How long a version waits in pending_approval before it expires. */
  timeout: isoDurationSchema.default('P7D'),
  /** The role a person needs to approve or reject (besides the API's MLOps.Approver). */
  approverRole: z.string().min(1).default(DEFAULT_APPROVER_ROLE),
  /**
   * Development models only: a version that passes validation is approved by the lifecycle itself
   * (the ledger names the system as approver and says why), without waiting for a person.
   */
  autoApprove: z.boolean().default(false),
  /** false: an approved version waits for `POST /models/{model}/promote` instead of being promoted at once. */
  promoteOnApproval: z.boolean().default(true),
});

export const modelPoliciesSchema = z.strictObject({
  validation: validationGatesSchema.default(() => validationGatesSchema.parse({})),
  approval: approvalPolicySchema.default(() => approvalPolicySchema.parse({})),
  drift: driftPolicySchema.default(() => driftPolicySchema.parse({})),
  performance: performancePolicySchema.default(() => performancePolicySchema.parse({})),
  retraining: retrainingPolicySchema.default(() => retrainingPolicySchema.parse({})),
});
export type ModelPolicies = z.infer<typeof modelPoliciesSchema>;

/** One validation split strategy of `validationGatesSchema.splits`. */
export type ValidationSplit = z.infer<typeof validationSplitSchema>;

/** The validation gates of a model (champion comparison, segment gates, split strategies). */
export type ValidationGates = z.infer<typeof validationGatesSchema>;

export type ColumnDriftOverride = z.infer<typeof columnDriftOverrideSchema>;
export type PerformancePolicy = z.infer<typeof performancePolicySchema>;
export type RetrainingPolicy = z.infer<typeof retrainingPolicySchema>;
