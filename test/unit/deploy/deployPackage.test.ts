// The deploy package (`npm run package`, scripts/deployPackage.ts): what the zip holds, checked against
// package.json's own devDependencies and the repository layout, and that the app loads from it with production
// dependencies only. Prints the file list summary and the size.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildDeployPackage, type PackageResult } from "../../../scripts/deployPackage";

const ROOT = path.resolve(__dirname, "../../..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe("deploy package (npm run package)", () => {
  let work: string;
  let staging: string;
  let result: PackageResult;

  beforeAll(async () => {
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
    work = mkdtempSync(path.join(tmpdir(), "patchpilot-package-test-"));
    staging = path.join(work, "staging");
    result = await buildDeployPackage(path.join(work, "patchpilot.zip"), staging);
    const groups = new Map<string, number>();
    for (const f of result.files) {
      const key = f.startsWith("node_modules/")
        ? `node_modules/${f.split("/")[1]?.startsWith("@") ? f.split("/").slice(1, 3).join("/") : f.split("/")[1]}`
        : f
            .split("/")
            .slice(0, f.startsWith("dist/") ? 2 : 1)
            .join("/");
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    console.log(
      [
        `deploy package: ${result.files.length} files, ${result.bytes} bytes (${(result.bytes / 1024 / 1024).toFixed(1)} MiB)`,
        ...[...groups.entries()].sort().map(([k, n]) => `${String(n).padStart(6)}  ${k}`),
      ].join("\n"),
    );
  }, 300_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("holds the compiled app, host.json, package.json and the device scripts", () => {
    for (const file of ["host.json", "package.json", "package-lock.json", "dist/functions/index.js"]) {
      expect(result.files).toContain(file);
    }
    const main = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { main: string }).main;
    expect(result.files).toContain(main);
    expect(result.files.some((f) => /^dist\/lib\/device\/windows\/.+\.ps1$/.test(f))).toBe(true);
    expect(result.files.some((f) => /^dist\/lib\/device\/linux\/.+\.sh$/.test(f))).toBe(true);
  });

  it("holds every production dependency and no devDependency", () => {
    const packages = new Set(
      result.files
        .filter((f) => f.startsWith("node_modules/") && f.endsWith("/package.json"))
        .map((f) => f.slice("node_modules/".length, -"/package.json".length))
        .filter((p) => !p.includes("/node_modules/")),
    );
    for (const dep of Object.keys(pkg.dependencies))
      expect({ dep, shipped: packages.has(dep) }).toEqual({ dep, shipped: true });
    const shippedDev = Object.keys(pkg.devDependencies).filter(
      (dep) => packages.has(dep) && !(dep in pkg.dependencies),
    );
    expect(shippedDev).toEqual([]);
  });

  it("every production dependency is required by the app it ships (local-only packages are devDependencies)", () => {
    const compiled = result.files
      .filter((f) => /^dist\/.+\.js$/.test(f))
      .map((f) => readFileSync(path.join(staging, f), "utf8"))
      .join("\n");
    const unused = Object.keys(pkg.dependencies).filter((dep) => {
      const escaped = dep.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      return !new RegExp(`require\\("${escaped}(/[^"]*)?"\\)`).test(compiled);
    });
    expect(unused).toEqual([]);
  });

  it("holds no tests, no local stand-ins, no benchmarks, no TypeScript sources, no infra or tools", () => {
    const outside = result.files.filter(
      (f) =>
        !f.startsWith("node_modules/") &&
        (/^(test|local|bench|infra|docs|scripts|tools|\.tools|seeds)\//.test(f) ||
          /^dist\/(local|bench|scripts|test)\//.test(f) ||
          (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
          /\.js\.map$/.test(f)),
    );
    expect(outside).toEqual([]);
    expect(result.files.filter((f) => !f.startsWith("node_modules/") && !f.startsWith("dist/"))).toEqual([
      "host.json",
      "package-lock.json",
      "package.json",
    ]);
  });

  it("the app loads from the package with production dependencies only (nothing needs local/ or a devDependency)", () => {
    const script = `
      const app = require("./dist/functions/index.js");
      process.stdout.write(String(typeof app.createDefinitions));
    `;
    const out = execFileSync(process.execPath, ["-e", script], {
      cwd: staging,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"], // @azure/functions warns it is not inside the Functions host
      env: { ...process.env, NODE_PATH: "" },
    });
    expect(out.trim().endsWith("function")).toBe(true);
  });
});
