// The Function App on the Flex Consumption plan, deployed from a blob container by the identity.
param name string
param location string
param tags object
param storageAccountName string
param deploymentContainerName string
param identityId string
param identityClientId string
param applicationInsightsConnectionString string
param appSettings object
@description('Application (client) id of the Entra ID app registration that defines the MLOps.* app roles.')
param authClientId string
@description('Tenant of that app registration.')
param authTenantId string
param instanceMemoryMB int = 2048
param maximumInstanceCount int = 40

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { instanceMemoryMB: instanceMemoryMB, maximumInstanceCount: maximumInstanceCount }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        for setting in items(union(appSettings, {
          AzureWebJobsStorage__accountName: storageAccountName
          AzureWebJobsStorage__credential: 'managedidentity'
          AzureWebJobsStorage__clientId: identityClientId
          ServiceBusConnection__fullyQualifiedNamespace: appSettings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
          ServiceBusConnection__credential: 'managedidentity'
          ServiceBusConnection__clientId: identityClientId
          APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
          APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
        })): { name: setting.key, value: setting.value }
      ]
    }
  }
}

// App Service Authentication (Entra ID): the HTTP functions are anonymous to the host and trust
// only the x-ms-client-principal header this layer sets (functions/http/identity.ts), so it must
// be on. Its roles claim carries the app roles (MLOps.Reader, .Contributor, .Approver, .Admin).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      // The public routes (access: 'public' in functions/http), and the blob trigger's Event Grid
      // webhook, which Event Grid calls without a token (the blobs_extension key guards it).
      excludedPaths: ['/api/health', '/api/openapi.json', '/runtime/webhooks/blobs']
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: ['api://${authClientId}', authClientId]
        }
      }
    }
    login: { tokenStore: { enabled: false } }
  }
}

output name string = functionApp.name
