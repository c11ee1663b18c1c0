import type { DiagnosticsRuleResult } from "../../schemas/artifacts/catalog";
import type { DiagnosticsData } from "../../schemas/device/diagnostics";
import type { DiagnosticsRule } from "../../schemas/policies";

/** What the rules read: the diagnostics script's sections as collected (null = could not look), and the run's start. */
export interface DiagnosticsRuleInput {
  data: Pick<DiagnosticsData, "eventLogErrors" | "updateAgentErrors" | "disks"> & {
    serviceRestarts?: DiagnosticsData["serviceRestarts"];
  };
  os: "windows" | "linux";
  /** The run's start: events before it are the lookback's old noise, events from it on are the run's. */
  runStartedAt: string;
}

/** Windows' documented unexpected-shutdown events: EventLog 6008 ("previous system shutdown ... was unexpected"), Kernel-Power 41. */
const UNEXPECTED_SHUTDOWN = [
  { source: "EventLog", id: 6008 },
  { source: "Microsoft-Windows-Kernel-Power", id: 41 },
] as const;

const SAMPLE = 10;

function unknown(rule: DiagnosticsRule, section: string): DiagnosticsRuleResult {
  return {
    rule: rule.name,
    type: rule.type,
    verdict: "unknown",
    inputs: { section },
    detail: `${section} could not be collected: the rule cannot be judged (not read as "none")`,
  };
}

function verdict(
  rule: DiagnosticsRule,
  failed: boolean,
  inputs: Record<string, unknown>,
  detail: string,
): DiagnosticsRuleResult {
  return { rule: rule.name, type: rule.type, verdict: failed ? "fail" : "pass", inputs, detail };
}

/** A service entry matches a policy name exactly (case-insensitive) or as Windows' "Display Name (ServiceName)". */
function serviceMatches(entry: string, names: readonly string[]): boolean {
  if (names.length === 0) return true;
  const e = entry.toLowerCase();
  return names.some((n) => e === n.toLowerCase() || e.endsWith(`(${n.toLowerCase()})`));
}

function systemDisk(os: "windows" | "linux"): string {
  return os === "windows" ? "C:" : "/";
}

