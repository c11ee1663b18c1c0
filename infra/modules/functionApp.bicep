// The PatchPilot function app on Flex Consumption (Linux, Node.js 22), with a system-assigned managed identity,
// its app settings and (optionally) App Service Authentication with Entra ID.

@description('Azure region (must offer Flex Consumption: az functionapp list-flexconsumption-locations).')
param location string

@description('Tags for every resource.')
param tags object

@description('Function app name.')
param appName string

@description('App Service plan name.')
param planName string

@description('Host storage account (AzureWebJobsStorage__accountName: Functions host + Durable task hub).')
param hostStorageAccountName string

@description('URL of the blob container the platform deploys the package from.')
param deploymentContainerUrl string

@description('Application Insights connection string (not a secret; local auth is disabled on the component).')
param appInsightsConnectionString string

@description('Evidence account blob endpoint (https://<account>.blob.core.windows.net/).')
param evidenceBlobEndpoint string

@description('Evidence account table endpoint (https://<account>.table.core.windows.net/).')
param evidenceTableEndpoint string

@description('Immutable evidence container (PATCHPILOT_EVIDENCE_CONTAINER).')
param evidenceContainerName string

@description('Run Command output staging container (PATCHPILOT_STAGING_CONTAINER).')
param stagingContainerName string

@description('Policy documents container (PATCHPILOT_POLICY_CONTAINER).')
param policyContainerName string

@description('Export packages container (PATCHPILOT_EXPORT_CONTAINER).')
param exportContainerName string

@description('Key Vault key that signs transparency-log checkpoints (PATCHPILOT_TRANSPARENCY_KEY_ID).')
param transparencyKeyId string

@description('Origin prefix of the tenants\' transparency logs (PATCHPILOT_TRANSPARENCY_ORIGIN).')
param transparencyOrigin string

@description('Create-only SAS URL of the published-checkpoints container in another account (PATCHPILOT_CHECKPOINT_CONTAINER_URL); empty: none.')
@secure()
param checkpointContainerUrl string = ''

@description('Subscriptions whose Arc machines and scale sets are inventoried (PATCHPILOT_SUBSCRIPTION_IDS).')
param subscriptionIds array

@description('Client id of the Entra ID app registration for App Service Authentication; empty = no Entra ID callers (API keys only).')
param entraClientId string = ''

@description('Claim that lists the tenants an Entra ID principal may act for.')
param tenantsClaim string = 'patchpilot_tenants'

@description('Minutes an export download link (user delegation SAS) stays valid.')
@minValue(1)
@maxValue(1440)
param exportLinkMinutes int = 15

@description('Retries of one ARM call on 429/503/5xx before the orchestrator waits with a durable timer.')
@minValue(0)
@maxValue(10)
param armMaxRetries int = 3

@description('Upper bound of instances Flex Consumption scales out to (also caps ARM write pressure).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Event Grid topic endpoint run and window CloudEvents are published to (PATCHPILOT_EVENTGRID_TOPIC_ENDPOINT).')
param eventGridTopicEndpoint string

@description('Logs ingestion endpoint of the data collection endpoint (PATCHPILOT_LOGS_INGESTION_ENDPOINT).')
param logsIngestionEndpoint string

@description('Immutable id of the data collection rule (PATCHPILOT_LOGS_DCR_IMMUTABLE_ID).')
param dataCollectionRuleImmutableId string

@description('Durable Task Scheduler endpoint (https://<scheduler>.<region>.durabletask.io); empty: the Azure Storage backend of host.json.')
param durableTaskSchedulerEndpoint string = ''

@description('PATCHPILOT_ARM_PACING: client-side pacing at ARM\'s published per-subscription buckets (lib/azure/armPacer.ts).')
@allowed([
  'on'
  'off'
])
param armPacing string = 'on'

@description('PATCHPILOT_ARM_PACING_PERCENT: share of each published ARM bucket the pacer uses (headroom for the subscriptions\' other callers).')
@minValue(1)
@maxValue(100)
param armPacingPercent int = 100

var entraAuthEnabled = !empty(entraClientId)

// The Durable backend is a host.json choice; app settings override host.json keys (AzureFunctionsJobHost__<path>), so
// one package serves both. azureManaged: the Durable Task Scheduler through the managed identity (role:
// durableTaskRole.bicep), with the extension bundle that carries its provider for non-.NET apps.
var durableSchedulerSettings = empty(durableTaskSchedulerEndpoint)
  ? {}
  : {
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity'
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
      AzureFunctionsJobHost__extensionBundle__id: 'Microsoft.Azure.Functions.ExtensionBundle.Preview'
      AzureFunctionsJobHost__extensionBundle__version: '[4.29.0, 5.0.0)'
    }

// ---------------------------------------------------------------------------------------------------------------
// App settings, in two lists:
//   platformSettings   — read by the Functions host / Application Insights, not by PatchPilot.
//   patchPilotSettings — EXACTLY the keys of EnvSchema in lib/config/config.ts (test/unit/infra/infra.test.ts
//                        compares them), each documented in local.settings.sample.json.
// Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION
// and WEBSITE_RUN_FROM_PACKAGE must NOT be set. No setting holds a key or a connection string with a key.
// ---------------------------------------------------------------------------------------------------------------
var platformSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  // Telemetry with the managed identity (Monitoring Metrics Publisher on the component).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
}

