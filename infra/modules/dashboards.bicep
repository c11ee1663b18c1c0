// Fleet dashboards on the Log Analytics workspace: the Azure Monitor workbook (infra/dashboards/workbook.json) and two
// log search alert rules (infra/dashboards/alerts/*.kql). The queries are loaded from their files unchanged, so the
// portal runs exactly what test/unit/infra/dashboards.test.ts checks. Deploy after monitoring.bicep: the rules'
// queries are validated against the custom tables, which must exist (pass monitoring.outputs.workspaceId, which makes
// this module wait for the whole monitoring module, tables included).

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Resource id of the Log Analytics workspace that holds PatchPilotRuns_CL / PatchPilotUpdates_CL / PatchPilotWindows_CL.')
param workspaceId string

@description('Display name of the workbook.')
param workbookDisplayName string = 'PatchPilot fleet'

@description('Name of the "regression detected" (exit code 220) alert rule.')
param regressionAlertRuleName string

@description('Name of the "maintenance window halted" alert rule.')
param windowHaltedAlertRuleName string

@description('Base URL of the function app, e.g. https://func-x.azurewebsites.net (no trailing slash): the workbook links each open regression to its report.html under it. Empty: host-relative links.')
param apiBaseUrl string = ''

@description('Resource id of an action group the alerts notify (e-mail, SMS, webhook, ITSM). Empty: the alerts fire in Azure Monitor only.')
param actionGroupId string = ''

@description('Create the alert rules enabled.')
param alertsEnabled bool = true

// The workbook file carries two placeholders that only the deployment knows. Both values are plain resource ids and
// URLs (no quotes or backslashes), so they can be put into the JSON text as they are.
var workbookJson = replace(
  replace(loadTextContent('../dashboards/workbook.json'), '__PATCHPILOT_WORKSPACE_ID__', workspaceId),
  '__PATCHPILOT_API_BASE_URL__',
  apiBaseUrl
)

var actionGroups = empty(actionGroupId) ? [] : [
  actionGroupId
]

var runbook = 'docs/operations.md in the PatchPilot repository'

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; derived from the workspace so a redeployment updates the same workbook.
  name: guid(resourceGroup().id, workspaceId, 'patchpilot-fleet-workbook')
  location: location
  tags: union(tags, {
    'hidden-title': workbookDisplayName
  })
  kind: 'shared'
  properties: {
    displayName: workbookDisplayName
    category: 'workbook'
    version: 'Notebook/1.0'
    serializedData: workbookJson
    // Lower case: the portal lists a workbook under its resource only when sourceId matches the id's lower-case form.
    sourceId: toLower(workspaceId)
  }
}

// Exit code 220. The five-minute mean time to detect is the budget from the decision to the page: Logs Ingestion
// makes a row queryable typically within 1-3 minutes of the function sending it; a rule evaluated every minute adds
// at most one more, and the notification follows within seconds. The query itself decides what is new (ingested in
// the last 5 minutes, first copy of its RunId), because TimeGenerated is the decision time and a row delivered late by
// Event Grid retries would fall outside a 5-minute TimeGenerated window: the query runs over a day of TimeGenerated
// (overrideQueryTimeRange), windowSize is only the aggregation bin. One alert per run (RunId is a dimension); it is
// stateful (autoMitigate), so it fires once and resolves when the run is no longer new.
resource regressionAlert 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: regressionAlertRuleName
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'PatchPilot: regression detected (exit code 220)'
    description: 'A device run ended with 220 (ValidationFailure): a business-app check that passed before patching fails after it. The result row names the run, its failed checks and its report.html. Runbook: ${runbook}.'
    severity: 1
    enabled: alertsEnabled
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    overrideQueryTimeRange: 'P1D'
    criteria: {
      allOf: [
        {
          query: loadTextContent('../dashboards/alerts/regression-detected.kql')
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'Tenant'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'Client'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'Device'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'RunId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
      customProperties: {
        runbook: runbook
        exitCode: '220'
        eventType: 'io.patchpilot.regression.detected'
      }
    }
  }
}

// A window occurrence stopped by maxErrors or a ring gate. Less urgent than a regression (the stop already protected
// the rest of the fleet): severity 2, evaluated every 5 minutes over rows ingested in the last 10.
resource windowHaltedAlert 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: windowHaltedAlertRuleName
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'PatchPilot: maintenance window halted'
    description: 'A maintenance window occurrence stopped early: a client rollout reached maxErrors, or a ring gate kept the later rings from starting. HaltReasons says which; window-report.json lists every device. Runbook: ${runbook}.'
    severity: 2
    enabled: alertsEnabled
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    overrideQueryTimeRange: 'P1D'
    criteria: {
      allOf: [
        {
          query: loadTextContent('../dashboards/alerts/window-halted.kql')
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'Tenant'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'WindowId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'OccurrenceId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
      customProperties: {
        runbook: runbook
        eventType: 'io.patchpilot.window.halted'
      }
    }
  }
}

output workbookId string = workbook.id
output workbookName string = workbook.name
output regressionAlertRuleId string = regressionAlert.id
output windowHaltedAlertRuleId string = windowHaltedAlert.id
