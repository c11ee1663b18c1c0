import type { ContainerClient } from "@azure/storage-blob";
import { z } from "zod";
import { DEFAULT_GLOBAL_POLICY } from "../domain/policy/defaultPolicy";
import { layerName, resolveEffectivePolicy } from "../domain/policy/overlay";
import { ClientIdSchema, DeviceIdSchema, TenantIdSchema } from "../schemas/common";
import {
  ClientProfileSchema,
  MaintenanceWindowSchema,
  type ClientProfile,
  type MaintenanceWindow,
} from "../schemas/policies";
import { PolicyLayerSchema, type PolicyLayer, type PolicyScope } from "../schemas/policyLayer";
import { clientBlobName, layerBlobName, parseWindowBlobName, windowBlobName, windowPrefix } from "./policyBlobNames";
import { parseDocument, readDocument, writeDocument } from "./policyBlobs";
import { checkWindowFitsEstimates, type InstallEstimate } from "./installEstimateFit";
import { PolicyDocumentError, type PolicyDocumentIssue } from "./policyDocumentError";

/** The device a run resolves policy for. */
export const PolicyTargetSchema = z.object({ tenant: TenantIdSchema, client: ClientIdSchema, device: DeviceIdSchema });
export type PolicyTarget = z.infer<typeof PolicyTargetSchema>;

// A document whose own ids differ from the ids in its blob name would apply one tenant's policy to another (or be
// found under a name it does not carry), so it is refused like any other malformed document.
function checkIdentity(blobName: string, actual: string, expected: string, path: string): void {
  if (actual !== expected) {
    throw new PolicyDocumentError(blobName, [
      { path, message: `document says ${actual} but is stored as ${expected}` },
    ]);
  }
}

/**
 * Where policies live in Azure: JSON documents in a blob container (policy layers, maintenance windows, client
 * profiles; layout in policyBlobNames.ts). Every read is schema-checked and a malformed document throws
 * PolicyDocumentError naming the blob and field, never skipped. Writes replace: policies are configuration.
 */
export class PolicyStore {
  constructor(private readonly container: ContainerClient) {}

  /** Stores (replaces) a policy layer at the blob its scope names; returns the blob name. */
  async putLayer(layer: PolicyLayer): Promise<string> {
    const parsed = parseDocument(PolicyLayerSchema, "(policy layer to write)", layer);
    const blobName = layerBlobName(parsed.scope);
    await writeDocument(this.container, blobName, parsed);
    return blobName;
  }

  /** Stores (replaces) a maintenance window; returns the blob name. */
  async putWindow(window: MaintenanceWindow): Promise<string> {
    const parsed = parseDocument(MaintenanceWindowSchema, "(maintenance window to write)", window);
    const blobName = windowBlobName(parsed.tenant, parsed.id);
    const issues = await this.checkInstallFit(parsed);
    if (issues.length > 0) throw new PolicyDocumentError(blobName, issues);
    await writeDocument(this.container, blobName, parsed);
    return blobName;
  }

  /**
   * A patch window shorter than its devices' install estimate could never start an install (installEstimateFit.ts);
   * a scan-only window installs nothing, so no estimate applies to it. Also called by the management API's save.
   */
  async checkInstallFit(window: MaintenanceWindow): Promise<PolicyDocumentIssue[]> {
    if (window.mode === "scan") return [];
    return checkWindowFitsEstimates(window, await this.installEstimates(window));
  }

  /**
   * The install estimates a window's devices start from: the tenant's (global + tenant layers) and, for each client
   * the window names, the client's. Device layers are not read here (a window is saved without its device list).
   */
  private async installEstimates(window: MaintenanceWindow): Promise<InstallEstimate[]> {
    const scopes: PolicyScope[] =
      window.clients.length === 0
        ? [{ level: "tenant", tenant: window.tenant }]
        : window.clients.map((client) => ({ level: "client", tenant: window.tenant, client }));
    return Promise.all(
      scopes.map(async (scope) => {
        const chain: PolicyScope[] =
          scope.level === "client"
            ? [{ level: "global" }, { level: "tenant", tenant: scope.tenant }, scope]
            : [{ level: "global" }, scope];
        const [global, ...rest] = await Promise.all(chain.map((s) => this.getLayer(s)));
        const layers = [
          global ?? PolicyLayerSchema.parse(DEFAULT_GLOBAL_POLICY),
          ...rest.filter((l) => l !== undefined),
        ];
        const { policy, provenance } = resolveEffectivePolicy(layers);
        return { minutes: policy.update.maxInstallMinutes, from: provenance["update.maxInstallMinutes"] ?? "global" };
      }),
    );
  }

