// Role assignments for the function app's identity on ONE resource group that holds managed Arc machines and/or
// VM scale sets. main.bicep deploys this module once per entry of managedResourceGroups, at that group's scope
// (any subscription of the tenant).
targetScope = 'resourceGroup'

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

@description('Use the custom VMSS run-command role (runCommandRole.bicep) instead of Virtual Machine Contributor.')
param useCustomRunCommandRole bool = false

@description('Name (GUID) of the custom VMSS run-command role definition; used when useCustomRunCommandRole.')
param customRunCommandRoleName string = ''

// Built-in role definition ids (the same in every tenant).
var roleIds = {
  connectedMachineResourceAdministrator: 'cd570a14-e51a-42ad-bac8-bafd67325302'
  virtualMachineContributor: '9980e02c-c2be-4d73-94e8-173b1dc7cf3c'
  reader: 'acdd72a7-3c19-4b77-a2f0-69bf1b1e21b0'
}

var vmssRunCommandRoleId = useCustomRunCommandRole ? customRunCommandRoleName : roleIds.virtualMachineContributor

// ArcRunCommandClient (lib/azure/arcRunCommandClient.ts): PUT/GET/DELETE/list of
// Microsoft.HybridCompute/machines/runCommands. The narrowest built-in role with machines/runCommands/write.
resource arcRunCommands 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleIds.connectedMachineResourceAdministrator)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.connectedMachineResourceAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// VmssRunCommandClient (lib/azure/vmssRunCommandClient.ts) through ComputeManagementClient
// virtualMachineScaleSetVMRunCommands: create, get, delete, list on scale-set instances.
// Virtual Machine Contributor is the narrowest BUILT-IN role that can write VMSS VM run commands, but it can also
// manage the VMs themselves. A custom role with only
//   Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/* and the scale-set/instance reads
// is narrower: set useCustomRunCommandRole = true (main.bicep) to create it (runCommandRole.bicep) and assign it
// here instead.
resource vmssRunCommands 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, vmssRunCommandRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', useCustomRunCommandRole ? customRunCommandRoleName : roleIds.virtualMachineContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Inventory (lib/azure/inventory.ts) through HybridComputeManagementClient and ComputeManagementClient: Arc
// machines, scale sets and their instances with instance views, tags. Reader at this group covers listing by
// resource group; listing by subscription (what discovery does today) needs read at the subscription, see
// subscriptionReader.bicep.
resource inventoryReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleIds.reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.reader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
