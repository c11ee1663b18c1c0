// The Durable Task Scheduler backend (main.bicep durableBackend = 'azureManaged'): a scheduler and the task hub the
// app's host.json names. The Functions host reaches it with the app's managed identity (Durable Task Data
// Contributor on the task hub: durableTaskRole.bicep, assigned once the app's identity exists).
// https://learn.microsoft.com/azure/durable-task/scheduler/durable-task-scheduler

@description('Azure region (the same as the function app: every orchestration step is a round trip to it).')
param location string

@description('Tags for every resource.')
param tags object

@description('Scheduler name (3-64 letters, digits and hyphens).')
@minLength(3)
@maxLength(64)
param schedulerName string

@description('Task hub name: the hubName of host.json (extensions.durableTask.hubName).')
param taskHubName string

@description('Consumption (pay per action) or Dedicated (capacity units, for sustained high throughput).')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('Dedicated SKU only: capacity units.')
@minValue(1)
param dedicatedCapacity int = 1

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: schedulerName
  location: location
  tags: tags
  properties: {
    // Access is by Entra ID role (Durable Task Data Contributor); the network allow-list stays open like the
    // Functions host's other endpoints (Flex Consumption without a VNet has no fixed outbound address).
    ipAllowlist: [
      '0.0.0.0/0'
    ]
    sku: skuName == 'Dedicated'
      ? {
          name: 'Dedicated'
          capacity: dedicatedCapacity
        }
      : {
          name: 'Consumption'
        }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

output schedulerName string = scheduler.name
output taskHubName string = taskHub.name
output endpoint string = scheduler.properties.endpoint
