// Event Grid custom topic for PatchPilot's patch events (CloudEvents 1.0). Publishers authenticate with Entra ID
// only (EventGrid Data Sender role); access keys and SAS tokens are disabled.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Topic name.')
param topicName string

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: topicName
  location: location
  tags: tags
  // The topic's own identity writes undeliverable events to the dead-letter container (eventSubscription.bicep).
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output topicId string = topic.id
output topicName string = topic.name
output topicEndpoint string = topic.properties.endpoint
output topicPrincipalId string = topic.identity.principalId
