// Blob triggers on Flex Consumption: the plan has no polling blob trigger, so every trigger
// (`source: 'EventGrid'` in functions/blob/) gets its events from an Event Grid subscription on
// the storage account's system topic, delivered to the host's blobs_extension webhook.
// Deployed once the app's code runs (main.bicep `blobEventSubscriptions`): the host creates the
// blobs_extension system key only when it first loads a blob trigger, and the webhook needs it.
param location string
param tags object
param functionAppName string
param storageAccountName string
param identityId string
param dataContainer string
param deadLetterContainer string

var abbrs = loadJsonContent('../abbreviations.json')

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// One entry per app.storageBlob trigger (shared/domain/resources.ts LAKE_RESOURCES.blobTriggers).
// Event Grid filters only on the subject's start and end; each function checks the rest of its path.
var blobTriggers = [
  { functionName: 'scoreDrop', prefix: 'drops/', suffix: '' }
  { functionName: 'joinActuals', prefix: 'actuals/', suffix: '' }
  { functionName: 'registerModelPackage', prefix: 'models/', suffix: '/manifest.json' }
]

// The identity writes undeliverable events to the dead-letter container (shared keys are disabled).
resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${abbrs.eventGridSystemTopics}${storageAccountName}'
  location: location
  tags: tags
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identityId}': {} } }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource blobSubscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [
  for t in blobTriggers: {
    parent: systemTopic
    name: 'blob-${toLower(t.functionName)}'
    properties: {
      destination: {
        endpointType: 'WebHook'
        properties: {
          endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${t.functionName}&code=${listKeys(resourceId('Microsoft.Web/sites/host', functionAppName, 'default'), '2023-12-01').systemKeys.blobs_extension}'
          // One blob per delivery: a drop starts one orchestration, and a failure retries only its event.
          maxEventsPerBatch: 1
          preferredBatchSizeInKilobytes: 64
        }
      }
      eventDeliverySchema: 'EventGridSchema'
      filter: {
        includedEventTypes: ['Microsoft.Storage.BlobCreated']
        subjectBeginsWith: '/blobServices/default/containers/${dataContainer}/blobs/${t.prefix}'
        subjectEndsWith: t.suffix
      }
      // About a day of retries (the host may be scaling from zero or redeploying), then dead-letter.
      retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
      deadLetterWithResourceIdentity: {
        identity: { type: 'UserAssigned', userAssignedIdentity: identityId }
        deadLetterDestination: {
          endpointType: 'StorageBlob'
          properties: { resourceId: storage.id, blobContainerName: deadLetterContainer }
        }
      }
    }
  }
]

output systemTopicName string = systemTopic.name
output subscriptionNames array = [for (t, i) in blobTriggers: blobSubscriptions[i].name]
