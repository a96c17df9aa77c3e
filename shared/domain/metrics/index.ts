export { compareWithChampion, relativeRegression } from './champion';
export { argmaxClasses, type ClassificationData, confusion, perClassScores } from './classification';
export { computeMetrics, computeMetricsByKeys, computeMetricsBySegment, type MetricsData, type MetricsOptions } from './compute';
export { normalQuantile, quantileSorted, wilsonInterval } from './intervals';
export { defaultMetricFor, metricDirection, metricsForTask } from './names';
export type { MetricOutcome, MetricOutcomes } from './outcome';
export { type RegressionData } from './regression';
export { groupRowsBySegment, MISSING_SEGMENT } from './segments';