function evaluateOne(rule: DiagnosticsRule, input: DiagnosticsRuleInput): DiagnosticsRuleResult {
  const { data, os } = input;
  const start = Date.parse(input.runStartedAt);
  switch (rule.type) {
    case "newEvents": {
      if (data.eventLogErrors === null) return unknown(rule, "eventLogErrors");
      const fromSource = data.eventLogErrors.filter(
        (e) =>
          (rule.sources.length === 0 || rule.sources.some((s) => s.toLowerCase() === e.source.toLowerCase())) &&
          (rule.levels as readonly string[]).includes(e.level),
      );
      const key = (e: { source: string; id: number }): string => `${e.source}/${e.id}`;
      const before = new Set(fromSource.filter((e) => Date.parse(e.time) < start).map(key));
      const during = fromSource.filter((e) => Date.parse(e.time) >= start);
      const counted = rule.onlyNew ? during.filter((e) => !before.has(key(e))) : during;
      return verdict(
        rule,
        counted.length > rule.maxCount,
        {
          since: input.runStartedAt,
          sources: rule.sources,
          levels: rule.levels,
          onlyNew: rule.onlyNew,
          maxCount: rule.maxCount,
          count: counted.length,
          preExisting: [...before].sort(),
          events: counted.slice(0, SAMPLE).map((e) => ({ time: e.time, source: e.source, id: e.id, level: e.level })),
        },
        `${counted.length} ${rule.onlyNew ? "new " : ""}${rule.levels.join("/")} event(s)${rule.sources.length > 0 ? ` from ${rule.sources.join(", ")}` : ""} since the run started (allowed ${rule.maxCount})`,
      );
    }
    case "updateAgentErrors": {
      if (data.updateAgentErrors === null) return unknown(rule, "updateAgentErrors");
      const during = data.updateAgentErrors.filter((e) => Date.parse(e.time) >= start);
      return verdict(
        rule,
        during.length > rule.maxCount,
        {
          since: input.runStartedAt,
          maxCount: rule.maxCount,
          count: during.length,
          errors: during.slice(0, SAMPLE).map((e) => ({ time: e.time, hresult: e.hresult, message: e.message })),
        },
        `${during.length} update-agent error(s) since the run started (allowed ${rule.maxCount})`,
      );
    }
    case "diskFree": {
      if (data.disks === null) return unknown(rule, "disks");
      const mount = rule.mount ?? systemDisk(os);
      const disk = data.disks.find((d) => d.mount.toLowerCase() === mount.toLowerCase());
      if (disk === undefined) {
        return {
          rule: rule.name,
          type: rule.type,
          verdict: "unknown",
          inputs: { mount, mounts: data.disks.map((d) => d.mount) },
          detail: `no disk mounted at ${mount} was reported`,
        };
      }
      const percent = disk.totalBytes > 0 ? (disk.freeBytes / disk.totalBytes) * 100 : 0;
      const lowPercent = rule.minFreePercent !== undefined && percent < rule.minFreePercent;
      const lowBytes = rule.minFreeBytes !== undefined && disk.freeBytes < rule.minFreeBytes;
      return verdict(
        rule,
        lowPercent || lowBytes,
        {
          mount: disk.mount,
          freeBytes: disk.freeBytes,
          totalBytes: disk.totalBytes,
          freePercent: Math.round(percent * 100) / 100,
          ...(rule.minFreePercent !== undefined ? { minFreePercent: rule.minFreePercent } : {}),
          ...(rule.minFreeBytes !== undefined ? { minFreeBytes: rule.minFreeBytes } : {}),
        },
        `${disk.mount} has ${disk.freeBytes} bytes free (${percent.toFixed(1)}%)` +
          (rule.minFreePercent !== undefined ? `, minimum ${rule.minFreePercent}%` : "") +
          (rule.minFreeBytes !== undefined ? `, minimum ${rule.minFreeBytes} bytes` : ""),
      );
    }
    case "serviceCrashLoop": {
      const restarts = data.serviceRestarts;
      if (restarts === null || restarts === undefined) return unknown(rule, "serviceRestarts");
      const looping = restarts.filter((r) => serviceMatches(r.service, rule.services) && r.restarts > rule.maxRestarts);
      return verdict(
        rule,
        looping.length > 0,
        { services: rule.services, maxRestarts: rule.maxRestarts, looping },
        looping.length === 0
          ? `no service restarted more than ${rule.maxRestarts} time(s) since boot`
          : `restarted more than ${rule.maxRestarts} time(s) since boot: ${looping.map((r) => `${r.service} (${r.restarts})`).join(", ")}`,
      );
    }
    case "unexpectedShutdown": {
      if (os === "linux") {
        return {
          rule: rule.name,
          type: rule.type,
          verdict: "not-applicable",
          inputs: {},
          detail: "the journal has no unexpected-shutdown event; use a newEvents rule on the kernel's messages",
        };
      }
      if (data.eventLogErrors === null) return unknown(rule, "eventLogErrors");
      const found = data.eventLogErrors.filter(
        (e) => Date.parse(e.time) >= start && UNEXPECTED_SHUTDOWN.some((u) => u.source === e.source && u.id === e.id),
      );
      return verdict(
        rule,
        found.length > 0,
        {
          since: input.runStartedAt,
          events: found.slice(0, SAMPLE).map((e) => ({ time: e.time, source: e.source, id: e.id })),
        },
        found.length === 0
          ? "no unexpected shutdown since the run started"
          : `${found.length} unexpected shutdown event(s) since the run started`,
      );
    }
  }
}

/**
 * Evaluates the policy's diagnostics rules over what the diagnostics script collected. Pure: the same sections and
 * rules give the same verdicts. A rule whose section could not be collected is `unknown`, never a pass.
 */
export function evaluateDiagnosticsRules(
  rules: readonly DiagnosticsRule[],
  input: DiagnosticsRuleInput,
): DiagnosticsRuleResult[] {
  return rules.map((rule) => evaluateOne(rule, input));
}
