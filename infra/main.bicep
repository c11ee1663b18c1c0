// PatchPilot: everything an MSP deploys into its own subscription. `azd up` provisions this and deploys the app
// (azure.yaml); docs/deploy.md. `npm test` compiles and lints this file and every module with the real Bicep
// compiler (restored from NuGet by `npm run tools`; test/unit/infra/bicepBuild.test.ts).
//
// Layout (all in one resource group unless noted):
//   modules/monitoring.bicep          Log Analytics, Application Insights, custom tables, DCE + DCR (logs/tables.json)
//   modules/hostStorage.bicep         Functions host + Durable task hub account, deployment package container
//   modules/evidenceStorage.bicep     evidence account: WORM container, staging/policies/exports, tables
//   modules/eventGrid.bicep           Event Grid custom topic (CloudEvents 1.0, Entra ID only)
//   modules/functionApp.bicep         Flex Consumption plan + function app, app settings, App Service Authentication
//   modules/roleAssignments.bicep     the app's roles on the resources above (+ optional operator)
//   modules/checkpointKey.bicep       Key Vault + EC P-256 key that signs log checkpoints; custom sign-only role
//   modules/managedResourceGroupRoles.bicep   per managed resource group (any subscription): run commands, inventory
//   modules/subscriptionReader.bicep  per managed subscription (optional): Reader for subscription-wide inventory
//   modules/runCommandRole.bicep      optional custom run-command role (Arc machines + VMSS instances)
//   modules/eventSubscription.bicep   topic -> ingestPatchEvents (after the code is deployed)
//   modules/dashboards.bicep          workbook + alert rules (220 regression, window halted) over the custom tables
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (must offer Flex Consumption).')
param location string

