import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A running Azurite (Blob + Table + Queue) with the endpoints to reach it. */
export interface AzuriteInstance {
  readonly blobEndpoint: string;
  readonly tableEndpoint: string;
  readonly queueEndpoint: string;
  readonly connectionString: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Options for {@link startAzurite}. */
export interface StartAzuriteOptions {
  /** Keep data in memory only (tests, demo). Otherwise data lives in `location`. */
  inMemory?: boolean;
  /** Workspace folder; a fresh temp folder when omitted. */
  location?: string;
  /** How long to wait for the ports to accept connections. */
  startTimeoutMs?: number;
  /**
   * Azurite's entry script; the installed (patched, see patches/) package's when omitted. The lookup bench and the
   * patch's test start an unpatched copy through this (local/azuriteUnpatched.ts).
   */
  entry?: string;
}

function azuriteEntry(): string {
  return require.resolve("azurite/dist/src/azurite.js");
}

/** Where the installed Azurite package lives (the folder with its package.json). */
export function azuritePackageDir(): string {
  return path.dirname(require.resolve("azurite/package.json"));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Builds the connection string the Azure SDK clients understand for an Azurite on these ports. */
export function azuriteConnectionString(blobPort: number, tablePort: number, queuePort: number): string {
  const host = "http://127.0.0.1";
  return [
    "DefaultEndpointsProtocol=http",
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=${host}:${blobPort}/${AZURITE_ACCOUNT}`,
    `QueueEndpoint=${host}:${queuePort}/${AZURITE_ACCOUNT}`,
    `TableEndpoint=${host}:${tablePort}/${AZURITE_ACCOUNT}`,
  ].join(";");
}

async function launchOnce(options: StartAzuriteOptions): Promise<AzuriteInstance> {
  const [blobPort, tablePort, queuePort] = [await freePort(), await freePort(), await freePort()];
  const ownLocation = options.location === undefined;
  const location = options.location ?? mkdtempSync(path.join(os.tmpdir(), "patchpilot-azurite-"));
  // BENCH_AZURITE_CPU_PROF=<dir>: each Azurite writes a V8 CPU profile there when it stops (a bench's stack stops
  // them with SIGTERM, which Azurite handles by closing its servers, so the process ends normally and writes it).
  const profileDir = process.env.BENCH_AZURITE_CPU_PROF;
  const args = [
    ...(profileDir === undefined || profileDir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
    options.entry ?? azuriteEntry(),
    "--silent",
    "--skipApiVersionCheck",
    "--disableTelemetry",
    "--blobPort",
    String(blobPort),
    "--tablePort",
    String(tablePort),
    "--queuePort",
    String(queuePort),
  ];
  // Azurite refuses --location with --inMemoryPersistence; in memory it still writes small files to its cwd.
  if (options.inMemory ?? true) args.push("--inMemoryPersistence");
  else args.push("--location", location);

  // NODE_PATH lets a copy of the package outside node_modules (the unpatched one) resolve Azurite's dependencies.
  const env = { ...process.env, NODE_PATH: path.dirname(azuritePackageDir()) };
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: location,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new Error(`Azurite exited during start-up: ${stderr.trim() || "no output"}`);
    if ((await canConnect(blobPort)) && (await canConnect(tablePort))) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`Azurite did not open ports ${blobPort}/${tablePort} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const host = "http://127.0.0.1";
  return {
    blobEndpoint: `${host}:${blobPort}/${AZURITE_ACCOUNT}`,
    tableEndpoint: `${host}:${tablePort}/${AZURITE_ACCOUNT}`,
    queueEndpoint: `${host}:${queuePort}/${AZURITE_ACCOUNT}`,
    connectionString: azuriteConnectionString(blobPort, tablePort, queuePort),
    pid: child.pid ?? -1,
    async stop() {
      if (!exited) {
        const done = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        await done;
      }
      if (ownLocation) rmSync(location, { recursive: true, force: true });
    },
  };
}

/**
 * Starts Azurite from the `azurite` npm package on free ports. A port picked free can be taken by someone
 * else before Azurite binds it, so a failed start is retried on new ports.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launchOnce(options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
