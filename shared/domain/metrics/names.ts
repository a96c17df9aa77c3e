import type { MetricDirection } from '../../schemas/metrics';
import type { ModelTask } from '../../schemas/model';
import type { MetricName } from '../../schemas/policies';

/** Which way each metric improves. */
export const metricDirection: Readonly<Record<MetricName, MetricDirection>> = {
  mae: 'lower',
  rmse: 'lower',
  mape: 'lower',
  r2: 'higher',
  mean_error: 'zero',
  accuracy: 'higher',
  precision: 'higher',
  recall: 'higher',
  f1: 'higher',
  f1_macro: 'higher',
  f1_weighted: 'higher',
  precision_weighted: 'higher',
  recall_weighted: 'higher',
  roc_auc: 'higher',
  roc_auc_weighted: 'higher',
  pr_auc: 'higher',
  log_loss: 'lower',
  brier: 'lower',
};

/** The metrics `computeMetrics` reports for each task, in report order. */
export const metricsForTask: Readonly<Record<ModelTask, readonly MetricName[]>> = {
  regression: ['mae', 'rmse', 'mape', 'r2', 'mean_error'],
  binary: [
    'accuracy',
    'precision',
    'recall',
    'f1',
    'f1_macro',
    'f1_weighted',
    'roc_auc',
    'pr_auc',
    'log_loss',
    'brier',
  ],
  multiclass: [
    'accuracy',
    'precision',
    'recall',
    'precision_weighted',
    'recall_weighted',
    'f1_macro',
    'f1_weighted',
    'roc_auc',
    'roc_auc_weighted',
    'pr_auc',
    'log_loss',
    'brier',
  ],
};

/** The metric gates and performance policies use when none is configured. */
export function defaultMetricFor(task: ModelTask): MetricName {
  return task === 'regression' ? 'rmse' : task === 'binary' ? 'roc_auc' : 'f1_macro';
}