@description('Resource group to create; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('A resource group that holds managed Arc machines and/or VM scale sets.')
type managedResourceGroup = {
  @description('Subscription id (GUID) of the resource group.')
  subscriptionId: string
  @description('Resource group name.')
  resourceGroup: string
}

@description('Resource groups holding managed Arc machines / VM scale sets. The app gets run-command and read roles there, and their subscriptions become PATCHPILOT_SUBSCRIPTION_IDS.')
param managedResourceGroups managedResourceGroup[] = []

@description('Assign a custom role limited to Arc and VMSS run commands instead of Hybrid Server Resource Administrator + Virtual Machine Contributor.')
param useCustomRunCommandRole bool = false

@description('Managed-disk snapshots before install and restoreSnapshot remediation (issue 20, policy snapshots.mode beforeInstall): assign Disk Snapshot Contributor (and Virtual Machine Contributor with the custom run-command role) on each managed resource group.')
param diskSnapshots bool = false

@description('Assign Reader on each managed subscription: discovery (one Resource Graph query) then also finds tagged machines outside the managed resource groups. Off: Reader on the managed groups (always assigned) is enough for the machines there.')
param inventoryReaderOnSubscriptions bool = false

@description('Client id of the Entra ID app registration for App Service Authentication; empty = API keys only, PATCHPILOT_TRUST_CLIENT_PRINCIPAL false.')
param entraClientId string = ''

@description('Claim that lists the tenants an Entra ID principal may act for (PATCHPILOT_TENANTS_CLAIM).')
param tenantsClaim string = 'patchpilot_tenants'

@description('Create the Event Grid subscription to the ingestPatchEvents function; needs the code deployed first (set true, then azd provision again).')
param deployEventSubscription bool = false

@description('Resource id of an action group the 220 and window-halted alerts notify (on-call e-mail, SMS, webhook, ITSM); empty: alerts fire in Azure Monitor only.')
param alertActionGroupId string = ''

@description('Days each evidence blob version is immutable (default version-level retention of the evidence container).')
@minValue(1)
@maxValue(146000)
param evidenceRetentionDays int = 400

@description('Set true after locking the evidence retention policy, so provisioning no longer rewrites it.')
param evidenceRetentionLocked bool = false

@description('Replication of the evidence account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param evidenceStorageSku string = 'Standard_GRS'

@description('Object id that gets data access to the evidence account for `patchpilot apikey` and policy uploads (azd: AZURE_PRINCIPAL_ID, the signed-in user); empty = none.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
@description('Principal type of operatorPrincipalId.')
param operatorPrincipalType string = 'User'

@description('Flex Consumption: maximum instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: memory per instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Durable Functions backend: azureStorage (queues, tables and blobs in the host account; partitionCount in host.json) or azureManaged (the Durable Task Scheduler: a scheduler + task hub + Durable Task Data Contributor for the app; docs/scale.md).')
@allowed([
  'azureStorage'
  'azureManaged'
])
param durableBackend string = 'azureStorage'

@description('Durable Task Scheduler SKU when durableBackend = azureManaged.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

var tags = {
  'azd-env-name': environmentName
  application: 'patchpilot'
}

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var appName = 'func-patchpilot-${resourceToken}'

// Distinct subscriptions of the managed resource groups, in first-seen order.
// The checkpoint key's vault; its key URI is known before the vault exists, so the app's settings need no output of
// the module that grants the app its role (which needs the app's identity).
var checkpointVaultName = 'kv-pp-${resourceToken}'
var checkpointKeyUri = 'https://${checkpointVaultName}${environment().suffixes.keyvaultDns}/keys/checkpoint-signing'

var managedSubscriptionIds = reduce(map(managedResourceGroups, group => group.subscriptionId), [], (seen, id) => contains(seen, id) ? seen : concat(seen, [id]))

// The custom run-command role is defined once per managed subscription (assignable on that subscription's
// managed resource groups); its name is a GUID derived from the subscription and the environment.
var createCustomRunCommandRole = useCustomRunCommandRole && !empty(managedResourceGroups)

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: 'log-patchpilot-${resourceToken}'
    appInsightsName: 'appi-patchpilot-${resourceToken}'
    dataCollectionEndpointName: 'dce-patchpilot-${resourceToken}'
    dataCollectionRuleName: 'dcr-patchpilot-${resourceToken}'
    retentionInDays: logRetentionInDays
  }
}

module hostStorage 'modules/hostStorage.bicep' = {
  name: 'hostStorage'
  scope: rg
  params: {
    location: location
    tags: tags
    accountName: 'sthost${resourceToken}'
    deploymentContainerName: 'app-package'
  }
}

module evidenceStorage 'modules/evidenceStorage.bicep' = {
  name: 'evidenceStorage'
  scope: rg
  params: {
    location: location
    tags: tags
    accountName: 'stevid${resourceToken}'
    skuName: evidenceStorageSku
    evidenceRetentionDays: evidenceRetentionDays
    evidenceRetentionLocked: evidenceRetentionLocked
  }
}

module eventGrid 'modules/eventGrid.bicep' = {
  name: 'eventGrid'
  scope: rg
  params: {
    location: location
    tags: tags
    topicName: 'evgt-patchpilot-${resourceToken}'
  }
}

// The task hub's name is host.json's extensions.durableTask.hubName (the same for either backend).
var durableTaskHubName = 'PatchPilotHub'
var durableTaskSchedulerName = 'dts-patchpilot-${resourceToken}'

module durableTaskScheduler 'modules/durableTaskScheduler.bicep' = if (durableBackend == 'azureManaged') {
  name: 'durableTaskScheduler'
  scope: rg
  params: {
    location: location
    tags: tags
    schedulerName: durableTaskSchedulerName
    taskHubName: durableTaskHubName
    skuName: durableTaskSchedulerSku
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    location: location
    tags: tags
    appName: appName
    planName: 'plan-patchpilot-${resourceToken}'
    hostStorageAccountName: hostStorage.outputs.accountName
    deploymentContainerUrl: hostStorage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    evidenceBlobEndpoint: evidenceStorage.outputs.blobEndpoint
    evidenceTableEndpoint: evidenceStorage.outputs.tableEndpoint
    evidenceContainerName: evidenceStorage.outputs.evidenceContainerName
    stagingContainerName: evidenceStorage.outputs.stagingContainerName
    policyContainerName: evidenceStorage.outputs.policyContainerName
    exportContainerName: evidenceStorage.outputs.exportContainerName
    subscriptionIds: managedSubscriptionIds
    entraClientId: entraClientId
    tenantsClaim: tenantsClaim
    eventGridTopicEndpoint: eventGrid.outputs.topicEndpoint
    logsIngestionEndpoint: monitoring.outputs.logsIngestionEndpoint
    dataCollectionRuleImmutableId: monitoring.outputs.dataCollectionRuleImmutableId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    transparencyKeyId: checkpointKeyUri
    transparencyOrigin: '${appName}.azurewebsites.net/log'
    durableTaskSchedulerEndpoint: durableBackend == 'azureManaged' ? durableTaskScheduler!.outputs.endpoint : ''
  }
}

// After the function app (its identity), which is after the scheduler (its endpoint).
module durableTaskRole 'modules/durableTaskRole.bicep' = if (durableBackend == 'azureManaged') {
  name: 'durableTaskRole'
  scope: rg
  params: {
    principalId: functionApp.outputs.principalId
    schedulerName: durableTaskSchedulerName
    taskHubName: durableTaskHubName
  }
}

module checkpointKey 'modules/checkpointKey.bicep' = {
  name: 'checkpointKey'
  scope: rg
  params: {
    location: location
    tags: tags
    vaultName: checkpointVaultName
    keyName: 'checkpoint-signing'
    principalId: functionApp.outputs.principalId
    roleName: guid(subscription().id, 'patchpilot-checkpoint-signer', environmentName)
    roleDisplayName: 'PatchPilot Checkpoint Signer (${environmentName})'
  }
}

module roleAssignments 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  scope: rg
  params: {
    principalId: functionApp.outputs.principalId
    hostStorageAccountName: hostStorage.outputs.accountName
    evidenceAccountName: evidenceStorage.outputs.accountName
    topicName: eventGrid.outputs.topicName
    dataCollectionRuleName: monitoring.outputs.dataCollectionRuleName
    appInsightsName: monitoring.outputs.appInsightsName
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module runCommandRoles 'modules/runCommandRole.bicep' = [for (subscriptionId, i) in managedSubscriptionIds: if (createCustomRunCommandRole) {
  name: 'patchpilot-${resourceToken}-runcmd-role-${i}'
  scope: subscription(subscriptionId)
  params: {
    roleName: guid('/subscriptions/${subscriptionId}', 'patchpilot-vmss-run-command', environmentName)
    roleDisplayName: 'PatchPilot Run Command Operator (${environmentName}, ${subscriptionId})'
    managedResourceGroups: managedResourceGroups
  }
}]

module managedResourceGroupRoles 'modules/managedResourceGroupRoles.bicep' = [for (group, i) in managedResourceGroups: {
  name: 'patchpilot-${resourceToken}-rg-${i}'
  scope: resourceGroup(group.subscriptionId, group.resourceGroup)
  params: {
    principalId: functionApp.outputs.principalId
    useCustomRunCommandRole: createCustomRunCommandRole
    diskSnapshots: diskSnapshots
    customRunCommandRoleName: guid('/subscriptions/${group.subscriptionId}', 'patchpilot-vmss-run-command', environmentName)
  }
  dependsOn: [
    runCommandRoles
  ]
}]

module subscriptionReaders 'modules/subscriptionReader.bicep' = [for (subscriptionId, i) in managedSubscriptionIds: if (inventoryReaderOnSubscriptions) {
  name: 'patchpilot-${resourceToken}-sub-${i}'
  scope: subscription(subscriptionId)
  params: {
    principalId: functionApp.outputs.principalId
  }
}]

module eventSubscription 'modules/eventSubscription.bicep' = if (deployEventSubscription) {
  name: 'eventSubscription'
  scope: rg
  params: {
    topicName: eventGrid.outputs.topicName
    functionAppName: functionApp.outputs.appName
    topicPrincipalId: eventGrid.outputs.topicPrincipalId
    deadLetterStorageAccountName: hostStorage.outputs.accountName
    deadLetterContainerName: hostStorage.outputs.deadLetterContainerName
  }
  dependsOn: [
    roleAssignments
  ]
}

// Workbook (infra/dashboards/workbook.json) and the two alert rules (220, window halted) over the custom tables.
module dashboards 'modules/dashboards.bicep' = {
  name: 'dashboards'
  scope: rg
  params: {
    location: location
    tags: tags
    // From the monitoring module, so the rules are created after the tables their queries are validated against.
    workspaceId: monitoring.outputs.workspaceId
    regressionAlertRuleName: 'alert-patchpilot-${resourceToken}-regression'
    windowHaltedAlertRuleName: 'alert-patchpilot-${resourceToken}-window-halted'
    apiBaseUrl: 'https://${functionApp.outputs.defaultHostName}'
    actionGroupId: alertActionGroupId
  }
}

// ---- Outputs (azd stores them in .azure/<env>/.env) ------------------------------------------------------------
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.appName
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_FUNCTION_APP_PRINCIPAL_ID string = functionApp.outputs.principalId
output AZURE_HOST_STORAGE_ACCOUNT_NAME string = hostStorage.outputs.accountName
output AZURE_EVIDENCE_STORAGE_ACCOUNT_NAME string = evidenceStorage.outputs.accountName
// The same names as the app settings, so the operator CLI (patchpilot apikey, verify) can run with
// `azd env get-values` exported into its environment.
output PATCHPILOT_EVIDENCE_BLOB_ENDPOINT string = evidenceStorage.outputs.blobEndpoint
output PATCHPILOT_EVIDENCE_TABLE_ENDPOINT string = evidenceStorage.outputs.tableEndpoint
output PATCHPILOT_POLICY_CONTAINER string = evidenceStorage.outputs.policyContainerName
// The topic and the DCE/DCR, also set as the app's PATCHPILOT_EVENTGRID_* / PATCHPILOT_LOGS_* settings.
output AZURE_EVENTGRID_TOPIC_ENDPOINT string = eventGrid.outputs.topicEndpoint
output AZURE_LOGS_INGESTION_ENDPOINT string = monitoring.outputs.logsIngestionEndpoint
output AZURE_LOGS_DCR_IMMUTABLE_ID string = monitoring.outputs.dataCollectionRuleImmutableId
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.workspaceId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.appInsightsConnectionString
