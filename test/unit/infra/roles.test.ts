// Every role assignment infra/ deploys, checked against Microsoft's published built-in role definitions
// (test/fixtures/reference/azure-built-in-roles/roles.json, copied verbatim from the shared reference folder; see
// test/fixtures/reference/README.md): the role id exists, carries the name infra/builtInRoles.json gives it, and
// its actions/dataActions cover every operation of the code path the assignment is for, with no narrower
// built-in role that would cover them as well.
//
// What is checked is what the real Bicep compiler produces: main.bicep is compiled with each parameter file of
// fixtures/ (both values of every feature flag), and the ARM template is walked (armExpressions.ts) to find the
// role assignments that deployment would create, with their role id, principal and scope.
//
// The operations each code path performs are written here, from Microsoft's documentation of the data and
// management operations (sources beside each), not copied from infra/. Nothing here names a role id.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describeWithTool } from "../../harness/tools";
import { deployedResources, type DeployedResource } from "./armExpressions";
import { buildParams } from "./bicepCli";

const ROOT = resolve(__dirname, "../../..");
const FIXTURES = join(__dirname, "fixtures");
const REFERENCE = join(ROOT, "test/fixtures/reference/azure-built-in-roles/roles.json");

interface ReferenceRole {
  name: string;
  id: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}
const reference = JSON.parse(readFileSync(REFERENCE, "utf8")) as {
  roles: ReferenceRole[];
  /** Roles Microsoft lists by name and id only (no actions published with them): the Durable Task roles, say. */
  summaryOnly?: { roles?: { name: string; id: string }[] };
};
const referenceById = new Map(reference.roles.map((r) => [r.id.toLowerCase(), r]));

/** infra/builtInRoles.json: the one table of built-in roles (name, id) the Bicep modules load. */
const builtInRoles = JSON.parse(readFileSync(join(ROOT, "infra/builtInRoles.json"), "utf8")) as Record<
  string,
  { name: string; id: string }
>;

// ---- Operations -----------------------------------------------------------------------------------------------

/** A management-plane action ("A") or a data action ("D"), as Azure RBAC names them. */
type Operation = `A:${string}` | `D:${string}`;

const BLOB = "Microsoft.Storage/storageAccounts/blobServices";
const QUEUE = "Microsoft.Storage/storageAccounts/queueServices";
const TABLE = "Microsoft.Storage/storageAccounts/tableServices";

