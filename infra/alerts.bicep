// Alerts on what goes wrong without anyone calling: a failed inference run and a dead-lettered
// Service Bus message. Without an action group they fire in the portal only.
param location string
param tags object
param appInsightsName string
param serviceBusNamespaceName string
@description('Action group the alerts notify (resource id). Empty: none.')
param actionGroupId string = ''

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
          query: 'customMetrics | where name == "mlops.runs" and tostring(customDimensions.state) == "failed" | summarize failed = sum(valueSum) by model = tostring(customDimensions.model)'
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
