// The device scripts are not TypeScript, so tsc does not copy them; the registry (lib/device/registry.ts) finds
// them beside its compiled file in dist/, which is what a deployment ships.
import { cpSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../..");
for (const os of ["windows", "linux"]) {
  cpSync(path.join(root, "lib/device", os), path.join(root, "dist/lib/device", os), { recursive: true });
}
