// Alerts on what goes wrong without anyone calling: a failed inference run, a dead-lettered
// Service Bus message, a drift breach and an approval about to expire. Without an action group
// they fire in the portal only. The custom metrics they query are the app's
// (shared/adapters/telemetry/metrics.ts); test/unit/deployment-consistency.test.ts checks the names.
// Each log alert's query projects the rows (time, dimensions, the measure) and leaves the
// aggregation over the window to the rule (timeAggregation, split by the dimensions).
param location string
param tags object
param appInsightsName string
param serviceBusNamespaceName string
@description('Action group the alerts notify (resource id). Empty: none.')
param actionGroupId string = ''
@description('The approval alert fires when a pending approval has fewer hours than this left (or is overdue).')
param approvalWarningHours int = 24

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}
resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

var actionGroups = empty(actionGroupId) ? [] : [actionGroupId]

// The app counts ended runs in the custom metric mlops.runs (shared/adapters/telemetry/metrics.ts,
// from run.failed events): one alert per model with a failed run in the window.
resource failedRun 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'mlops-failed-run-${appInsightsName}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'MLOps: an inference run failed'
    description: 'mlops.runs counted a run with state failed (the run.failed event names the reason).'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "mlops.runs" and tostring(customDimensions.state) == "failed" | project timestamp, model = tostring(customDimensions.model), failed = valueSum'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failed'
          dimensions: [{ name: 'model', operator: 'Include', values: ['*'] }]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: false
    actions: { actionGroups: actionGroups }
  }
}

// Dead letters are counted by Service Bus itself (a platform metric, no log query needed): a
// message sitting in any queue's or subscription's dead-letter queue fires, per entity.
resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'mlops-dead-lettered-${serviceBusNamespaceName}'
  location: 'global'
  tags: tags
  properties: {
    description: 'A message is in a dead-letter queue of the namespace (retraining requests, model-events subscriptions).'
    severity: 2
    enabled: true
    scopes: [serviceBus.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'deadLettered'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [{ name: 'EntityName', operator: 'Include', values: ['*'] }]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [for id in actionGroups: { actionGroupId: id }]
  }
}

// The drift monitor counts a window whose drift verdict is breach (the policy's consecutive-windows
// rule met) in mlops.drift.breaches. It runs hourly by default (DRIFT_MONITOR_SCHEDULE), so the
// rule looks at each hour once: one alert per model with a breach.
resource driftBreach 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'mlops-drift-breach-${appInsightsName}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'MLOps: drift breach'
    description: 'mlops.drift.breaches counted a monitoring window whose drift breached the model policy (see the drift.detected event and GET /models/{model}/monitoring).'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "mlops.drift.breaches" | project timestamp, model = tostring(customDimensions.model), breaches = valueSum'
          timeAggregation: 'Total'
          metricMeasureColumn: 'breaches'
          dimensions: [{ name: 'model', operator: 'Include', values: ['*'] }]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: false
    actions: { actionGroups: actionGroups }
  }
}

// The approval watch (every 15 minutes, APPROVAL_WATCH_SCHEDULE) records the seconds left before
// each pending approval expires in mlops.approvals.time_left (negative once overdue: a lifecycle
// that did not expire it). Stateful: fires once per model and version, resolves once the version
// is decided (no more points) or its time left is above the threshold again.
resource approvalExpiring 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'mlops-approval-expiring-${appInsightsName}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'MLOps: an approval is about to expire'
    description: 'A version waiting in pending_approval has less than ${approvalWarningHours} hours left before its lifecycle expires it (mlops.approvals.time_left).'
    severity: 3
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "mlops.approvals.time_left" | project timestamp, model = tostring(customDimensions.model), version = tostring(customDimensions.version), hoursLeft = valueSum / valueCount / 3600.0'
          timeAggregation: 'Minimum'
          metricMeasureColumn: 'hoursLeft'
          dimensions: [
            { name: 'model', operator: 'Include', values: ['*'] }
            { name: 'version', operator: 'Include', values: ['*'] }
          ]
          operator: 'LessThan'
          threshold: approvalWarningHours
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: actionGroups }
  }
}
