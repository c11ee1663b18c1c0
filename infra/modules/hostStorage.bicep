// The Functions host account: host state, timer leases, the Durable task hub (PatchPilotHub queues, tables, blobs)
// and the Flex Consumption deployment package container. Reached with the app's managed identity only
// (AzureWebJobsStorage__accountName; functionAppConfig.deployment.storage.authentication SystemAssignedIdentity).

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
param accountName string

@description('Container the Flex Consumption platform deploys the app package from.')
param deploymentContainerName string

resource account 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: accountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // Task hub state is rebuilt by re-running windows; locally redundant is enough.
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Events ingestPatchEvents could not take within Event Grid's retry budget (30 attempts, 24 h): kept whole here,
// written by the topic's own identity (eventSubscription.bicep), so no row is lost silently.
resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: 'eventgrid-deadletter'
  properties: {
    publicAccess: 'None'
  }
}

output accountId string = account.id
output deadLetterContainerName string = deadLetterContainer.name
output accountName string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
