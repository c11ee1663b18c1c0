// Builds the zip that is deployed to the Flex Consumption function app: the compiled app (dist/functions,
// dist/orchestrators, dist/lib with the device scripts), host.json, package.json + package-lock.json, and the
// production dependencies only (`npm ci --omit=dev` in a staging folder), so no remote build runs and no
// devDependency (azurite, playwright-core, jest, ...) is shipped. Nothing under local/, test/ or bench/ goes in:
// the app does not import them (DESIGN.md "Layout"; test/unit/deploy/deployPackage.test.ts loads the staged app).
//
//   npm run package                 -> dist/package/patchpilot.zip
//   node dist/scripts/deployPackage.js --out <file.zip> [--keep-staging <dir>]
//
// Deploy it with `az functionapp deployment source config-zip` or azd (docs/deploy.md). Run `npm run build` first
// (`npm run package` does).
import { execFileSync } from "node:child_process";
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZipFile } from "yazl";

// dist/scripts/ when compiled, scripts/ when a test loads the TypeScript.
const ROOT =
  path.basename(path.dirname(__dirname)) === "dist" ? path.resolve(__dirname, "../..") : path.resolve(__dirname, "..");

/** The compiled folders the app needs at run time. */
export const APP_FOLDERS = ["dist/functions", "dist/orchestrators", "dist/lib"] as const;
/** Files at the package root. */
export const ROOT_FILES = ["host.json", "package.json", "package-lock.json"] as const;

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, base));
    else if (entry.isFile()) out.push(path.relative(base, full).split(path.sep).join("/"));
  }
  return out.sort();
}

/** Copies the app into `staging` and installs the production dependencies there. */
export function stagePackage(staging: string): void {
  for (const folder of APP_FOLDERS) {
    const from = path.join(ROOT, folder);
    if (!existsSync(from)) throw new Error(`${folder} is missing: run \`npm run build\` first`);
    // Source maps stay out: they point at TypeScript sources the package does not carry.
    cpSync(from, path.join(staging, folder), { recursive: true, filter: (src) => !src.endsWith(".js.map") });
  }
  for (const file of ROOT_FILES) cpSync(path.join(ROOT, file), path.join(staging, file));
  // --ignore-scripts: the package's own prepare/pretest scripts build and install tools, which a deployment
  // package must not do (and cannot: tsc is a devDependency).
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: staging,
    stdio: ["ignore", "ignore", "inherit"],
  });
  // npm's own bookkeeping file, not needed at run time.
  rmSync(path.join(staging, "node_modules/.package-lock.json"), { force: true });
}

/** Zips a folder (files sorted, fixed timestamps so the same input gives the same bytes). */
export async function zipFolder(folder: string, out: string): Promise<string[]> {
  const files = walk(folder);
  const zip = new ZipFile();
  const mtime = new Date("2000-01-01T00:00:00Z");
  for (const file of files) {
    const mode = statSync(path.join(folder, file)).mode;
    zip.addFile(path.join(folder, file), file, { mtime, mode });
  }
  mkdirSync(path.dirname(out), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const sink = createWriteStream(out);
    sink.on("close", () => resolve());
    sink.on("error", reject);
    zip.outputStream.on("error", reject).pipe(sink);
    zip.end();
  });
  return files;
}

export interface PackageResult {
  zip: string;
  files: string[];
  bytes: number;
}

export async function buildDeployPackage(out: string, keepStaging?: string): Promise<PackageResult> {
  const staging = keepStaging ?? mkdtempSync(path.join(tmpdir(), "patchpilot-package-"));
  try {
    stagePackage(staging);
    const files = await zipFolder(staging, out);
    return { zip: out, files, bytes: statSync(out).size };
  } finally {
    if (keepStaging === undefined) rmSync(staging, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const out = path.resolve(option("--out") ?? path.join(ROOT, "dist/package/patchpilot.zip"));
  const keep = option("--keep-staging");
  const result = await buildDeployPackage(out, keep === undefined ? undefined : path.resolve(keep));
  const top = new Map<string, number>();
  for (const file of result.files) {
    const key = file.startsWith("node_modules/")
      ? "node_modules"
      : file
          .split("/")
          .slice(0, file.startsWith("dist/") ? 2 : 1)
          .join("/");
    top.set(key, (top.get(key) ?? 0) + 1);
  }
  for (const [key, count] of [...top.entries()].sort()) console.log(`${String(count).padStart(6)}  ${key}`);
  console.log(`${result.zip}: ${result.files.length} files, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
