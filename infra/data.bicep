// Cosmos DB (registry, runs, audit ledger) and Service Bus (retraining queue, events topic).
// Keys are disabled: the app reaches both through its managed identity.
param location string
param tags object
param cosmosAccountName string
param serviceBusNamespaceName string

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: cosmosAccountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }]
    capabilities: [{ name: 'EnableServerless' }]
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmos
  name: 'mlops'
  properties: { resource: { id: 'mlops' } }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [
  for c in ['models', 'runs', 'audit']: {
    parent: database
    name: c
    properties: {
      resource: { id: c, partitionKey: { paths: ['/modelName'], kind: 'Hash' } }
    }
  }
]

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: serviceBusNamespaceName
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: { disableLocalAuth: true, minimumTlsVersion: '1.2' }
}

resource retrainingQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: serviceBus
  name: 'retraining-requests'
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    maxDeliveryCount: 5
    lockDuration: 'PT5M'
    deadLetteringOnMessageExpiration: true
  }
}

resource eventsTopic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: serviceBus
  name: 'model-events'
  properties: { requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: 'PT1H' }
}

output cosmosAccountName string = cosmos.name
output serviceBusNamespaceName string = serviceBus.name
output COSMOS_ENDPOINT string = cosmos.properties.documentEndpoint
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = '${serviceBus.name}.servicebus.windows.net'
