// The one list of a device run's exit codes. Everything else reads it or is generated from it: the rules
// (decideExitCode's priority), the zod schemas (ExitCodeSchema / ExitCodeNameSchema and so the API, the artifacts and
// docs/schemas), the events (which CloudEvents type each code sends besides run.completed, and docs/events), the
// dashboard figures and the local CLI's names. Files that cannot import it (KQL, the workbook, docs/*.md, the RMM
// PowerShell script) are compared with it by test/unit/domain/exitCodeDrift.test.ts.
//
// A leaf: no imports, so lib/schemas can read it without depending on domain logic.

/** One exit code of a device run. */
export interface ExitCodeDefinition {
  readonly code: number;
  readonly name: string;
  /** 1 is tried first: of every rule that matches, the code with the lowest priority number decides. */
  readonly priority: number;
  /** The CloudEvents `type` a run with this code sends besides `run.completed`; null: none. */
  readonly eventType: string | null;
  /**
   * Rules of this code that send another type than `eventType` (issue 21: a 240 says whether the device could not be
   * reached, the evidence could not be collected, or stored evidence fails verification). A rule not listed sends
   * `eventType`.
   */
  readonly ruleEventTypes?: Readonly<Record<string, string>>;
  /** What it tells an RMM tool or an operator, in one line (docs/rmm.md's table). */
  readonly meaning: string;
  /**
   * Counts against a window's maxErrors: the device was touched and something went wrong. Lock contention (170:
   * nothing was done) and a pending reboot the policy did not allow (150) are reported, not errors.
   */
  readonly windowError: boolean;
  /** Stops a window from promoting to its next ring: the patch itself may be bad. */
  readonly failsRingGate: boolean;
}

/** DESIGN.md's exit codes, in priority order (first match wins). */
export const EXIT_CODE_TABLE = [
  {
    code: 170,
    name: "ConcurrencyLock",
    priority: 1,
    eventType: "io.patchpilot.device.busy",
    // Issue 20: a pre-patch gate that failed (or could not be looked at) is not a busy device: it needs an operator
    // (free the disk, fix the backup), so it sends its own type.
    // A failed pre-install hook (the install then installed nothing) likewise needs an operator: its own type too.
    ruleEventTypes: { "170.gate-failed": "io.patchpilot.gate.failed", "170.hook-failed": "io.patchpilot.hook.failed" },
    meaning:
      "another patch process (a PatchPilot run, Windows Update, a package manager) holds this device; nothing was changed",
    windowError: false,
    failsRingGate: false,
  },
  {
    code: 220,
    name: "ValidationFailure",
    priority: 2,
    eventType: "io.patchpilot.regression.detected",
    meaning: "a business app check passed before patching and fails after",
    windowError: true,
    failsRingGate: true,
  },
  {
    code: 210,
    name: "InstallFailure",
    priority: 3,
    eventType: "io.patchpilot.install.failed",
    meaning: "an approved update did not install",
    windowError: true,
    failsRingGate: true,
  },
  {
    code: 240,
    name: "ReportingFailure",
    priority: 4,
    // Unlisted 240 rules are treated as the incident: an unknown reason to distrust evidence is not a benign one.
    eventType: "io.patchpilot.evidence.integrity_failed",
    ruleEventTypes: {
      "240.unreachable": "io.patchpilot.device.unreachable",
      "240.not-collected": "io.patchpilot.evidence.incomplete",
      "240.could-not-look": "io.patchpilot.evidence.incomplete",
      "240.unfinished": "io.patchpilot.evidence.incomplete",
    },
    meaning: "nothing verified says what happened",
    windowError: true,
    failsRingGate: false,
  },
  {
    code: 230,
    name: "DiagnosticsFailure",
    priority: 5,
    eventType: "io.patchpilot.diagnostics.failed",
    meaning: "required diagnostics could not be collected",
    windowError: true,
    failsRingGate: false,
  },
  {
    code: 150,
    name: "RebootRequired",
    priority: 6,
    eventType: "io.patchpilot.reboot.required",
    meaning: "a reboot is pending (policy did not allow it, or it did not complete)",
    windowError: false,
    failsRingGate: false,
  },
  {
    code: 0,
    name: "Success",
    priority: 7,
    eventType: null,
    meaning: "patched and validated, or nothing to do",
    windowError: false,
    failsRingGate: false,
  },
] as const satisfies readonly ExitCodeDefinition[];

/** One row of {@link EXIT_CODE_TABLE}. */
export type ExitCodeRow = (typeof EXIT_CODE_TABLE)[number];
/** 0, 150, 170, 210, 220, 230 or 240. */
export type ExitCodeValue = ExitCodeRow["code"];
/** Success, RebootRequired, ... */
export type ExitCodeNameValue = ExitCodeRow["name"];

const byPriority: readonly ExitCodeRow[] = [...EXIT_CODE_TABLE].sort((a, b) => a.priority - b.priority);
const byCode: readonly ExitCodeRow[] = [...EXIT_CODE_TABLE].sort((a, b) => a.code - b.code);

/** The codes, the one tried first first. */
export const EXIT_CODES_BY_PRIORITY: readonly ExitCodeValue[] = byPriority.map((r) => r.code);

/** The codes, ascending (the order of the schemas' unions and of every published list). */
export const EXIT_CODES_ASCENDING: readonly ExitCodeValue[] = byCode.map((r) => r.code);

/** The names, in the order of {@link EXIT_CODES_ASCENDING}. */
export const EXIT_CODE_NAMES_ASCENDING: readonly ExitCodeNameValue[] = byCode.map((r) => r.name);

/** A code by its name: `EXIT_CODE.ValidationFailure` is 220. */
export const EXIT_CODE = Object.fromEntries(EXIT_CODE_TABLE.map((r) => [r.name, r.code])) as {
  readonly [R in ExitCodeRow as R["name"]]: R["code"];
};

/** A name by its code: `EXIT_CODE_NAME[220]` is "ValidationFailure". */
export const EXIT_CODE_NAME = Object.fromEntries(EXIT_CODE_TABLE.map((r) => [r.code, r.name])) as {
  readonly [R in ExitCodeRow as R["code"]]: R["name"];
};

/** The row of a code, or undefined for a number that is not one. */
export function findExitCode(code: number): ExitCodeRow | undefined {
  return EXIT_CODE_TABLE.find((r) => r.code === code);
}

/** A code and its name as one pair (`{ exitCode: 240, exitCodeName: "ReportingFailure" }`), so the two cannot drift. */
export function exitCodeFields<N extends ExitCodeNameValue>(
  name: N,
): { exitCode: (typeof EXIT_CODE)[N]; exitCodeName: N } {
  return { exitCode: EXIT_CODE[name], exitCodeName: name };
}

/** The CloudEvents type a run that ended with `code` by `rule` sends besides run.completed; null: none. */
export function eventTypeOf(code: number, rule: string): string | null {
  const row: ExitCodeDefinition | undefined = findExitCode(code);
  if (row === undefined) return null;
  return row.ruleEventTypes?.[rule] ?? row.eventType;
}

/** Every event type the table can send (the codes' own and their rules'), in table order. */
export const EXIT_CODE_EVENT_TYPE_LIST: readonly string[] = [
  ...new Set(
    EXIT_CODE_TABLE.flatMap((r: ExitCodeDefinition) => [
      ...(r.eventType === null ? [] : [r.eventType]),
      ...Object.values(r.ruleEventTypes ?? {}),
    ]),
  ),
];
