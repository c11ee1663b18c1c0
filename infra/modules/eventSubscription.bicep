// Subscription of the app's Event Grid-triggered function `ingestPatchEvents` to the topic. Deployed only when
// main.bicep's deployEventSubscription is true: Event Grid validates an AzureFunction endpoint when the
// subscription is created, so the function must already be deployed (azd deploy) — see docs/deploy.md.

@description('Name of the existing topic.')
param topicName string

@description('Name of the existing function app that hosts ingestPatchEvents.')
param functionAppName string

@description('The Event Grid-triggered function events are delivered to.')
param functionName string = 'ingestPatchEvents'

resource topic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: topicName
}

resource functionApp 'Microsoft.Web/sites@2023-12-01' existing = {
  name: functionAppName
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
  }
}

output subscriptionName string = subscription.name
