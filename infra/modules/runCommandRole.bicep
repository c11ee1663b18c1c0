// Optional custom role, narrower than Virtual Machine Contributor and Hybrid Server Resource Administrator, for run
// commands: manage run commands on Arc machines (lib/azure/arcRunCommandClient.ts), on Uniform scale-set instances
// (lib/azure/vmssRunCommandClient.ts) and on Azure VMs / Flexible instances (lib/azure/vmRunCommandClient.ts), and
// read the machines, scale sets and instances they target; for the loadBalancerDrain hook (issue 20), read and write
// VM NICs and join (read) load-balancer backend pools; nothing else
// (no VM start/stop/redeploy, no extensions, no disks, no other network writes, no Arc machine writes).
// Created when main.bicep's useCustomRunCommandRole is true, once per managed subscription, assignable only on
// that subscription's managed resource groups.
targetScope = 'subscription'

@description('Role definition name (a GUID).')
param roleName string

@description('Display name, unique in the Entra tenant.')
param roleDisplayName string

@description('All managed resource groups ({ subscriptionId, resourceGroup }); those of this subscription become the assignable scopes.')
param managedResourceGroups array

var assignableScopes = map(filter(managedResourceGroups, group => group.subscriptionId == subscription().subscriptionId), group => '/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}')

resource runCommandRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: roleName
  properties: {
    roleName: roleDisplayName
    description: 'PatchPilot: create, read and delete Run Commands on Arc machines, VM scale set instances and VMs, and read the machines, scale sets, instances and VMs.'
    type: 'customRole'
    permissions: [
      {
        actions: [
          'Microsoft.HybridCompute/machines/read'
          'Microsoft.HybridCompute/machines/runCommands/*'
          'Microsoft.Compute/virtualMachineScaleSets/read'
          'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read'
          'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/*'
          'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read'
          'Microsoft.Compute/virtualMachines/read'
          'Microsoft.Compute/virtualMachines/instanceView/read'
          'Microsoft.Compute/virtualMachines/runCommands/*'
          'Microsoft.Network/networkInterfaces/read'
          'Microsoft.Network/networkInterfaces/write'
          'Microsoft.Network/loadBalancers/backendAddressPools/read'
          'Microsoft.Network/loadBalancers/backendAddressPools/join/action'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

output roleDefinitionId string = runCommandRole.id
