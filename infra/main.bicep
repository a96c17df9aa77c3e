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

@description('Job URL of an external trainer (models whose retraining policy names webhook or azureml). Empty: none.')
param retrainingWebhookUrl string = ''

@minLength(1)
@description('Application (client) id of the Entra ID app registration of the API (docs/deploy.md: its app roles). App Service Authentication requires it.')
param authClientId string

@description('Tenant of the app registration; empty for the tenant of the subscription.')
param authTenantId string = ''

@allowed(['dts', 'azureStorage'])
@description('Durable Functions backend: the Durable Task Scheduler (managed, identity-based) or Azure Storage queues and tables in the host storage account.')
param durableBackend string = 'dts'

@description('Event Grid subscriptions for the blob triggers. False on the first provision: the webhook key exists only once the code runs (azure.yaml postdeploy hook sets it).')
param blobEventSubscriptions bool = false

@description('Built-in trainer: lake path of the training set, with {model}, used when the champion names none. Empty: none.')
param retrainingTrainingDataset string = ''

@description('Action group (resource id) the alerts notify: a failed run, a dead-lettered message, a drift breach, an approval about to expire. Empty: the alerts show in the portal only.')
param alertActionGroupId string = ''

@description('Share of traces the app sends to Application Insights, 0 to 1 (TELEMETRY_SAMPLING_RATIO; text, Bicep has no decimals). Metrics are not sampled.')
param telemetrySamplingRatio string = '1'

@description('The approval alert fires when a pending approval has fewer hours than this left before it expires.')
param approvalWarningHours int = 24

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}mlops-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'
// The lake (DATA_CONTAINER) and where Event Grid puts blob events it could not deliver.
var dataContainer = 'mlops'
// host.json's durableTask.hubName is %TASK_HUB_NAME%; with DTS it must name the scheduler's task hub.
var taskHubName = 'mlops'
var deadLetterContainer = 'eventgrid-deadletter'

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
      containers: [{ name: deploymentContainerName }, { name: dataContainer }, { name: deadLetterContainer }]
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

