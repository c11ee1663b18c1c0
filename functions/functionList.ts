import { app } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationHandler } from "durable-functions";
import { loadConfigFromProcessEnv } from "../lib/config/config";
import { ORCHESTRATORS } from "../orchestrators/activityNames";
import { clientRollout } from "../orchestrators/clientRollout";
import { devicePatchRun } from "../orchestrators/devicePatchRun";
import { evidenceExport } from "../orchestrators/evidenceExport";
import { EXPORT_ORCHESTRATOR } from "../orchestrators/exportNames";
import { maintenanceWindow } from "../orchestrators/maintenanceWindow";
import { emergencyDeployment } from "../orchestrators/emergencyDeployment";
import { activityDefinitions } from "./activityTable";
import { createAppDeps, type AppDeps, type FunctionDefinition, type OrchestratorDefinition } from "./definitions";
import { INGEST_FUNCTION_NAME, makeIngestPatchEvents } from "./eventGrid/ingestPatchEvents";
import { apiDefinitions } from "./http/api/apiRoutes";
import {
  makeGenerateScheduledComplianceReports,
  SCHEDULED_COMPLIANCE_SCHEDULE,
} from "./timers/generateScheduledComplianceReports";
import { makeStartDueWindows, START_DUE_WINDOWS_SCHEDULE } from "./timers/startDueWindows";

/** Every function definition, with handlers bound to dependencies that are resolved on first use. */
export function createDefinitions(getDeps: () => AppDeps): FunctionDefinition[] {
  const orchestrator = (name: string, handler: OrchestrationHandler): OrchestratorDefinition => ({
    kind: "orchestrator",
    name,
    handler,
  });
  return [
    ...activityDefinitions(getDeps),
    {
      kind: "eventGrid",
      name: INGEST_FUNCTION_NAME,
      handler: (event, context) => {
        const deps = getDeps();
        return makeIngestPatchEvents({ ledger: deps.ingestionLedger, ingester: deps.logsIngester })(event, context);
      },
    },
    orchestrator(ORCHESTRATORS.devicePatchRun, devicePatchRun),
    orchestrator(ORCHESTRATORS.clientRollout, clientRollout),
    orchestrator(ORCHESTRATORS.maintenanceWindow, maintenanceWindow),
    orchestrator(ORCHESTRATORS.emergencyDeployment, emergencyDeployment),
    {
      kind: "timer",
      name: "startDueWindows",
      schedule: START_DUE_WINDOWS_SCHEDULE,
      durableClient: true,
      handler: makeStartDueWindows(() => ({ listWindows: () => getDeps().policies.listWindows() })),
    },
    {
      kind: "timer",
      name: "generateScheduledComplianceReports",
      schedule: SCHEDULED_COMPLIANCE_SCHEDULE,
      handler: makeGenerateScheduledComplianceReports(() => {
        const deps = getDeps();
        return {
          evidence: deps.evidence,
          runs: deps.storage.tables.runs,
          arm: deps.arm,
          subscriptionIds: deps.config.arm.subscriptionIds,
        };
      }),
    },
    orchestrator(EXPORT_ORCHESTRATOR, evidenceExport),
    ...apiDefinitions(getDeps),
  ];
}

let deps: AppDeps | undefined;
// Config is parsed on first invocation, not at import: a bad setting then fails the invocation with a ConfigError
// naming the field, instead of the worker failing to load with no function listed.
function processDeps(): AppDeps {
  if (deps === undefined) {
    const config = loadConfigFromProcessEnv();
    deps = createAppDeps(config);
  }
  return deps;
}

/** The app's definitions as registered in Azure. */
export const definitions = createDefinitions(processDeps);

/** Registers one definition with the Functions host (a no-op with a warning in a plain Node process: @azure/functions test mode). */
export function registerDefinition(definition: FunctionDefinition): void {
  switch (definition.kind) {
    case "activity":
      df.app.activity(definition.name, { handler: definition.handler });
      return;
    case "orchestrator":
      df.app.orchestration(definition.name, definition.handler);
      return;
    case "entity":
      df.app.entity(definition.name, definition.handler);
      return;
    case "http":
      app.http(definition.name, {
        handler: definition.handler,
        ...(definition.route === undefined ? {} : { route: definition.route }),
        ...(definition.methods === undefined ? {} : { methods: definition.methods }),
        ...(definition.authLevel === undefined ? {} : { authLevel: definition.authLevel }),
        extraInputs: definition.durableClient ? [df.input.durableClient()] : [],
      });
      return;
    case "eventGrid":
      app.eventGrid<unknown>(definition.name, { handler: definition.handler });
      return;
    case "timer":
      app.timer(definition.name, {
        handler: definition.handler,
        schedule: definition.schedule,
        runOnStartup: definition.runOnStartup ?? false,
        extraInputs: definition.durableClient ? [df.input.durableClient()] : [],
      });
      return;
  }
}
