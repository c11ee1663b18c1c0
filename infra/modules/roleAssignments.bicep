// Role assignments inside PatchPilot's own resource group: what the function app's managed identity needs on the
// host account, the evidence account, the Event Grid topic, the data collection rule and Application Insights,
// each the narrowest built-in role that covers the code path named beside it. Plus (optional) the operator who
// runs `patchpilot apikey` and uploads policy documents.
//
// Assignments on the resource groups of managed machines are in managedResourceGroupRoles.bicep.

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

@description('Host storage account name.')
param hostStorageAccountName string

@description('Evidence storage account name.')
param evidenceAccountName string

@description('Event Grid topic name.')
param topicName string

@description('Data collection rule name.')
param dataCollectionRuleName string

@description('Application Insights component name.')
param appInsightsName string

@description('Object id of an operator (azd: the signed-in user) who gets data access to the evidence account for `patchpilot apikey` and policy uploads; empty = none.')
param operatorPrincipalId string = ''

@description('Principal type of the operator.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

// Built-in roles, name and id (the same in every tenant), from the one table of infra/builtInRoles.json that
// test/unit/infra/roles.test.ts checks against Microsoft's published role definitions.
var builtInRoles = loadJsonContent('../builtInRoles.json')
var roleIds = {
  storageBlobDataContributor: builtInRoles.storageBlobDataContributor.id
  storageQueueDataContributor: builtInRoles.storageQueueDataContributor.id
  storageTableDataContributor: builtInRoles.storageTableDataContributor.id
  eventGridDataSender: builtInRoles.eventGridDataSender.id
  monitoringMetricsPublisher: builtInRoles.monitoringMetricsPublisher.id
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-01-01' existing = {
  name: hostStorageAccountName
}

resource evidenceAccount 'Microsoft.Storage/storageAccounts@2023-01-01' existing = {
  name: evidenceAccountName
}

resource topic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: topicName
}

resource dataCollectionRule 'Microsoft.Insights/dataCollectionRules@2022-06-01' existing = {
  name: dataCollectionRuleName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// ---- Host account: Functions host + Durable task hub (identity-based AzureWebJobsStorage__accountName) ----------

// Host blobs (leases, secrets, timer schedule status, Durable large messages and partition leases) and the Flex
// Consumption deployment package, which the platform reads with this identity (functionAppConfig.deployment.storage).
// Storage Blob Data Contributor covers every one of those operations (container create/read, blob
// read/write/delete; a lease is a blob write). The Functions docs suggest Storage Blob Data Owner, which adds only
// blobs/* beyond them (ACL and ownership changes on Data Lake accounts, immutability super-user): not needed, so
// the narrower role (roles.test.ts checks that no narrower built-in role would do).
resource hostBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, principalId, roleIds.storageBlobDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Durable task hub control and work-item queues (PatchPilotHub-control-*, -workitems).
resource hostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, principalId, roleIds.storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Durable task hub history and instances tables.
resource hostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, principalId, roleIds.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Evidence account ----------------------------------------------------------------------------------------

// BlobServiceClient (lib/azure/storageClients.ts): EvidenceStore writes/reads artifacts (lib/evidence/blobStore.ts),
// Run Command output staging (lib/azure/outputBlobSas.ts), policy documents (lib/policy), export packages
// (lib/export). Also getUserDelegationKey for the user delegation SAS of output blobs and export links, which
// Blob Data Contributor includes (Storage Blob Delegator alone would not let the app read and write the blobs).
resource evidenceBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(evidenceAccount.id, principalId, roleIds.storageBlobDataContributor)
  scope: evidenceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// TableClient (lib/azure/storageClients.ts): EvidenceIndex (Artifacts), Runs, Installs, Locks, ApiKeys, AuditLog,
// Exports, Ingestions.
resource evidenceTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(evidenceAccount.id, principalId, roleIds.storageTableDataContributor)
  scope: evidenceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Event Grid and Logs Ingestion ---------------------------------------------------------------------------

// EventGridPublisherClient (lib/azure/events/eventPublisher.ts): publish CloudEvents to the topic.
resource topicDataSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, roleIds.eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventGridDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// LogsIngestionClient (ingestPatchEvents, a later issue): upload rows to the DCR streams Custom-PatchPilotRuns and
// Custom-PatchPilotUpdates.
resource dcrMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataCollectionRule.id, principalId, roleIds.monitoringMetricsPublisher)
  scope: dataCollectionRule
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Functions host telemetry with Entra ID auth (APPLICATIONINSIGHTS_AUTHENTICATION_STRING; the component has local
// auth disabled).
resource appInsightsMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Operator (optional) -------------------------------------------------------------------------------------

// `patchpilot apikey issue|revoke|list` (local/cli/apiKeyCommand.ts) writes the ApiKeys table.
resource operatorTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(evidenceAccount.id, operatorPrincipalId, roleIds.storageTableDataContributor)
  scope: evidenceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

// Uploading policy documents to the policies container; `patchpilot apikey` also needs it today because it calls
// ensureStorage (container createIfNotExists) first.
resource operatorBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(evidenceAccount.id, operatorPrincipalId, roleIds.storageBlobDataContributor)
  scope: evidenceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
