import type { GatesParams } from "../../../../lib/schemas/device/parameters";
import type { GatesData } from "../../../../lib/schemas/device/gates";
import { iso, type Answer, type AnswerContext } from "./answer";

const START_MS = 500;
const PROBE_MS = 1_000;

/**
 * `gates`: runs each probe as the device would, answered from the scenario's `gateProbes` (lib/device/*\/gates.*
 * run the MSP's script text; the emulator knows the answer instead). The backup provider (probe `backup`) prints the
 * last successful backup time; a custom check (probe `custom.<name>`) exits with its scenario code.
 */
export function answerGates({ state, startedAt: t }: AnswerContext, params: GatesParams): Answer {
  const answers = state.profile.spec.gateProbes;
  const probes: NonNullable<GatesData["probes"]> = params.probes.map((probe, i) => {
    const at = t + START_MS + i * PROBE_MS;
    if (probe.name === "backup") {
      const backup = answers?.backup;
      if (backup?.providerFails === true)
        return {
          name: probe.name,
          exitCode: 2,
          answer: "backup agent: service not reachable",
          timedOut: false,
          durationMs: PROBE_MS,
        };
      if (backup?.lastSuccessHoursAgo === undefined)
        return {
          name: probe.name,
          exitCode: 1,
          answer: "no successful backup recorded",
          timedOut: false,
          durationMs: PROBE_MS,
        };
      return {
        name: probe.name,
        exitCode: 0,
        answer: iso(at - backup.lastSuccessHoursAgo * 3_600_000),
        timedOut: false,
        durationMs: PROBE_MS,
      };
    }
    const custom = probe.name.startsWith("custom.") ? answers?.custom[probe.name.slice("custom.".length)] : undefined;
    return { name: probe.name, exitCode: custom ?? 0, answer: "", timedOut: false, durationMs: PROBE_MS };
  });
  const end = t + START_MS + probes.length * PROBE_MS;
  const data: GatesData = { startedAt: iso(t), finishedAt: iso(end), probes };
  return { data, errors: [], durationMs: end - t };
}
