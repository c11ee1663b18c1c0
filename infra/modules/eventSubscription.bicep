// Subscription of the app's Event Grid-triggered function `ingestPatchEvents` to the topic. Deployed only when
// main.bicep's deployEventSubscription is true: Event Grid validates an AzureFunction endpoint when the
// subscription is created, so the function must already be deployed (azd deploy) — see docs/deploy.md.

@description('Name of the existing topic.')
param topicName string

@description('Name of the existing function app that hosts ingestPatchEvents.')
param functionAppName string

@description('The Event Grid-triggered function events are delivered to.')
param functionName string = 'ingestPatchEvents'

@description('Principal id of the topic\'s system identity (writes dead letters).')
param topicPrincipalId string

@description('Storage account (the host account) that holds the dead-letter container.')
param deadLetterStorageAccountName string

@description('Container for events that could not be delivered within the retry policy.')
param deadLetterContainerName string

// Storage Blob Data Contributor: the topic's identity writes dead-lettered events as blobs.
var storageBlobDataContributor = loadJsonContent('../builtInRoles.json').storageBlobDataContributor.id

resource topic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: topicName
}

resource functionApp 'Microsoft.Web/sites@2023-12-01' existing = {
  name: functionAppName
}

resource deadLetterAccount 'Microsoft.Storage/storageAccounts@2023-01-01' existing = {
  name: deadLetterStorageAccountName
}

resource deadLetterBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-01-01' existing = {
  parent: deadLetterAccount
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' existing = {
  parent: deadLetterBlobService
  name: deadLetterContainerName
}

// Scoped to the one container: the topic can write dead letters and nothing else on the host account.
resource topicDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, topicPrincipalId, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: topicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource subscription 'Microsoft.EventGrid/topics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: functionName
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    // Only the types that become rows (lib/azure/logs/toLogRows.ts); the alert types repeat run.completed's data
    // and go to on-call subscribers (webhook, Logic App) added beside this one.
    filter: {
      includedEventTypes: [
        'io.patchpilot.run.completed'
        'io.patchpilot.window.completed'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    // What ingestPatchEvents could not take (Logs Ingestion down for a day, a malformed event) is kept whole.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterAccount.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
  dependsOn: [
    topicDeadLetterWriter
  ]
}

output subscriptionName string = subscription.name
