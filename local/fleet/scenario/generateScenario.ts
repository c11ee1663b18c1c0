import type { ScenarioInput } from "./scenarioSchema";
import { seededRandom, type SeededRandom } from "./seededRandom";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";

/** How a fleet is reached: the share of each device kind (weights; normalised). */
export type KindMix = Readonly<Record<"arc" | "vmss" | "vmssFlex" | "vm", number>>;

/** Arc machines, Uniform and Flexible scale-set instances and standalone Azure VMs in equal parts. */
export const MIXED_KINDS: KindMix = { arc: 1, vmss: 1, vmssFlex: 1, vm: 1 };

/** What to generate: the fleet size and the seed that makes it reproducible. */
export interface GenerateOptions {
  devices: number;
  seed: number;
  /** Device kinds; omitted: four fifths Arc, one fifth Uniform VMSS (the generator's fleet before kinds were mixed). */
  kinds?: KindMix;
}

function pickKind(random: SeededRandom, mix: KindMix | undefined): keyof KindMix {
  if (mix === undefined) return random.chance(0.2) ? "vmss" : "arc";
  const total = mix.arc + mix.vmss + mix.vmssFlex + mix.vm;
  let roll = random.next() * total;
  for (const kind of ["arc", "vmss", "vmssFlex", "vm"] as const) {
    roll -= mix[kind];
    if (roll < 0) return kind;
  }
  return "arc";
}

type DeviceInput = ScenarioInput["devices"][number];

const guid = (n: number): string =>
  `9e0a${n.toString(16).padStart(4, "0")}-2026-4b01-8c1d-${n.toString(16).padStart(12, "0")}`;
const RELEASE = "2026-01-13T18:00:00Z";

// The same few updates on every server of an OS: real fleets are patched from one monthly release.
const UPDATE_SETS: ScenarioInput["updateSets"] = {
  "ws2022-2026-01": {
    os: "windows",
    updates: [
      {
        updateId: guid(1),
        kb: "KB5012345",
        title:
          "2026-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5012345)",
        severity: "Critical",
        releaseDate: RELEASE,
        sizeBytes: 734_003_200,
        rebootBehavior: "AlwaysRequiresReboot",
        osBuildAfter: "20348.3091",
      },
      {
        updateId: guid(2),
        kb: "KB5012346",
        title: "2026-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5012346)",
        severity: "Important",
        releaseDate: RELEASE,
        sizeBytes: 78_643_200,
      },
      {
        updateId: guid(3),
        kb: "KB890830",
        title: "Windows Malicious Software Removal Tool x64 - v5.137 (KB890830)",
        classification: "Update Rollups",
        releaseDate: RELEASE,
        sizeBytes: 78_000_000,
        rebootBehavior: "NeverReboots",
      },
    ],
  },
  "ubuntu2204-2026-01": {
    os: "linux",
    updates: [
      {
        name: "openssl",
        currentVersion: "3.0.2-0ubuntu1.15",
        version: "3.0.2-0ubuntu1.19",
        security: true,
        sizeBytes: 1_183_000,
      },
      {
        name: "curl",
        currentVersion: "7.81.0-1ubuntu1.16",
        version: "7.81.0-1ubuntu1.21",
        security: true,
        sizeBytes: 194_000,
      },
      {
        name: "linux-image-5.15.0-131-generic",
        currentVersion: null,
        version: "5.15.0-131.141",
        security: true,
        sizeBytes: 11_800_000,
        osBuildAfter: "5.15.0-131-generic",
      },
    ],
  },
};

const RINGS = ["dev", "staging", "prod"] as const;

/** Rates of the behaviours the generator sprinkles over the fleet (the rest are clean servers). */
const RATES = {
  installFailure: 0.02,
  regression: 0.01,
  disconnected: 0.01,
  rollback: 0.005,
  rebootLoop: 0.005,
  disconnectDuringInstall: 0.01,
  lockContention: 0.005,
};

function behaviour(random: SeededRandom, os: "windows" | "linux", index: number): Partial<DeviceInput> {
  const roll = random.next();
  let edge = 0;
  const hit = (rate: number): boolean => roll < (edge += rate);
  const firstUpdate = os === "windows" ? "KB5012345" : "openssl";
  if (hit(RATES.installFailure))
    return { outcomes: { [firstUpdate]: { result: "fails", hresult: os === "windows" ? "0x80070643" : 100 } } };
  if (hit(RATES.regression)) {
    return {
      breaks: [
        {
          update: firstUpdate,
          app: "Portal",
          check: "health",
          when: random.chance(0.5) ? "immediately" : "afterReboot",
        },
      ],
    };
  }
  if (hit(RATES.disconnected)) return { agent: { status: "Disconnected" } };
  if (hit(RATES.rollback) && os === "windows") return { outcomes: { KB5012345: { result: "rollsBackOnReboot" } } };
  if (hit(RATES.rebootLoop)) return { reboot: { loops: random.int(1, 3) } };
  if (hit(RATES.disconnectDuringInstall))
    return { agent: { disconnectDuring: [{ script: "install", afterSeconds: 30, forMinutes: random.int(2, 20) }] } };
  if (hit(RATES.lockContention))
    return {
      runningCommand: { name: `patchpilot-held-${index}`, runId: `run-held-${String(index).padStart(6, "0")}` },
    };
  return {};
}

