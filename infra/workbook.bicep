// The operators' workbook on Application Insights: the app's custom metrics
// (shared/adapters/telemetry/metrics.ts) as tiles. The workbook itself is
// workbook/mlops.workbook.json, the portal's "Advanced editor" (gallery template) format; its
// fallback resource is set here. test/unit/deployment-consistency.test.ts checks that it parses
// and queries only metrics the app emits.
param location string
param tags object
param appInsightsName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name is a GUID; this one is stable per Application Insights resource.
  name: guid(resourceGroup().id, appInsightsName, 'mlops-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'MLOps operations'
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: appInsights.id
    serializedData: replace(loadTextContent('./workbook/mlops.workbook.json'), '__APP_INSIGHTS_ID__', appInsights.id)
  }
}

output workbookId string = workbook.id
