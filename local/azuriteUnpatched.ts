import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { azuritePackageDir, startAzurite, type AzuriteInstance, type StartAzuriteOptions } from "./azurite";

/** The project's patches of the azurite package (applied by patch-package at `npm ci`). */
export function azuritePatchFiles(root = process.cwd()): string[] {
  const dir = path.join(root, "patches");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^azurite\+.*\.patch$/.test(f))
    .map((f) => path.join(dir, f));
}

/**
 * Copies the installed azurite package to a temp folder and takes the project's patches back out of the copy
 * (`git apply -R`, the patches' own paths), so the lookup bench and the patch's test can run Azurite as published
 * beside the patched one. Returns the copy's entry script and a remover.
 */
export function unpatchedAzuriteCopy(root = process.cwd()): { entry: string; remove(): void } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "patchpilot-azurite-unpatched-"));
  const copy = path.join(tmp, "node_modules", "azurite");
  cpSync(azuritePackageDir(), copy, { recursive: true });
  for (const patch of azuritePatchFiles(root)) {
    const applied = spawnSync("git", ["apply", "-R", patch], { cwd: tmp, encoding: "utf8" });
    if (applied.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`could not take ${path.basename(patch)} out of the copy: ${applied.stderr || applied.error}`);
    }
  }
  return {
    entry: path.join(copy, "dist", "src", "azurite.js"),
    remove: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

/** Starts Azurite as published (the project's patches taken out of a copy); stop() also removes the copy. */
export async function startUnpatchedAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  const copy = unpatchedAzuriteCopy();
  try {
    const azurite = await startAzurite({ ...options, entry: copy.entry });
    return {
      ...azurite,
      async stop() {
        await azurite.stop();
        copy.remove();
      },
    };
  } catch (error) {
    copy.remove();
    throw error;
  }
}