// Every setting shared/config.ts reads, and those the host resolves (shared/domain/resources.ts
// HOST_SETTINGS), with their values on Azure. Values are text, as the environment holds them.
// test/unit/deployment-consistency.test.ts checks this list against the schema.
var blobServiceUri = 'https://${storage.outputs.name}.blob.${environment().suffixes.storage}'
var appSettings = union(
  {
    COSMOS_ENDPOINT: data.outputs.COSMOS_ENDPOINT
    COSMOS_DATABASE: 'mlops'
    STORAGE_BLOB_SERVICE_URI: blobServiceUri
    DATA_CONTAINER: dataContainer
    SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: data.outputs.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
    RETRAINING_QUEUE: 'retraining-requests'
    EVENTS_TOPIC: 'model-events'
    AZURE_CLIENT_ID: identity.outputs.clientId
    TASK_HUB_NAME: taskHubName
    BATCH_TARGET_CHUNK_BYTES: '33554432'
    BATCH_TARGET_CHUNK_ROWS: '250000'
    BATCH_MAX_PARALLEL_CHUNKS: '8'
    // Timers bind these as %NAME%: without them the host cannot index the functions.
    SCHEDULED_INFERENCE_CHECK: '0 * * * * *'
    DRIFT_MONITOR_SCHEDULE: '0 0 * * * *'
    APPROVAL_WATCH_SCHEDULE: '0 */15 * * * *'
    RECONCILE_SCHEDULE: '0 30 * * * *'
    DRIFT_MONITOR_MAX_WINDOWS: '48'
    SCORE_MAX_ROWS: '1000'
    VALIDATION_MAX_ROWS: '2000000'
    SEGMENT_MAX_VALUES: '100'
    RETRAINING_WEBHOOK_TIMEOUT: 'P1D'
    // A queued retraining request untouched this long is failed as lost (its message gone).
    RETRAINING_QUEUED_TIMEOUT: 'P1D'
    // Must equal the retraining queue's maxDeliveryCount (data.bicep).
    RETRAINING_MAX_DELIVERY_COUNT: '5'
    RETRAINING_WINDOWS: '7'
    RETRAINING_MAX_ROWS: '200000'
    RETRAINING_MIN_ROWS: '50'
    MAX_ARTIFACT_BYTES: '536870912'
    CSV_MAX_RECORD_BYTES: '4194304'
    CSV_MAX_FIELD_BYTES: '1048576'
    CSV_MAX_FIELDS: '10000'
    ACTUALS_LOOKBACK: 'P90D'
    ACTUALS_BUCKET_ROWS: '2000000'
    ACTUALS_PARALLELISM: '4'
    ACTUALS_METRICS_MAX_ROWS: '1000000'
    ACTUALS_BOOTSTRAP_RESAMPLES: '0'
    // Spans to Application Insights (APPLICATIONINSIGHTS_CONNECTION_STRING is set in app/api.bicep).
    TELEMETRY_EXPORTER: 'azure-monitor'
    // Share of traces kept (0-1); metrics are not sampled. docs/observability.md, Sampling.
    TELEMETRY_SAMPLING_RATIO: telemetrySamplingRatio
  },
  // host.json keeps the Azure Storage backend (Core Tools and devhost read it unchanged); on Azure
  // these settings override host.json to select DTS (AzureFunctionsJobHost__<path> overrides a host.json value).
  durableBackend == 'dts'
    ? {
        DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durable.outputs.endpoint};Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}'
        AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
        AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
      }
    : {},
  // Optional settings are left out when empty: the schema refuses an empty URL or path.
  empty(retrainingWebhookUrl) ? {} : { RETRAINING_WEBHOOK_URL: retrainingWebhookUrl },
  empty(retrainingTrainingDataset) ? {} : { RETRAINING_TRAINING_DATASET: retrainingTrainingDataset }
)

module durable './durable.bicep' = if (durableBackend == 'dts') {
  name: 'durable'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.durableTaskSchedulers}${resourceToken}'
    taskHubName: taskHubName
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
    appSettings: appSettings
    authClientId: authClientId
    authTenantId: empty(authTenantId) ? tenant().tenantId : authTenantId
  }
}

module blobEvents './app/blob-events.bicep' = if (blobEventSubscriptions) {
  name: 'blobEvents'
  scope: rg
  params: {
    location: location
    tags: tags
    functionAppName: api.outputs.name
    storageAccountName: storage.outputs.name
    identityId: identity.outputs.resourceId
    dataContainer: dataContainer
    deadLetterContainer: deadLetterContainer
  }
  // The identity must be able to write dead letters before Event Grid validates the subscription.
  dependsOn: [rbac]
}

module rbac './rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    cosmosAccountName: data.outputs.cosmosAccountName
    serviceBusNamespaceName: data.outputs.serviceBusNamespaceName
    appInsightsName: appInsights.outputs.name
    durableBackend: durableBackend
    durableSchedulerName: durableBackend == 'dts' ? durable.outputs.schedulerName : ''
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

module alerts './alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsName: appInsights.outputs.name
    serviceBusNamespaceName: data.outputs.serviceBusNamespaceName
    actionGroupId: alertActionGroupId
    approvalWarningHours: approvalWarningHours
  }
}

// The operators' workbook: the app's custom metrics (infra/workbook/mlops.workbook.json) on its Application Insights.
module workbook './workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsName: appInsights.outputs.name
  }
}

// Outputs are named exactly as the app settings they fill.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_NAME string = api.outputs.name
output COSMOS_ENDPOINT string = data.outputs.COSMOS_ENDPOINT
output STORAGE_BLOB_SERVICE_URI string = blobServiceUri
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = data.outputs.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsights.outputs.connectionString
