import type { BaselineData } from "../../../../lib/schemas/device/baseline";
import { iso, type Answer, type AnswerContext } from "./answer";

// Get-HotFix, WUA history, CIM services/drivers and the registry take a while on Windows; Linux reads files.
const DURATION_MS = { windows: 20_000, linux: 8_000 } as const;

/** `baseline`: the device's facts at the time the command starts. */
export function answerBaseline({ state, startedAt: t }: AnswerContext): Answer {
  const p = state.profile;
  const data: BaselineData = {
    capturedAt: iso(t),
    os: { family: p.os, name: p.osName, version: p.osVersion, build: state.osBuild(t) },
    installedUpdates: state.installedUpdates(t),
    updateHistory: state.history(t),
    services: state.services(t),
    drivers: p.os === "windows" ? p.drivers.map((d) => ({ ...d })) : [],
    apps: p.apps.map((a) => ({ ...a })),
    pendingReboot: state.pendingReboot(t),
    lastBootTime: iso(state.timeline.lastBootAt(t).at),
    disks: state.disks(t),
    // What the real scripts report from IUpdateInstaller.IsBusy / the package manager's lock (issue 21).
    installInProgress: p.spec.foreignInstall === undefined ? { busy: false } : { busy: true, ...p.spec.foreignInstall },
  };
  return { data, errors: [], durationMs: DURATION_MS[p.os] };
}