  /** Stores (replaces) a client profile; returns the blob name. */
  async putClient(profile: ClientProfile): Promise<string> {
    const parsed = parseDocument(ClientProfileSchema, "(client profile to write)", profile);
    const blobName = clientBlobName(parsed.tenant, parsed.client);
    await writeDocument(this.container, blobName, parsed);
    return blobName;
  }

  /** One stored layer, or undefined when none is stored at that scope. */
  async getLayer(scope: PolicyScope): Promise<PolicyLayer | undefined> {
    const blobName = layerBlobName(scope);
    const layer = await readDocument(this.container, blobName, PolicyLayerSchema);
    if (layer !== undefined) checkIdentity(blobName, layerName(layer.scope), layerName(scope), "scope");
    return layer;
  }

  /**
   * The layers that apply to a device, Global → Tenant → Client → Device, missing ones skipped, ready for
   * resolveEffectivePolicy. Without a stored global layer, DEFAULT_GLOBAL_POLICY stands in, so every field has a value.
   */
  async layersFor(target: PolicyTarget): Promise<PolicyLayer[]> {
    const { tenant, client, device } = PolicyTargetSchema.parse(target);
    const scopes: PolicyScope[] = [
      { level: "global" },
      { level: "tenant", tenant },
      { level: "client", tenant, client },
      { level: "device", tenant, client, device },
    ];
    const [global, ...rest] = await Promise.all(scopes.map((scope) => this.getLayer(scope)));
    // Parsed, not shared: the default is frozen and callers may adjust the layers they get.
    const base = global ?? PolicyLayerSchema.parse(DEFAULT_GLOBAL_POLICY);
    return [base, ...rest.filter((layer): layer is PolicyLayer => layer !== undefined)];
  }

  /** Every stored maintenance window (optionally one tenant's), in blob-name order. */
  async listWindows(tenant?: string): Promise<MaintenanceWindow[]> {
    const names: string[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix: windowPrefix(tenant) })) names.push(item.name);
    const windows = await Promise.all(
      names.map(async (blobName) => {
        const id = parseWindowBlobName(blobName);
        if (id === undefined) {
          throw new PolicyDocumentError(blobName, [
            { path: "", message: "not a maintenance window name (windows/{tenant}/{windowId}.json)" },
          ]);
        }
        return this.getWindow(id.tenant, id.windowId);
      }),
    );
    // A window deleted between the listing and the read is simply no longer there.
    return windows.filter((w): w is MaintenanceWindow => w !== undefined);
  }

  /** One maintenance window, or undefined when none is stored. */
  async getWindow(tenant: string, windowId: string): Promise<MaintenanceWindow | undefined> {
    const blobName = windowBlobName(tenant, windowId);
    const window = await readDocument(this.container, blobName, MaintenanceWindowSchema);
    if (window !== undefined) {
      checkIdentity(blobName, window.tenant, tenant, "tenant");
      checkIdentity(blobName, window.id, windowId, "id");
    }
    return window;
  }

  /** One client profile, or undefined when none is stored. */
  async getClient(tenant: string, client: string): Promise<ClientProfile | undefined> {
    const blobName = clientBlobName(tenant, client);
    const profile = await readDocument(this.container, blobName, ClientProfileSchema);
    if (profile !== undefined) {
      checkIdentity(blobName, profile.tenant, tenant, "tenant");
      checkIdentity(blobName, profile.client, client, "client");
    }
    return profile;
  }
}