// Storage data operations -> permissions: "Permissions for calling data operations" (learn.microsoft.com/rest/api/
// storageservices/authorize-with-azure-active-directory#permissions-for-calling-data-operations) and the Azure
// resource provider operations list for Microsoft.Storage (learn.microsoft.com/azure/role-based-access-control/
// permissions/storage).
const OPS = {
  /** Create Container (createIfNotExists), Get Container Properties. */
  containersCreate: [`A:${BLOB}/containers/write`, `A:${BLOB}/containers/read`],
  /** Get Blob, Get Blob Properties, List Blobs. */
  blobsRead: [`D:${BLOB}/containers/blobs/read`],
  /** Put Blob, Put Block (List), Append Block, Lease Blob (acquire/renew/release: a write). */
  blobsWrite: [`D:${BLOB}/containers/blobs/write`],
  blobsDelete: [`D:${BLOB}/containers/blobs/delete`],
  /** Get User Delegation Key (the key a user delegation SAS is signed with). */
  userDelegationKey: [`A:${BLOB}/generateUserDelegationKey/action`],
  /** Create Queue, Get Queue Metadata. */
  queuesCreate: [`A:${QUEUE}/queues/write`, `A:${QUEUE}/queues/read`],
  /** Put Message, Update Message; Peek/Get Messages; Delete Message; Get Messages (dequeue) = process. */
  queueMessages: [
    `D:${QUEUE}/queues/messages/write`,
    `D:${QUEUE}/queues/messages/read`,
    `D:${QUEUE}/queues/messages/delete`,
    `D:${QUEUE}/queues/messages/process/action`,
  ],
  /** Create Table, Query Tables. */
  tablesCreate: [`A:${TABLE}/tables/write`, `A:${TABLE}/tables/read`],
  /** Query Entities; Insert, Update/Merge, Insert-or-Replace, Delete Entity; Entity Group Transaction. */
  entities: [
    `D:${TABLE}/tables/entities/read`,
    `D:${TABLE}/tables/entities/write`,
    `D:${TABLE}/tables/entities/add/action`,
    `D:${TABLE}/tables/entities/update/action`,
    `D:${TABLE}/tables/entities/delete`,
  ],
  // Microsoft.EventGrid operations: "events/send/action" (Event Grid docs, "Authenticate publishing clients using
  // Microsoft Entra ID").
  eventGridSend: ["D:Microsoft.EventGrid/events/send/action"],
  // Logs Ingestion API and Application Insights with Entra ID auth both authorize Microsoft.Insights/Telemetry/Write
  // (Azure Monitor docs: "Logs Ingestion API", "Microsoft Entra authentication for Application Insights").
  telemetryWrite: ["D:Microsoft.Insights/Telemetry/Write"],
  // Microsoft.HybridCompute operations (Arc): machines/read, machines/runCommands/read|write|delete.
  arcMachineRead: ["A:Microsoft.HybridCompute/machines/read"],
  arcRunCommands: [
    "A:Microsoft.HybridCompute/machines/runCommands/write",
    "A:Microsoft.HybridCompute/machines/runCommands/read",
    "A:Microsoft.HybridCompute/machines/runCommands/delete",
  ],
  // Microsoft.Compute operations: virtualMachineScaleSets/read, .../virtualMachines/read (list, with
  // $expand=instanceView), .../virtualMachines/runCommands/read|write|delete.
  scaleSetRead: [
    "A:Microsoft.Compute/virtualMachineScaleSets/read",
    "A:Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
  ],
  // Reboot waits read one machine's instance view; Azure VMs and Flexible instances are virtualMachines.
  instanceViewRead: [
    "A:Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read",
    "A:Microsoft.Compute/virtualMachines/read",
    "A:Microsoft.Compute/virtualMachines/instanceView/read",
  ],
  vmRunCommands: [
    "A:Microsoft.Compute/virtualMachines/runCommands/write",
    "A:Microsoft.Compute/virtualMachines/runCommands/read",
    "A:Microsoft.Compute/virtualMachines/runCommands/delete",
  ],
  // Microsoft.Network (issue 20, load-balancer drain): list/read a VM's NICs, PUT one with other backend pools (joining a
  // pool is the pool's join/action), read a pool's members to verify.
  lbDrain: [
    "A:Microsoft.Network/networkInterfaces/read",
    "A:Microsoft.Network/networkInterfaces/write",
    "A:Microsoft.Network/loadBalancers/backendAddressPools/join/action",
    "A:Microsoft.Network/loadBalancers/backendAddressPools/read",
  ],
  // Microsoft.KeyVault data actions (Azure resource provider operations, Microsoft.KeyVault): Get Key = keys/read,
  // Sign = keys/sign/action.
  keyRead: ["D:Microsoft.KeyVault/vaults/keys/read"],
  keySign: ["D:Microsoft.KeyVault/vaults/keys/sign/action"],
  // Issue 20 (Microsoft.Compute operations): snapshots of the VMs' disks (create, list, delete by retention) and the
  // restoreSnapshot remediation's OS-disk swap (VM read/write, deallocate, start; disk create from a snapshot).
  diskSnapshots: [
    "A:Microsoft.Compute/virtualMachines/read",
    "A:Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
    "A:Microsoft.Compute/snapshots/write",
    "A:Microsoft.Compute/snapshots/read",
    "A:Microsoft.Compute/snapshots/delete",
  ],
  osDiskRestore: [
    "A:Microsoft.Compute/virtualMachines/write",
    "A:Microsoft.Compute/virtualMachines/deallocate/action",
    "A:Microsoft.Compute/virtualMachines/start/action",
    "A:Microsoft.Compute/disks/write",
    "A:Microsoft.Compute/disks/read",
  ],
  vmssRunCommands: [
    "A:Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/write",
    "A:Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/read",
    "A:Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/delete",
  ],
} satisfies Record<string, Operation[]>;

