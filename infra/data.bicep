// Cosmos DB (registry, runs, audit ledger) and Service Bus (retraining queue, events topic).
// Keys are disabled: the app reaches both through its managed identity.
// The names and properties below mirror shared/domain/resources.ts and devhost/servicebus/config.json;
// test/unit/deployment-consistency.test.ts fails when they drift apart.
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

var cosmosContainers = [
  { name: 'models', partitionKey: '/modelName' }
  { name: 'runs', partitionKey: '/modelName' }
  { name: 'audit', partitionKey: '/modelName' }
]

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [
  for c in cosmosContainers: {
    parent: database
    name: c.name
    properties: {
      resource: { id: c.name, partitionKey: { paths: [c.partitionKey], kind: 'Hash' } }
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

var queues = [
  {
    name: 'retraining-requests'
    lockDuration: 'PT5M'
    maxDeliveryCount: 5
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
  }
]

resource serviceBusQueues 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = [
  for q in queues: {
    parent: serviceBus
    name: q.name
    properties: {
      requiresDuplicateDetection: q.requiresDuplicateDetection
      duplicateDetectionHistoryTimeWindow: q.duplicateDetectionHistoryTimeWindow
      maxDeliveryCount: q.maxDeliveryCount
      lockDuration: q.lockDuration
      deadLetteringOnMessageExpiration: q.deadLetteringOnMessageExpiration
    }
  }
]

var topic = { name: 'model-events', requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: 'PT1H' }

resource eventsTopic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: serviceBus
  name: topic.name
  properties: {
    requiresDuplicateDetection: topic.requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: topic.duplicateDetectionHistoryTimeWindow
  }
}

// An empty label means no rule: the subscription keeps the default rule (every message).
var eventSubscriptions = [
  { name: 'all-events', lockDuration: 'PT1M', maxDeliveryCount: 10, deadLetteringOnMessageExpiration: false, ruleName: '', label: '' }
  { name: 'drift-alerts', lockDuration: 'PT1M', maxDeliveryCount: 10, deadLetteringOnMessageExpiration: true, ruleName: 'drift-detected', label: 'drift.detected' }
  { name: 'champion-changes', lockDuration: 'PT1M', maxDeliveryCount: 10, deadLetteringOnMessageExpiration: true, ruleName: 'champion-changed', label: 'champion.changed' }
]

resource subscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = [
  for s in eventSubscriptions: {
    parent: eventsTopic
    name: s.name
    properties: {
      lockDuration: s.lockDuration
      maxDeliveryCount: s.maxDeliveryCount
      deadLetteringOnMessageExpiration: s.deadLetteringOnMessageExpiration
    }
  }
]

// A filtered subscription's rule replaces the default one ($Default accepts every message and cannot
// be deleted through ARM, so it is rewritten to accept none). Full names: the parent is a loop.
var filteredSubscriptions = filter(eventSubscriptions, s => !empty(s.label))

resource defaultRules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = [
  for s in filteredSubscriptions: {
    name: '${serviceBus.name}/${topic.name}/${s.name}/$Default'
    properties: { filterType: 'SqlFilter', sqlFilter: { sqlExpression: '1=0' } }
    dependsOn: [subscriptions]
  }
]

resource rules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = [
  for s in filteredSubscriptions: {
    name: '${serviceBus.name}/${topic.name}/${s.name}/${s.ruleName}'
    properties: { filterType: 'CorrelationFilter', correlationFilter: { label: s.label } }
    dependsOn: [subscriptions]
  }
]

output cosmosAccountName string = cosmos.name
output serviceBusNamespaceName string = serviceBus.name
output COSMOS_ENDPOINT string = cosmos.properties.documentEndpoint
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = '${serviceBus.name}.servicebus.windows.net'