var patchPilotSettings = {
  // The connection-string form is for Azurite only: the Functions host reads ANY value of AzureWebJobsStorage as a
  // connection string that wins over AzureWebJobsStorage__accountName, and a working one would hold the account
  // key. It is listed (EnvSchema declares it) but never deployed (settingsNotDeployed below).
  AzureWebJobsStorage: ''
  // Functions host + Durable task hub storage with the managed identity (roles: Storage Blob Data Contributor, Queue
  // Data Contributor, Table Data Contributor on the host account; see roleAssignments.bicep).
  AzureWebJobsStorage__accountName: hostStorageAccountName
  // Evidence account through the managed identity; the connection string is for Azurite only.
  PATCHPILOT_EVIDENCE_CONNECTION_STRING: ''
  PATCHPILOT_EVIDENCE_BLOB_ENDPOINT: evidenceBlobEndpoint
  PATCHPILOT_EVIDENCE_TABLE_ENDPOINT: evidenceTableEndpoint
  PATCHPILOT_EVIDENCE_CONTAINER: evidenceContainerName
  PATCHPILOT_STAGING_CONTAINER: stagingContainerName
  PATCHPILOT_POLICY_CONTAINER: policyContainerName
  // 0: the evidence container's default version-level retention (evidenceStorage.bicep) already makes every
  // version immutable. A per-blob policy (> 0) needs the data action
  // blobs/immutableStorage/runAsSuperUser/action, which can also shorten or delete unlocked policies, so the app
  // is deliberately not granted it.
  PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS: '0'
  PATCHPILOT_ALLOW_INSECURE_STORAGE: 'false'
  PATCHPILOT_ARM_ENDPOINT: environment().resourceManager
  PATCHPILOT_SUBSCRIPTION_IDS: join(subscriptionIds, ',')
  PATCHPILOT_ARM_CA_FILE: ''
  PATCHPILOT_ARM_MAX_RETRIES: string(armMaxRetries)
  PATCHPILOT_ARM_PACING: armPacing
  PATCHPILOT_ARM_PACING_PERCENT: string(armPacingPercent)
  PATCHPILOT_EXPORT_CONTAINER: exportContainerName
  PATCHPILOT_TRANSPARENCY_KEY_ID: transparencyKeyId
  PATCHPILOT_TRANSPARENCY_ORIGIN: transparencyOrigin
  // Local stack only (Azure signs with the Key Vault key above).
  PATCHPILOT_TRANSPARENCY_KEY_FILE: ''
  // Set after deployment to a create-only (rc) SAS URL of a container in another account with a locked immutability
  // policy (docs/evidence.md); empty: checkpoints are kept in the TransparencyLog table only.
  PATCHPILOT_CHECKPOINT_CONTAINER_URL: checkpointContainerUrl
  // Only true behind App Service Authentication (authsettingsV2 below), which sets x-ms-client-principal and
  // strips any copy a caller sends.
  PATCHPILOT_TRUST_CLIENT_PRINCIPAL: entraAuthEnabled ? 'true' : 'false'
  PATCHPILOT_TENANTS_CLAIM: tenantsClaim
  PATCHPILOT_EXPORT_LINK_MINUTES: string(exportLinkMinutes)
  // Events out (role: EventGrid Data Sender on the topic) and rows in (Monitoring Metrics Publisher on the DCR),
  // both with the managed identity.
  PATCHPILOT_EVENTGRID_TOPIC_ENDPOINT: eventGridTopicEndpoint
  PATCHPILOT_LOGS_INGESTION_ENDPOINT: logsIngestionEndpoint
  PATCHPILOT_LOGS_DCR_IMMUTABLE_ID: dataCollectionRuleImmutableId
}

// Keys of patchPilotSettings that are not written to the site: the local-only connection-string form above.
var settingsNotDeployed = [
  'AzureWebJobsStorage'
]

var deployedPatchPilotSettings = toObject(filter(items(patchPilotSettings), setting => !contains(settingsNotDeployed, setting.key)), setting => setting.key, setting => setting.value)

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2023-12-01' = {
  name: appName
  location: location
  // azd finds the app to deploy service `api` (azure.yaml) by this tag.
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Node.js 22 LTS: Node 20 reached end of life on 2026-04-30, and @azure/arm-compute declares node >= 22
      // (package.json engines says the same).
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(platformSettings, durableSchedulerSettings, deployedPatchPilotSettings)
}

// App Service Authentication (Easy Auth) with Entra ID. Unauthenticated requests are let through
// (AllowAnonymous) so RMM tools with x-api-key reach the functions, which authorize every call themselves
// (lib/api/auth). With a valid bearer token the platform sets x-ms-client-principal; it strips that header from
// every incoming request, which is what makes PATCHPILOT_TRUST_CLIENT_PRINCIPAL = 'true' safe.
resource auth 'Microsoft.Web/sites/config@2023-12-01' = if (entraAuthEnabled) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${entraClientId}'
            entraClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output appName string = functionApp.name
output appId string = functionApp.id
output principalId string = functionApp.identity.principalId
output defaultHostName string = functionApp.properties.defaultHostName
output entraAuthEnabled bool = entraAuthEnabled