// ---- Code paths ----------------------------------------------------------------------------------------------

/** Principals, as the deployment names them (module outputs stay symbolic: see armExpressions.ts). */
const APP = "ref:functionApp.outputs.principalId.value";
const TOPIC = "ref:eventGrid.outputs.topicPrincipalId.value";

interface Deployment {
  file: string;
  parameters: Record<string, unknown>;
  resources: DeployedResource[];
}

/** Scopes, as resource ids of this deployment (the app's resource group in the deployment subscription SUB0). */
const scopes = (d: Deployment) => {
  const rg = `/subscriptions/SUB0/resourceGroups/rg-${String(d.parameters.environmentName)}`;
  const groups = (d.parameters.managedResourceGroups ?? []) as { subscriptionId: string; resourceGroup: string }[];
  return {
    hostStorage: `${rg}/providers/Microsoft.Storage/storageAccounts/ref:hostStorage.outputs.accountName.value`,
    deadLetterContainer: `${rg}/providers/Microsoft.Storage/storageAccounts/ref:hostStorage.outputs.accountName.value/blobServices/default/containers/ref:hostStorage.outputs.deadLetterContainerName.value`,
    evidenceAccount: `${rg}/providers/Microsoft.Storage/storageAccounts/ref:evidenceStorage.outputs.accountName.value`,
    topic: `${rg}/providers/Microsoft.EventGrid/topics/ref:eventGrid.outputs.topicName.value`,
    dataCollectionRule: `${rg}/providers/Microsoft.Insights/dataCollectionRules/ref:monitoring.outputs.dataCollectionRuleName.value`,
    appInsights: `${rg}/providers/Microsoft.Insights/components/ref:monitoring.outputs.appInsightsName.value`,
    checkpointVault: `${rg}/providers/Microsoft.KeyVault/vaults/${vaultName(d)}`,
    managedGroups: groups.map((g) => `/subscriptions/${g.subscriptionId}/resourceGroups/${g.resourceGroup}`),
    managedSubscriptions: [...new Set(groups.map((g) => `/subscriptions/${g.subscriptionId}`))],
  };
};

/** The checkpoint key's vault, as this deployment names it. */
function vaultName(d: Deployment): string {
  const vault = d.resources.find((r) => r.type === "Microsoft.KeyVault/vaults");
  return vault === undefined ? "(no key vault)" : String(vault.scope.evaluate(vault.resource.name));
}

interface Need {
  /** The code path (file and call) that performs the operations. */
  path: string;
  principal: string;
  scopes: string[];
  operations: Operation[];
}

