// Role assignments for the function app's identity on ONE resource group that holds managed Arc machines and/or
// VM scale sets. main.bicep deploys this module once per entry of managedResourceGroups, at that group's scope
// (any subscription of the tenant).
targetScope = 'resourceGroup'

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

@description('Use the custom run-command role (runCommandRole.bicep: Arc machine and VMSS instance run commands only) instead of the built-in Hybrid Server Resource Administrator + Virtual Machine Contributor.')
param useCustomRunCommandRole bool = false

@description('Name (GUID) of the custom run-command role definition; used when useCustomRunCommandRole.')
param customRunCommandRoleName string = ''

@description('Managed-disk snapshots before install and restoreSnapshot remediation (issue 20): Disk Snapshot Contributor, and Virtual Machine Contributor for the OS-disk swap when the custom run-command role replaces it.')
param diskSnapshots bool = false

// Built-in roles (name and id) from infra/builtInRoles.json, checked against Microsoft's role list by roles.test.ts.
var builtInRoles = loadJsonContent('../builtInRoles.json')
var roleIds = {
  hybridServerResourceAdministrator: builtInRoles.hybridServerResourceAdministrator.id
  virtualMachineContributor: builtInRoles.virtualMachineContributor.id
  reader: builtInRoles.reader.id
  diskSnapshotContributor: builtInRoles.diskSnapshotContributor.id
}

var vmssRunCommandRoleId = useCustomRunCommandRole ? customRunCommandRoleName : roleIds.virtualMachineContributor

// ArcRunCommandClient (lib/azure/arcRunCommandClient.ts): PUT/GET/DELETE/list of
// Microsoft.HybridCompute/machines/runCommands. Hybrid Server Resource Administrator (Microsoft.HybridCompute/
// machines/*) is the narrowest BUILT-IN role with machines/runCommands/write: Azure Connected Machine Resource
// Administrator, used before, has machines/read|write|delete and extensions but no runCommands/write, so every
// Arc run command failed with 403. The custom role replaces it when useCustomRunCommandRole is true.
resource arcRunCommands 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!useCustomRunCommandRole) {
  name: guid(resourceGroup().id, principalId, roleIds.hybridServerResourceAdministrator)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.hybridServerResourceAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// VmssRunCommandClient (lib/azure/vmssRunCommandClient.ts) and VmRunCommandClient (lib/azure/vmRunCommandClient.ts)
// through ComputeManagementClient: run commands on Uniform scale-set instances and on Azure VMs / Flexible instances.
// Virtual Machine Contributor is the narrowest BUILT-IN role that can write VMSS VM run commands, but it can also
// manage the VMs themselves. The custom role (runCommandRole.bicep) holds only the Arc and VMSS run-command
// operations and the reads they target: set useCustomRunCommandRole = true (main.bicep) to create it and assign it
// here instead of both built-in roles.
resource vmssRunCommands 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, vmssRunCommandRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', useCustomRunCommandRole ? customRunCommandRoleName : roleIds.virtualMachineContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Inventory (lib/azure/inventory.ts: one Resource Graph query, which returns what the identity can read) and agent
// status (lib/azure/agentStatus.ts: one machine's GET / instance view). Reader (*/read) is the narrowest built-in
// role with those reads; here it makes the group's machines visible to discovery (subscriptionReader.bicep, off by
// default, widens that to whole subscriptions).
resource inventoryReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleIds.reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.reader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Issue 20 (lib/azure/snapshots/diskClient.ts, only when the policy takes snapshots): incremental snapshots of the
// VMs' disks, listed and deleted by retention. Disk Snapshot Contributor is the narrowest built-in role with
// snapshots/write|read|delete (it also reaches storage accounts: a custom role would be narrower).
resource diskSnapshotWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (diskSnapshots) {
  name: guid(resourceGroup().id, principalId, roleIds.diskSnapshotContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.diskSnapshotContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The restoreSnapshot remediation deallocates and starts the VM, creates a disk from the snapshot and swaps the VM's
// OS disk: Virtual Machine Contributor (virtualMachines/*, disks/*). Already assigned above unless the custom
// run-command role (which never manages VMs) replaces it.
resource osDiskRestore 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (diskSnapshots && useCustomRunCommandRole) {
  name: guid(resourceGroup().id, principalId, roleIds.virtualMachineContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.virtualMachineContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
