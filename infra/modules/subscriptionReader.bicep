// Reader for the function app's identity on one subscription listed in PATCHPILOT_SUBSCRIPTION_IDS.
//
// Why at the subscription: discovery (functions/activities/discoverWindowTargets.ts -> lib/azure/inventory.ts
// listDevices without a resourceGroup) calls machines.listBySubscription and virtualMachineScaleSets.listAll, and
// ARM authorizes a subscription-level list at the subscription scope: Reader on the resource groups alone answers
// 403 there. Turn this off (main.bicep inventoryReaderOnSubscriptions = false) once discovery lists per managed
// resource group (InventoryScope.resourceGroup exists already); docs/deploy.md "Known gaps".
targetScope = 'subscription'

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

// Built-in role (name and id) from infra/builtInRoles.json, checked against Microsoft's role list by roles.test.ts.
var roleIds = {
  reader: loadJsonContent('../builtInRoles.json').reader.id
}

// Inventory (lib/azure/inventory.ts): HybridComputeManagementClient machines.listBySubscription,
// ComputeManagementClient virtualMachineScaleSets.listAll.
resource subscriptionReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleIds.reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.reader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