/** Every code path that calls Azure with an identity, in this deployment. */
function needs(d: Deployment): Need[] {
  const s = scopes(d);
  const list: Need[] = [
    {
      path: "Functions host (AzureWebJobsStorage__accountName): host blobs, timer schedule status, leases; Flex Consumption deployment package; Durable task hub large messages and partition leases",
      principal: APP,
      scopes: [s.hostStorage],
      operations: [...OPS.containersCreate, ...OPS.blobsRead, ...OPS.blobsWrite, ...OPS.blobsDelete],
    },
    {
      path: "Durable task hub control and work-item queues (durable-functions, Azure Storage provider)",
      principal: APP,
      scopes: [s.hostStorage],
      operations: [...OPS.queuesCreate, ...OPS.queueMessages],
    },
    {
      path: "Durable task hub history and instances tables",
      principal: APP,
      scopes: [s.hostStorage],
      operations: [...OPS.tablesCreate, ...OPS.entities],
    },
    {
      path: "BlobServiceClient (lib/azure/storageClients.ts ensureStorage, lib/evidence/blobStore.ts, lib/policy, lib/export)",
      principal: APP,
      scopes: [s.evidenceAccount],
      operations: [...OPS.containersCreate, ...OPS.blobsRead, ...OPS.blobsWrite],
    },
    {
      path: "getUserDelegationKey for the user delegation SAS of Run Command output blobs (lib/azure/outputBlobSas.ts) and export links",
      principal: APP,
      scopes: [s.evidenceAccount],
      operations: OPS.userDelegationKey,
    },
    {
      path: "TableClient (lib/azure/storageClients.ts): Runs, Artifacts, Installs, Locks, ApiKeys, AuditLog, Exports, Ingestions",
      principal: APP,
      scopes: [s.evidenceAccount],
      operations: [...OPS.tablesCreate, ...OPS.entities],
    },
    {
      path: "CryptographyClient and KeyClient (lib/transparency/keyVaultKey.ts): get the checkpoint key's public half, sign checkpoints with ES256",
      principal: APP,
      scopes: [s.checkpointVault],
      operations: [...OPS.keyRead, ...OPS.keySign],
    },
    {
      path: "ContainerClient (lib/transparency/createTransparencyLog.ts): published checkpoints, through the create-only SAS of another account (PATCHPILOT_CHECKPOINT_CONTAINER_URL); no role: the SAS is the credential",
      principal: APP,
      scopes: [],
      operations: [],
    },
    {
      path: "EventGridPublisherClient (lib/azure/events/eventPublisher.ts)",
      principal: APP,
      scopes: [s.topic],
      operations: OPS.eventGridSend,
    },
    {
      path: "LogsIngestionClient (lib/azure/logs/logsIngester.ts) uploading to the DCR streams",
      principal: APP,
      scopes: [s.dataCollectionRule],
      operations: OPS.telemetryWrite,
    },
    {
      path: "Functions host telemetry with APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD",
      principal: APP,
      scopes: [s.appInsights],
      operations: OPS.telemetryWrite,
    },
    {
      path: "ArcRunCommandClient (lib/azure/arcRunCommandClient.ts): PUT/GET/DELETE machines/runCommands",
      principal: APP,
      scopes: s.managedGroups,
      operations: OPS.arcRunCommands,
    },
    {
      path: "VmssRunCommandClient (lib/azure/vmssRunCommandClient.ts): virtualMachineScaleSetVMRunCommands create/get/delete/list",
      principal: APP,
      scopes: s.managedGroups,
      operations: OPS.vmssRunCommands,
    },
    {
      path: "VmRunCommandClient (lib/azure/vmRunCommandClient.ts): virtualMachineRunCommands create/get/delete on Azure VMs and Flexible VMSS instances",
      principal: APP,
      scopes: s.managedGroups,
      operations: OPS.vmRunCommands,
    },
    {
      path: "NetworkManagementClient (lib/azure/network/nicMembership.ts): the loadBalancerDrain hook's NIC reads and PUTs and backend-pool reads on Azure VMs and Flexible instances",
      principal: APP,
      scopes: s.managedGroups,
      operations: OPS.lbDrain,
    },
    {
      path: "ResourceGraphClient inventory (lib/azure/inventory.ts: one query; it returns what the identity can read) and agent status (lib/azure/agentStatus.ts: one machine's GET / instance view)",
      principal: APP,
      scopes: s.managedGroups,
      operations: [...OPS.arcMachineRead, ...OPS.scaleSetRead, ...OPS.instanceViewRead],
    },
  ];
  if (d.parameters.diskSnapshots === true) {
    list.push({
      path: "DiskClient (lib/azure/snapshots/diskClient.ts): snapshots before install, retention, and the restoreSnapshot OS-disk swap (diskSnapshots = true)",
      principal: APP,
      scopes: s.managedGroups,
      operations: [...OPS.diskSnapshots, ...OPS.osDiskRestore],
    });
  }
  // Resource Graph returns only what the identity can read: Reader on the managed groups finds the machines there.
  // inventoryReaderOnSubscriptions = true (off by default) widens discovery to tagged machines anywhere in the
  // managed subscriptions.
  if (d.parameters.inventoryReaderOnSubscriptions === true) {
    list.push({
      path: "ResourceGraphClient inventory over whole subscriptions (lib/azure/inventory.ts with inventoryReaderOnSubscriptions)",
      principal: APP,
      scopes: s.managedSubscriptions,
      operations: [...OPS.arcMachineRead, ...OPS.scaleSetRead, "A:Microsoft.Compute/virtualMachines/read"],
    });
  }
  const operator = typeof d.parameters.operatorPrincipalId === "string" ? d.parameters.operatorPrincipalId : "";
  if (operator !== "") {
    list.push(
      {
        path: "operator: patchpilot apikey (local/cli/apiKeyCommand.ts) writes the ApiKeys table",
        principal: operator,
        scopes: [s.evidenceAccount],
        operations: [...OPS.tablesCreate, ...OPS.entities],
      },
      {
        path: "operator: policy uploads; ensureStorage (container createIfNotExists) before apikey",
        principal: operator,
        scopes: [s.evidenceAccount],
        operations: [...OPS.containersCreate, ...OPS.blobsRead, ...OPS.blobsWrite],
      },
    );
  }
  if (d.parameters.deployEventSubscription === true) {
    list.push({
      path: "Event Grid topic identity writes dead-lettered events (eventSubscription.bicep deadLetterWithResourceIdentity)",
      principal: TOPIC,
      scopes: [s.deadLetterContainer],
      operations: OPS.blobsWrite,
    });
  }
  return list;
}

