// The key that signs the tenants' transparency-log checkpoints (lib/transparency/keyVaultKey.ts), and the app's
// right to use it. Key Vault has no Ed25519 keys, so the key is EC P-256, signed with ES256: the C2SP signed-note
// type 0x02 (ECDSA). The private key is created in the vault and cannot be exported (not marked exportable, no
// release policy). The app gets a custom role with keys/read (the public key, to publish it) and keys/sign/action
// only: the narrowest built-in role that can sign, Key Vault Crypto User, also grants update, backup, encrypt,
// decrypt, wrap and unwrap (test/unit/infra/roles.test.ts checks this against Microsoft's role list).

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Key vault name (3-24 characters, globally unique).')
param vaultName string

@description('Name of the checkpoint signing key.')
param keyName string = 'checkpoint-signing'

@description('The function app\'s managed identity (principal id).')
param principalId string

@description('Role definition name (a GUID), unique per deployment.')
param roleName string

@description('Display name of the custom role, unique in the Entra tenant.')
param roleDisplayName string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
  }
}

resource key 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: keyName
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
      exportable: false
    }
  }
}

resource signerRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: roleName
  properties: {
    roleName: roleDisplayName
    description: 'PatchPilot: read a Key Vault key (its public half) and sign with it; nothing else.'
    type: 'customRole'
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/keys/read'
          'Microsoft.KeyVault/vaults/keys/sign/action'
        ]
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource signerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, signerRole.id)
  scope: vault
  properties: {
    roleDefinitionId: signerRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output vaultName string = vault.name
output keyUri string = key.properties.keyUri
