// Every role the app's identity (and optionally the deploying user) needs, in one place.
// Names are guid(scope, principal, role) so redeployments are idempotent.
param storageAccountName string
param cosmosAccountName string
param serviceBusNamespaceName string
param appInsightsName string
param appPrincipalId string
param userPrincipalId string = ''
@allowed(['dts', 'azureStorage'])
param durableBackend string
@description('The Durable Task Scheduler, when durableBackend is dts.')
param durableSchedulerName string = ''

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor (blob trigger poison queue; Durable on Azure Storage)
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor (Durable on Azure Storage)
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419' // Azure Service Bus Data Owner
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402' // Durable Task Data Contributor (DTS)
}
// Cosmos DB Built-in Data Contributor (data plane role, assigned through sqlRoleAssignments).
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

var principals = empty(userPrincipalId)
  ? [{ id: appPrincipalId, type: 'ServicePrincipal' }]
  : [{ id: appPrincipalId, type: 'ServicePrincipal' }, { id: userPrincipalId, type: 'User' }]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}
resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: cosmosAccountName
}
resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}
resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}
resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' existing = if (durableBackend == 'dts') {
  name: durableSchedulerName
}

// Tables hold Durable state only with the Azure Storage backend; queues also serve the blob trigger.
var storageRoleIds = concat(
  [roles.storageBlobDataOwner, roles.storageQueueDataContributor],
  durableBackend == 'azureStorage' ? [roles.storageTableDataContributor] : []
)

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in flatten(map(principals, p => map(storageRoleIds, r => { principal: p, role: r }))): {
    name: guid(storage.id, pair.principal.id, pair.role)
    scope: storage
    properties: {
      principalId: pair.principal.id
      principalType: pair.principal.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', pair.role)
    }
  }
]

resource serviceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: {
    name: guid(serviceBus.id, p.id, roles.serviceBusDataOwner)
    scope: serviceBus
    properties: {
      principalId: p.id
      principalType: p.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    }
  }
]

// The user's assignment lets them read orchestrations in the scheduler's dashboard.
resource durableRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: if (durableBackend == 'dts') {
    name: guid(scheduler.id, p.id, roles.durableTaskDataContributor)
    scope: scheduler
    properties: {
      principalId: p.id
      principalType: p.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    }
  }
]

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

resource cosmosRoles 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = [
  for p in principals: {
    parent: cosmos
    name: guid(cosmos.id, p.id, cosmosDataContributor)
    properties: {
      principalId: p.id
      roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
      scope: cosmos.id
    }
  }
]