// ---- Role assignments of a deployment ------------------------------------------------------------------------

interface Assignment {
  where: string;
  roleId: string;
  principal: string;
  scope: string;
}

interface CustomRole {
  id: string;
  name: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  assignableScopes: string[];
}

function assignmentsOf(resources: readonly DeployedResource[]): Assignment[] {
  return resources
    .filter((r) => r.type === "Microsoft.Authorization/roleAssignments")
    .map((r) => {
      const properties = r.scope.evaluate(r.resource.properties) as Record<string, unknown>;
      const roleDefinitionId = String(properties.roleDefinitionId);
      const target = r.scope.target;
      const scope =
        r.resource.scope !== undefined
          ? String(r.scope.evaluate(r.resource.scope))
          : `/subscriptions/${target.subscriptionId}${target.resourceGroup === undefined ? "" : `/resourceGroups/${target.resourceGroup}`}`;
      return {
        where: `${r.modulePath.join("/")} ${roleDefinitionId.split("/").pop()}`,
        roleId: (roleDefinitionId.split("/").pop() ?? "").toLowerCase(),
        principal: String(properties.principalId),
        scope,
      };
    });
}

function customRolesOf(resources: readonly DeployedResource[]): CustomRole[] {
  return resources
    .filter((r) => r.type === "Microsoft.Authorization/roleDefinitions")
    .map((r) => {
      const properties = r.scope.evaluate(r.resource.properties) as {
        roleName: string;
        permissions: { actions?: string[]; notActions?: string[]; dataActions?: string[]; notDataActions?: string[] }[];
        assignableScopes: string[];
      };
      const perms = properties.permissions;
      return {
        id: String(r.scope.evaluate(r.resource.name)).toLowerCase(),
        name: properties.roleName,
        actions: perms.flatMap((p) => p.actions ?? []),
        notActions: perms.flatMap((p) => p.notActions ?? []),
        dataActions: perms.flatMap((p) => p.dataActions ?? []),
        notDataActions: perms.flatMap((p) => p.notDataActions ?? []),
        assignableScopes: properties.assignableScopes,
      };
    });
}

// ---- Permission matching (Azure RBAC: case-insensitive, `*` matches any characters) ----------------------------

const globs = new Map<string, RegExp>();
function matches(pattern: string, operation: string): boolean {
  let re = globs.get(pattern);
  if (re === undefined) {
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
      "i",
    );
    globs.set(pattern, re);
  }
  return re.test(operation);
}

