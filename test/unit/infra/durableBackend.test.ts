// The Durable backend choice of infra/main.bicep (durableBackend), through the real Bicep compiler: 'azureManaged'
// deploys a Durable Task Scheduler, the task hub host.json names and the Durable Task Data Contributor role for the
// app's identity (role id from Microsoft's published list, test/fixtures/reference/azure-built-in-roles), and points
// the Functions host at it; the default deploys none of it and leaves host.json's Azure Storage provider.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeWithTool } from "../../harness/tools";
import { deployedResources, type DeployedResource } from "./armExpressions";
import { buildParams, describeDiagnostics, runBicep } from "./bicepCli";

const ROOT = resolve(__dirname, "../../..");
const MANAGED = join(__dirname, "fixtures/durable/azureManaged.bicepparam");
const DEFAULTS = join(__dirname, "fixtures/defaults.bicepparam");
const TARGET = { subscriptionId: "00000000-0000-0000-0000-0000000000aa" };

// The Durable Task roles are in the list's summary part (name and id as Microsoft publishes them, no actions).
const reference = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/reference/azure-built-in-roles/roles.json"), "utf8"),
) as { roles: { name: string; id: string }[]; summaryOnly?: { roles: { name: string; id: string }[] } };
const publishedRoleId = (name: string): string | undefined =>
  [...reference.roles, ...(reference.summaryOnly?.roles ?? [])].find((r) => r.name === name)?.id.toLowerCase();

const hostJson = JSON.parse(readFileSync(join(ROOT, "host.json"), "utf8")) as {
  extensions: { durableTask: { hubName: string; storageProvider?: { type?: string; partitionCount?: number } } };
};
const HUB = hostJson.extensions.durableTask.hubName;

function deploy(paramFile: string): DeployedResource[] {
  const { parameters, template } = buildParams(paramFile);
  return deployedResources(template as never, parameters, TARGET);
}

/**
 * The settings the scheduler adds to the app (functionApp.bicep's durableSchedulerSettings, evaluated in the deployed
 * module's scope); the app settings resource must union them in.
 */
function schedulerSettingsOf(resources: readonly DeployedResource[]): Record<string, string> {
  const settings = resources.find(
    (r) => r.type === "Microsoft.Web/sites/config" && String(r.scope.evaluate(r.resource.name)).endsWith("appsettings"),
  );
  if (settings === undefined) throw new Error("no app settings resource");
  expect(JSON.stringify(settings.resource.properties)).toContain("variables('durableSchedulerSettings')");
  return settings.scope.variable("durableSchedulerSettings") as Record<string, string>;
}

describeWithTool(["bicep"], "infra: the Durable backend parameter", () => {
  it("compiles with durableBackend = 'azureManaged' with no error and no warning (the API version is one Bicep knows)", () => {
    const run = runBicep(["build-params", MANAGED, "--stdout"]);
    expect({ diagnostics: describeDiagnostics(run.diagnostics), exit: run.status }).toEqual({
      diagnostics: [],
      exit: 0,
    });
  });

  describe("azureManaged", () => {
    let resources: DeployedResource[];
    beforeAll(() => {
      resources = deploy(MANAGED);
    });

    it("deploys a scheduler and the task hub host.json names", () => {
      expect(resources.filter((r) => r.type === "Microsoft.DurableTask/schedulers")).toHaveLength(1);
      const hubs = resources.filter((r) => r.type === "Microsoft.DurableTask/schedulers/taskHubs");
      expect(hubs.map((h) => String(h.scope.evaluate(h.resource.name)).split("/").pop())).toEqual([HUB]);
    });

    it("gives the app's identity the published Durable Task Data Contributor role on the task hub", () => {
      const roleId = publishedRoleId("Durable Task Data Contributor");
      expect(roleId).toMatch(/^[0-9a-f-]{36}$/);
      const assignments = resources
        .filter((r) => r.type === "Microsoft.Authorization/roleAssignments")
        .map((r) => ({
          properties: r.scope.evaluate(r.resource.properties) as { roleDefinitionId: string; principalId: string },
          scope: String(r.scope.evaluate(r.resource.scope)),
        }))
        .filter((a) => a.properties.roleDefinitionId.toLowerCase().endsWith(`/${roleId ?? "?"}`));
      expect(assignments).toHaveLength(1);
      expect(assignments[0]?.properties.principalId).toMatch(/functionApp.*principalId/);
      expect(assignments[0]?.scope).toMatch(
        new RegExp(`/Microsoft\\.DurableTask/schedulers/[^/]+/taskHubs/${HUB}$`, "i"),
      );
    });

    it("points the Functions host at the scheduler with its managed identity", () => {
      const settings = schedulerSettingsOf(resources);
      expect(settings.AzureFunctionsJobHost__extensions__durableTask__storageProvider__type).toBe("azureManaged");
      const name = settings.AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName;
      expect(name).toBeDefined();
      expect(settings[name ?? ""]).toMatch(/^Endpoint=.+;Authentication=ManagedIdentity$/);
    });
  });

  it("deploys none of it by default: host.json's Azure Storage provider stays, with its partition count", () => {
    const resources = deploy(DEFAULTS);
    expect(resources.filter((r) => r.type.startsWith("Microsoft.DurableTask/"))).toEqual([]);
    expect(schedulerSettingsOf(resources)).toEqual({});
    // Azure Storage provider: 1 to 16 partitions (Durable Functions docs, "Azure Storage provider": partitionCount).
    const partitions = hostJson.extensions.durableTask.storageProvider?.partitionCount;
    expect(partitions).toBeGreaterThanOrEqual(1);
    expect(partitions).toBeLessThanOrEqual(16);
  });
});
