// The MLOps backend on Azure: a Flex Consumption Function App with a user-assigned managed identity
// that reaches Storage, Cosmos DB and Service Bus by role, never by key.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to derive a unique token for resource names.')
param environmentName string

@minLength(1)
@description('Location of every resource (a region that offers Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user, granted data access for debugging. Empty to skip.')
param principalId string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}mlops-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}mlops-${resourceToken}'
    location: location
    tags: tags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module appInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: 'appInsights'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    dnsEndpointType: 'Standard'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
    blobServices: {
      containers: [{ name: deploymentContainerName }, { name: 'mlops' }]
    }
  }
}

module data './data.bicep' = {
  name: 'data'
  scope: rg
  params: {
    location: location
    tags: tags
    cosmosAccountName: '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
    serviceBusNamespaceName: '${abbrs.serviceBusNamespaces}${resourceToken}'
  }
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    appSettings: {
      COSMOS_ENDPOINT: data.outputs.COSMOS_ENDPOINT
      COSMOS_DATABASE: 'mlops'
      STORAGE_BLOB_SERVICE_URI: 'https://${storage.outputs.name}.blob.${environment().suffixes.storage}'
      DATA_CONTAINER: 'mlops'
      SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: data.outputs.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
      // The Service Bus triggers' connection (identity-based, as the Functions extension reads it).
      ServiceBusConnection__fullyQualifiedNamespace: data.outputs.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
      ServiceBusConnection__credential: 'managedidentity'
      ServiceBusConnection__clientId: identity.outputs.clientId
      RETRAINING_QUEUE: 'retraining-requests'
      EVENTS_TOPIC: 'model-events'
      AZURE_CLIENT_ID: identity.outputs.clientId
      TASK_HUB_NAME: 'mlops'
      DRIFT_MONITOR_SCHEDULE: '0 0 * * * *'
    }
  }
}

module rbac './rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    cosmosAccountName: data.outputs.cosmosAccountName
    serviceBusNamespaceName: data.outputs.serviceBusNamespaceName
    appInsightsName: appInsights.outputs.name
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

// Outputs are named exactly as the app settings they fill.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_NAME string = api.outputs.name
output COSMOS_ENDPOINT string = data.outputs.COSMOS_ENDPOINT
output STORAGE_BLOB_SERVICE_URI string = 'https://${storage.outputs.name}.blob.${environment().suffixes.storage}'
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = data.outputs.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsights.outputs.connectionString
