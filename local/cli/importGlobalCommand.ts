import type { ContainerClient } from "@azure/storage-blob";
import { readFileSync } from "node:fs";
import os from "node:os";
import { resolveEffectivePolicy, PolicyValidationError } from "../../lib/domain/policy/overlay";
import { layerBlobName } from "../../lib/policy/policyBlobNames";
import { StaleWriteError, VersionedDocuments } from "../../lib/policy/versionedDocuments";
import { PolicyLayerSchema } from "../../lib/schemas/policyLayer";

// `patchpilot policy import-global --file global.json`: the global layer is shared by every tenant, so no tenant's
// API caller may change it; whoever runs the deployment saves it straight into the policy container (settings from
// the environment, `az login` in Azure), through the same versioned, create-once history the API writes. It must
// resolve alone to a complete policy (every field set), since every device's overlay starts from it.

/** Saves the global layer as a new version; returns the exit status (0 saved, 1 refused). */
export async function runImportGlobalCommand(
  container: ContainerClient,
  file: string,
  now: Date,
  out: (line: string) => void,
): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    out(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    return 1;
  }
  const parsed = PolicyLayerSchema.safeParse(raw);
  if (!parsed.success || parsed.data.scope.level !== "global") {
    out(
      `${file}: not a global policy layer${parsed.success ? " (scope.level must be global)" : `: ${parsed.error.message}`}`,
    );
    return 1;
  }
  try {
    resolveEffectivePolicy([parsed.data]);
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    out(`${file}: ${error.message}`);
    return 1;
  }
  const docs = new VersionedDocuments(container);
  const name = layerBlobName({ level: "global" });
  const current = await docs.current(name);
  try {
    const { after } = await docs.save(
      name,
      parsed.data,
      current?.etag,
      { kind: "import", id: os.userInfo().username, name: "patchpilot policy import-global" },
      now,
    );
    out(`${file} -> ${name}: version ${after.version} sha256 ${after.sha256}`);
    return 0;
  } catch (error) {
    if (!(error instanceof StaleWriteError)) throw error;
    out(`${name} changed while importing; run the command again`);
    return 1;
  }
}
