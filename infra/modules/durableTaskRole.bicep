// Durable Task Data Contributor for the function app's identity on its task hub (durableBackend = 'azureManaged'):
// the Functions host schedules, runs and queries orchestrations and activities through the scheduler with it.
// Built-in role from infra/builtInRoles.json (checked against Microsoft's role list by test/unit/infra).

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

@description('Scheduler name.')
param schedulerName string

@description('Task hub name.')
param taskHubName string

var builtInRoles = loadJsonContent('../builtInRoles.json')

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' existing = {
  name: schedulerName
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' existing = {
  parent: scheduler
  name: taskHubName
}

resource durableTaskDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, principalId, builtInRoles.durableTaskDataContributor.id)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      builtInRoles.durableTaskDataContributor.id
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
