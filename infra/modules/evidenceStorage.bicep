// The evidence account: every artifact (WORM), Run Command output staging, policy documents, export packages and
// PatchPilot's tables (lib/azure/storageClients.ts). Reached only with Entra ID (managed identity, user delegation
// SAS): shared keys are off, so no key or connection string exists to leak.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
param accountName string

@description('Replication. Evidence is the product: prefer a geo-redundant SKU (GRS/GZRS) in production.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_GRS'

@description('Days every evidence blob version is immutable (the container\'s default version-level retention).')
@minValue(1)
@maxValue(146000)
param evidenceRetentionDays int = 400

@description('True once the retention policy was locked (az storage container immutability-policy lock): a locked policy can only be extended, so the deployment then leaves it alone.')
param evidenceRetentionLocked bool = false

@description('Days deleted blobs and containers stay recoverable (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 30

@description('Days after which Run Command output staging blobs are deleted.')
@minValue(1)
param stagingRetentionDays int = 7

@description('Days after which evidence export packages (derived, rebuildable zip files) are deleted.')
@minValue(1)
param exportRetentionDays int = 30

// Container names: the defaults of PATCHPILOT_EVIDENCE_CONTAINER, _STAGING_CONTAINER, _POLICY_CONTAINER,
// _EXPORT_CONTAINER in lib/config/config.ts. functionApp.bicep sets those settings from the outputs below.
var evidenceContainerName = 'evidence'
var stagingContainerName = 'runcommand-output'
var policyContainerName = 'policies'
var exportContainerName = 'exports'

// lib/azure/storageClients.ts TABLES.
var tableNames = [
  'Runs'
  'Artifacts'
  'Installs'
  'Locks'
  'ApiKeys'
  'AuditLog'
  'Exports'
  'Ingestions'
  'TransparencyLog'
  'Quarantine'
]

resource account 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: accountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    // Entra ID only: no account keys, no account/service SAS (user delegation SAS still works).
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Public endpoint: Run Command agents on Arc machines (anywhere) write their output through a user delegation
    // SAS, and RMM/auditor downloads follow SAS links. Restrict with networkAcls/private endpoints where possible.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-01-01' = {
  parent: account
  name: 'default'
  properties: {
    // Required for version-level immutability; also every overwrite attempt leaves the old version.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

// WORM: version-level immutability. Every blob version written here is immutable for evidenceRetentionDays (the
// default policy below), on top of the app's own If-None-Match: * write-once creates (lib/evidence/blobStore.ts).
resource evidenceContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: evidenceContainerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

// Default time-based retention of the evidence container, Unlocked: it can still be shortened or removed by an
// administrator until someone locks it. Locking is irreversible (docs/deploy.md: "Lock the retention policy");
// after locking, deploy with evidenceRetentionLocked = true.
resource evidenceRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-01-01' = if (!evidenceRetentionLocked) {
  parent: evidenceContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: evidenceRetentionDays
    allowProtectedAppendWrites: false
  }
}

// Run Command output append blobs (lib/azure/outputBlobSas.ts): short-lived staging, not evidence (the backend
// stores the parsed artifact and the transcript in the evidence container).
resource stagingContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: stagingContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Policy layers, maintenance windows, client profiles (lib/policy): mutable configuration.
resource policyContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: policyContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Evidence export packages (lib/export): derived from evidence, deletable and rebuildable.
resource exportContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  parent: blobService
  name: exportContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Lifecycle: staging blobs and export packages expire (current blob and, with versioning on, its old versions).
// The evidence container has no rule: its blobs are kept (and cannot be deleted while retained anyway).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-runcommand-output'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'appendBlob'
                'blockBlob'
              ]
              prefixMatch: [
                '${stagingContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: stagingRetentionDays
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: stagingRetentionDays
                }
              }
            }
          }
        }
        {
          name: 'expire-exports'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${exportContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: exportRetentionDays
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: exportRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    stagingContainer
    exportContainer
  ]
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-01-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-01-01' = [for name in tableNames: {
  parent: tableService
  name: name
}]

output accountId string = account.id
output accountName string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
output evidenceContainerName string = evidenceContainer.name
output stagingContainerName string = stagingContainer.name
output policyContainerName string = policyContainer.name
output exportContainerName string = exportContainer.name
output tableNames array = [for (name, i) in tableNames: tables[i].name]
