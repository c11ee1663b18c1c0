// Log Analytics workspace, workspace-based Application Insights, and the Logs Ingestion path for PatchPilot's own
// tables: custom tables + data collection endpoint + data collection rule, all declared from infra/logs/tables.json.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Log Analytics workspace name.')
param workspaceName string

@description('Application Insights component name.')
param appInsightsName string

@description('Data collection endpoint name.')
param dataCollectionEndpointName string

@description('Data collection rule name.')
param dataCollectionRuleName string

@description('Days Log Analytics keeps data (30 is included in the ingestion price; more is billed per GB per month).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

// The one source of the custom tables' columns (also read by tests that check the rows the app sends). Columns
// carry only `name` and `type`: the same objects go into the table schema and the DCR stream declaration.
var logTables = loadJsonContent('../logs/tables.json').tables

resource workspace 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry only with Entra ID auth (the app sets APPLICATIONINSIGHTS_AUTHENTICATION_STRING and holds
    // Monitoring Metrics Publisher on this component): a leaked connection string cannot be used to write.
    DisableLocalAuth: true
  }
}

// PatchPilotRuns_CL, PatchPilotUpdates_CL: Analytics plan so the dashboards and alert rules can query them.
resource customTables 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = [for table in logTables: {
  parent: workspace
  name: table.name
  properties: {
    plan: 'Analytics'
    retentionInDays: retentionInDays
    schema: {
      name: table.name
      description: table.description
      columns: table.columns
    }
  }
}]

resource dataCollectionEndpoint 'Microsoft.Insights/dataCollectionEndpoints@2022-06-01' = {
  name: dataCollectionEndpointName
  location: location
  tags: tags
  properties: {
    networkAcls: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// Streams Custom-PatchPilotRuns / Custom-PatchPilotUpdates, passed through unchanged ('source') into the tables.
resource dataCollectionRule 'Microsoft.Insights/dataCollectionRules@2022-06-01' = {
  name: dataCollectionRuleName
  location: location
  tags: tags
  properties: {
    dataCollectionEndpointId: dataCollectionEndpoint.id
    streamDeclarations: toObject(logTables, table => table.stream, table => {
      columns: table.columns
    })
    destinations: {
      logAnalytics: [
        {
          name: 'patchpilotWorkspace'
          workspaceResourceId: workspace.id
        }
      ]
    }
    dataFlows: [for table in logTables: {
      streams: [
        table.stream
      ]
      destinations: [
        'patchpilotWorkspace'
      ]
      transformKql: 'source'
      outputStream: 'Custom-${table.name}'
    }]
  }
  // The DCR refuses an output stream whose table does not exist yet.
  dependsOn: [
    customTables
  ]
}

// Workbook and alert rules: a later issue adds them here, e.g.
// module dashboards 'dashboards.bicep' = {
//   name: 'dashboards'
//   params: { location: location, tags: tags, workspaceId: workspace.id }
// }

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output workspaceCustomerId string = workspace.properties.customerId
output appInsightsName string = appInsights.name
output appInsightsConnectionString string = appInsights.properties.ConnectionString
output dataCollectionEndpointName string = dataCollectionEndpoint.name
output logsIngestionEndpoint string = dataCollectionEndpoint.properties.logsIngestion.endpoint
output dataCollectionRuleName string = dataCollectionRule.name
output dataCollectionRuleImmutableId string = dataCollectionRule.properties.immutableId
output customTableNames array = [for (table, i) in logTables: customTables[i].name]