/**
 * A large, realistic fleet: tenants of ~2,500 servers, clients of ~50, one nightly window per client with three
 * rings, a fifth of the servers in scale sets (or the given mix of device kinds), and a few percent of the
 * behaviours PatchPilot must handle.
 * Deterministic: the same options give the same scenario, byte for byte.
 */
export function generateScenario(options: GenerateOptions): ScenarioInput {
  const random = seededRandom(options.seed);
  const tenantCount = Math.max(2, Math.ceil(options.devices / 2500));
  const clientCount = Math.max(4, Math.ceil(options.devices / 50));
  const tenants = Array.from({ length: tenantCount }, (_, i) => ({
    id: `msp-${String(i + 1).padStart(2, "0")}`,
    displayName: `MSP ${i + 1}`,
  }));
  const clients = Array.from({ length: clientCount }, (_, i) => {
    const tenant = tenants[i % tenantCount]?.id ?? "msp-01";
    const client = `client-${String(i + 1).padStart(4, "0")}`;
    return {
      tenant,
      client,
      displayName: `Client ${i + 1}`,
      timeZone: random.pick(["Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago"]),
      windows: [`${client}-nightly`],
    };
  });
  const windows = clients.map((c) => ({
    id: `${c.client}-nightly`,
    tenant: c.tenant,
    clients: [c.client],
    timeZone: c.timeZone,
    recurrence: { frequency: "Daily" as const },
    startTime: "02:00",
    durationMinutes: 240,
    rings: RINGS.map((name) => ({ name })),
    maxConcurrency: "25%",
    maxErrors: "10%",
  }));
  const policies: ScenarioInput["policies"] = [
    // A global layer states every field (the overlay refuses an effective policy with a gap): the defaults plus a check.
    {
      ...structuredClone(DEFAULT_GLOBAL_POLICY),
      appValidation: {
        apps: [{ name: "Portal", checks: [{ type: "http", name: "health", url: "https://localhost/health" }] }],
      },
    },
    ...tenants.map((t) => ({ scope: { level: "tenant" as const, tenant: t.id }, update: { maxReboots: 2 } })),
  ];

  const scaleSets: NonNullable<ScenarioInput["scaleSets"]> = [];
  const devices: DeviceInput[] = [];
  for (let i = 0; i < options.devices; i++) {
    const client = clients[i % clientCount] ?? clients[0];
    if (client === undefined) break;
    const os = random.chance(0.6) ? ("windows" as const) : ("linux" as const);
    const ring = RINGS[random.int(0, 2)] ?? "prod";
    const updateSets = [os === "windows" ? "ws2022-2026-01" : "ubuntu2204-2026-01"];
    const name = `${client.client.replace("client-", "c")}-${os === "windows" ? "WIN" : "lnx"}-${String(i).padStart(5, "0")}`;
    const extra = behaviour(random, os, i);
    const kind = pickKind(random, options.kinds);
    if (kind === "vmss" || kind === "vmssFlex") {
      const flexible = kind === "vmssFlex";
      const setName = `${flexible ? "vmssflex" : "vmss"}-${client.client}-${os}-${ring}`;
      if (!scaleSets.some((s) => s.name === setName))
        scaleSets.push({
          name: setName,
          os,
          ...(flexible ? { orchestrationMode: "Flexible" as const } : {}),
          tenant: client.tenant,
          client: client.client,
          ring,
        });
      devices.push({ name, kind, os, scaleSet: setName, updateSets, ...extra } as DeviceInput);
    } else {
      devices.push({
        name,
        ...(kind === "vm" ? { kind } : {}),
        os,
        tenant: client.tenant,
        client: client.client,
        ring,
        updateSets,
        ...extra,
      } as DeviceInput);
    }
  }
  return {
    name: `generated-${options.devices}-seed-${options.seed}`,
    seed: options.seed,
    tenants,
    clients,
    windows,
    policies,
    updateSets: UPDATE_SETS,
    scaleSets,
    devices,
  };
}