type Permissions = Pick<ReferenceRole, "actions" | "notActions" | "dataActions" | "notDataActions">;

function allows(role: Permissions, op: Operation): boolean {
  const data = op.startsWith("D:");
  const name = op.slice(2);
  const granted = data ? role.dataActions : role.actions;
  const denied = data ? role.notDataActions : role.notActions;
  return granted.some((p) => matches(p, name)) && !denied.some((p) => matches(p, name));
}

/** Every permission of `narrow` is also granted by a permission of `wide` (the pattern as a literal operation). */
function within(narrow: Permissions, wide: Permissions): boolean {
  return (
    narrow.actions.every((p) => wide.actions.some((w) => matches(w, p))) &&
    narrow.dataActions.every((p) => wide.dataActions.some((w) => matches(w, p)))
  );
}

/** An assignment at `scope` applies at `need` when `need` is the same resource or inside it. */
const appliesAt = (scope: string, need: string): boolean =>
  need.toLowerCase() === scope.toLowerCase() || need.toLowerCase().startsWith(`${scope.toLowerCase()}/`);

// ---- The deployments, one per parameter file -----------------------------------------------------------------

const PARAM_FILES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".bicepparam"))
  .sort();

describeWithTool(["bicep"], "infra: role assignments against Microsoft's built-in roles", () => {
  let deployments: Deployment[] = [];
  beforeAll(() => {
    deployments = PARAM_FILES.map((file) => {
      const built = buildParams(join(FIXTURES, file));
      return {
        file,
        parameters: built.parameters,
        resources: deployedResources(built.template as never, built.parameters, { subscriptionId: "SUB0" }),
      };
    });
  });

  it("every role in infra/builtInRoles.json exists in Microsoft's list under the name it is given", () => {
    const wrong = Object.entries(builtInRoles).flatMap(([key, role]) => {
      const published =
        referenceById.get(role.id.toLowerCase()) ??
        reference.summaryOnly?.roles?.find((r) => r.id.toLowerCase() === role.id.toLowerCase());
      if (published === undefined) {
        const byName = reference.roles.find((r) => r.name === role.name);
        return [
          `${key}: no built-in role has id ${role.id}${byName === undefined ? "" : ` (${role.name} is ${byName.id})`}`,
        ];
      }
      return published.name === role.name ? [] : [`${key}: ${role.id} is "${published.name}", not "${role.name}"`];
    });
    expect(wrong).toEqual([]);
  });

  it("finds the role assignments of every deployment (the template walk works)", () => {
    const counts = Object.fromEntries(deployments.map((d) => [d.file, assignmentsOf(d.resources).length]));
    // defaults: 8 in the app's group; flags-off: + 3 per managed group + 1 subscription Reader; flags-on: 2
    // operator + 1 dead-letter writer + (custom run-command role + Reader) per managed group, no subscription Reader.
    // + 1 everywhere: the checkpoint signer (custom role) on the key vault. flags-on also sets diskSnapshots: + Disk
    // Snapshot Contributor and Virtual Machine Contributor per managed group.
    expect(counts).toEqual({ "defaults.bicepparam": 9, "flags-off.bicepparam": 13, "flags-on.bicepparam": 20 });
  });

  it("every assigned role id is a published built-in role or a custom role this deployment defines", () => {
    for (const d of deployments) {
      const custom = new Map(customRolesOf(d.resources).map((r) => [r.id, r]));
      const builtIn = new Map(Object.values(builtInRoles).map((r) => [r.id.toLowerCase(), r.name]));
      const unknown = assignmentsOf(d.resources)
        .filter((a) => !custom.has(a.roleId))
        .flatMap((a) => {
          const published = referenceById.get(a.roleId);
          if (published === undefined) return [`${d.file} ${a.where}: no built-in role has id ${a.roleId}`];
          if (builtIn.get(a.roleId) !== published.name)
            return [`${d.file} ${a.where}: ${a.roleId} (${published.name}) is not from infra/builtInRoles.json`];
          return [];
        });
      expect(unknown).toEqual([]);
    }
  });

  it("every custom role is assignable where it is assigned", () => {
    for (const d of deployments) {
      const custom = new Map(customRolesOf(d.resources).map((r) => [r.id, r]));
      const misplaced = assignmentsOf(d.resources)
        .filter((a) => custom.has(a.roleId))
        .filter((a) => !(custom.get(a.roleId)?.assignableScopes ?? []).some((s) => appliesAt(s, a.scope)))
        .map((a) => `${d.file} ${a.where} at ${a.scope}`);
      expect(misplaced).toEqual([]);
    }
  });

  const rolePermissions = (d: Deployment, roleId: string): (Permissions & { name: string }) | undefined =>
    customRolesOf(d.resources).find((r) => r.id === roleId) ?? referenceById.get(roleId);

  it("the roles assigned to each principal cover every operation of every code path, at its scope", () => {
    for (const d of deployments) {
      const assignments = assignmentsOf(d.resources);
      const missing: string[] = [];
      for (const need of needs(d)) {
        for (const scope of need.scopes) {
          const held = assignments.filter((a) => a.principal === need.principal && appliesAt(a.scope, scope));
          for (const op of need.operations) {
            if (
              !held.some((a) => {
                const role = rolePermissions(d, a.roleId);
                return role !== undefined && allows(role, op);
              })
            ) {
              missing.push(
                `${d.file}: ${need.path} needs ${op} at ${scope}; held: ${held.map((a) => rolePermissions(d, a.roleId)?.name ?? a.roleId).join(", ") || "nothing"}`,
              );
            }
          }
        }
      }
      expect(missing).toEqual([]);
    }
  });

  it("every assignment serves a code path (nothing granted that no code uses)", () => {
    for (const d of deployments) {
      const list = needs(d);
      const unused = assignmentsOf(d.resources).filter((a) => {
        const role = rolePermissions(d, a.roleId);
        return !list.some(
          (n) =>
            n.principal === a.principal &&
            n.scopes.some((s) => appliesAt(a.scope, s)) &&
            role !== undefined &&
            n.operations.some((op) => allows(role, op)),
        );
      });
      expect(unused.map((a) => `${d.file} ${a.where} for ${a.principal} at ${a.scope}`)).toEqual([]);
    }
  });

  it("no narrower built-in role would cover what an assigned built-in role is used for", () => {
    const better: string[] = [];
    for (const d of deployments) {
      const list = needs(d);
      for (const a of assignmentsOf(d.resources)) {
        const role = referenceById.get(a.roleId);
        if (role === undefined) continue; // custom roles hold exactly what they list
        const used = [
          ...new Set(
            list
              .filter((n) => n.principal === a.principal && n.scopes.some((s) => appliesAt(a.scope, s)))
              .flatMap((n) => n.operations)
              .filter((op) => allows(role, op)),
          ),
        ];
        for (const other of reference.roles) {
          if (other.id === role.id) continue;
          if (used.every((op) => allows(other, op)) && within(other, role) && !within(role, other)) {
            better.push(
              `${d.file} ${a.where}: ${other.name} (${other.id}) covers ${used.join(", ")} and is narrower than ${role.name}`,
            );
          }
        }
      }
    }
    expect([...new Set(better)]).toEqual([]);
  });

  it("has a code path for every Azure SDK client the code constructs", () => {
    const CONSTRUCTED = [
      /\bnew\s+([A-Z][A-Za-z0-9_]*Client)\s*[(<]/g,
      /\b([A-Z][A-Za-z0-9_]*Client)\s*\.\s*from[A-Z][A-Za-z0-9_]*\s*\(/g,
    ];
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
      );
    const constructed = new Map<string, string[]>();
    for (const file of [...files(join(ROOT, "lib")), ...files(join(ROOT, "functions"))]) {
      const text = readFileSync(file, "utf8");
      for (const pattern of CONSTRUCTED)
        for (const m of text.matchAll(pattern))
          constructed.set(m[1] ?? "", [...(constructed.get(m[1] ?? "") ?? []), relative(ROOT, file)]);
    }
    // Clients that reach Azure with the app's identity, and the code path above that authorizes them.
    const CLIENT_PATHS: Record<string, string> = {
      BlobServiceClient: "BlobServiceClient",
      TableClient: "TableClient",
      HybridComputeManagementClient: "ArcRunCommandClient",
      ComputeManagementClient: "VmssRunCommandClient",
      NetworkManagementClient: "NetworkManagementClient",
      ResourceGraphClient: "ResourceGraphClient inventory",
      VmRunCommandClient: "VmRunCommandClient",
      ArcRunCommandClient: "ArcRunCommandClient",
      VmssRunCommandClient: "VmssRunCommandClient",
      EventGridPublisherClient: "EventGridPublisherClient",
      LogsIngestionClient: "LogsIngestionClient",
      CryptographyClient: "CryptographyClient and KeyClient",
      KeyClient: "CryptographyClient and KeyClient",
      ContainerClient: "ContainerClient (lib/transparency",
      DiskClient: "DiskClient",
    };
    // Clients only an opt-in flag needs are checked in the deployment that sets every flag.
    const FLAGGED = new Set(["DiskClient"]);
    const flagsOn = deployments.find((d) => d.file === "flags-on.bicepparam");
    expect(flagsOn).toBeDefined();
    const flaggedPaths = needs(flagsOn as Deployment).map((n) => n.path);
    const withAssignments = deployments.find((d) => d.file === "flags-off.bicepparam");
    expect(withAssignments).toBeDefined();
    const paths = needs(withAssignments as Deployment).map((n) => n.path);
    const unmapped = [...constructed.keys()].filter((c) => CLIENT_PATHS[c] === undefined);
    expect(unmapped.map((c) => `${c} (${(constructed.get(c) ?? []).join(", ")})`)).toEqual([]);
    for (const [client, path] of Object.entries(CLIENT_PATHS)) {
      expect({ client, constructed: constructed.has(client) }).toEqual({ client, constructed: true });
      const where = FLAGGED.has(client) ? flaggedPaths : paths;
      expect({ client, path: where.some((p) => p.startsWith(path)) }).toEqual({ client, path: true });
    }
  });

  it("signs checkpoints with a custom role that can read and sign with a key and do nothing else, because no built-in role can only sign", () => {
    const SIGN = "Microsoft.KeyVault/vaults/keys/sign/action";
    // Every data permission of a role beyond reading a key and signing with it: what a sign-only role avoids.
    const beyond = (role: Permissions): string[] =>
      role.dataActions.filter((p) => !matches("Microsoft.KeyVault/vaults/keys/read", p) && !matches(SIGN, p));
    const signers = reference.roles.filter((r) => allows(r, `D:${SIGN}`));
    expect(signers.length).toBeGreaterThan(0);
    for (const r of signers)
      expect({ role: r.name, beyond: beyond(r).length > 0 }).toEqual({ role: r.name, beyond: true });
    for (const d of deployments) {
      const custom = customRolesOf(d.resources).filter((r) => allows(r, `D:${SIGN}`));
      expect(custom.map((r) => r.name)).toEqual([
        `PatchPilot Checkpoint Signer (${String(d.parameters.environmentName)})`,
      ]);
      for (const r of custom) {
        expect(r.actions).toEqual([]);
        expect(beyond(r)).toEqual([]);
        // Every permission it lists is one Microsoft's own Key Vault Crypto User role grants (names that exist).
        const cryptoUser = reference.roles.find((x) => x.name === "Key Vault Crypto User") as ReferenceRole;
        expect(within(r, cryptoUser)).toBe(true);
        expect(allows(r, "D:Microsoft.KeyVault/vaults/keys/backup/action")).toBe(false);
        expect(allows(r, "D:Microsoft.KeyVault/vaults/keys/release/action")).toBe(false);
      }
    }
  });
});
