// Reader for the function app's identity on one subscription listed in PATCHPILOT_SUBSCRIPTION_IDS (optional:
// main.bicep inventoryReaderOnSubscriptions, off by default).
//
// Discovery (lib/azure/inventory.ts) is one Resource Graph query over the subscriptions, and Resource Graph returns
// only what the identity can read: Reader on the managed resource groups finds the machines there. Reader on the
// subscription widens discovery to tagged machines in any of its resource groups.
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
