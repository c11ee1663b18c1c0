import { PHASES, specForPath } from "../domain/artifacts";
import { MATRIX_CONTROLS, type MatrixControl } from "./complianceMatrix";
import type { OscalRunFacts } from "./oscalFacts";
import { OSCAL_NAMESPACE, uuidV5 } from "./oscalUuid";

/** The OSCAL version of the NIST JSON schema the document is written for (and validated against in the tests). */
export const OSCAL_VERSION = "1.2.1";

/** Name space of PatchPilot's own OSCAL properties (OSCAL requires one for names it does not define). */
export const OSCAL_PROP_NS = "https://patchpilot.dev/ns/oscal";

/** One packaged run, as the assessment results describe it. */
export interface OscalRun {
  client: string;
  device: string;
  runId: string;
  /** The run's folder inside the package (`runs/{client}/{device}/{runId}/`). */
  folder: string;
  startedAt: string;
  merkleRoot?: string;
  eventsChainHead?: string;
  /** True when the run verified at export time (verification-report.json). */
  verified: boolean;
  /** Packaged artifacts the assessment cites: path → SHA-256 as indexed and the export-time status. */
  artifacts: ReadonlyMap<string, { sha256: string; status: string }>;
  facts: OscalRunFacts;
}

/** What the document says about the export as a whole. */
export interface OscalContext {
  tenant: string;
  exportId: string;
  createdAt: string;
  from: string;
  to: string;
  toolVersion: string;
}

type Json = Record<string, unknown>;

const uuid = (name: string): string => uuidV5(name, OSCAL_NAMESPACE);
const prop = (name: string, value: string): Json => ({ name, ns: OSCAL_PROP_NS, value });

/** OSCAL's SP 800-53 control ids are lower case (`si-2`, `cm-3`). */
const controlId = (control: MatrixControl): string => control.id.toLowerCase();
const is80053 = (control: MatrixControl): boolean => control.framework === "NIST SP 800-53r5";

/** Exit codes under which the install outcomes do not show the flaws remediated (install failure, no evidence). */
const NOT_REMEDIATED = new Set([210, 240]);

/**
 * The export's OSCAL assessment results (NIST OSCAL 1.2.1, JSON): one `result` per packaged device run, with
 * - `reviewed-controls`: the SP 800-53r5 controls the compliance mapping cites for the run's artifacts;
 * - `observations`: per mapped control (SP 800-53r5, SP 800-40r4 phase, CIS safeguard) the artifacts that evidence
 *   it, per update outcome the install-summary line, and the exit-code decision, each citing its evidence;
 * - `findings`: per reviewed control, satisfied only when every artifact it cites verified at export time (and, for
 *   SI-2, every attempted update installed and the decision, once made, is not 210/240), otherwise not-satisfied;
 * - `back-matter`: one resource per cited artifact, linking the packaged file with its SHA-256.
 * UUIDs are name-based (v5) from tenant, run ids and paths, so the same evidence always gives the same document.
 */
export function buildAssessmentResults(runs: readonly OscalRun[], context: OscalContext): Json {
  const resources: Json[] = [];
  const results = runs.map((run) => runResult(run, context, resources));
  return {
    "assessment-results": {
      uuid: uuid(`assessment-results/${context.tenant}/${context.exportId}`),
      metadata: {
        title: `PatchPilot patch evidence of ${context.tenant}, ${context.from} to ${context.to}`,
        "last-modified": context.createdAt,
        version: context.exportId,
        "oscal-version": OSCAL_VERSION,
        props: [prop("export-id", context.exportId), prop("tool", `patchpilot ${context.toolVersion}`)],
        parties: [{ uuid: uuid(`party/${context.tenant}`), type: "organization", name: context.tenant }],
        remarks:
          "Generated from the evidence in this package. Every observation cites packaged artifacts by path and SHA-256 " +
          "(back-matter resources); check them with `patchpilot verify --package` or `sha256sum -c SHA256SUMS`.",
      },
      "import-ap": {
        href: "../export.json",
        remarks:
          "No separate OSCAL assessment plan is published: the plan is the export request (`scope` in export.json) and the " +
          "policy each run applied (01-init/run.json of the run).",
      },
      results: results.length > 0 ? results : [emptyResult(context)],
      ...(resources.length > 0 ? { "back-matter": { resources } } : {}),
    },
  };
}

function emptyResult(context: OscalContext): Json {
  return {
    uuid: uuid(`result/${context.tenant}/${context.exportId}/none`),
    title: "No sealed device run in scope",
    description: `No device run of ${context.tenant} was sealed between ${context.from} and ${context.to}.`,
    start: context.createdAt,
    "reviewed-controls": {
      "control-selections": [
        { "include-controls": MATRIX_CONTROLS.filter(is80053).map((c) => ({ "control-id": controlId(c) })) },
      ],
    },
  };
}

function runResult(run: OscalRun, context: OscalContext, resources: Json[]): Json {
  const key = `${context.tenant}/${run.client}/${run.device}/${run.runId}`;
  const deviceUuid = uuid(`device/${context.tenant}/${run.client}/${run.device}`);
  const subjects = [{ "subject-uuid": deviceUuid, type: "inventory-item", title: run.device }];

  // One back-matter resource per cited artifact of the run.
  const resourceOf = new Map<string, string>();
  for (const [path, artifact] of [...run.artifacts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const id = uuid(`resource/${key}/${path}`);
    resourceOf.set(path, id);
    resources.push({
      uuid: id,
      title: `${run.folder}${path}`,
      props: [prop("run-id", run.runId), prop("export-status", artifact.status)],
      rlinks: [
        {
          href: `../${run.folder}${path}`,
          "media-type": specForPath(path).contentType.split(";")[0],
          hashes: [{ algorithm: "SHA-256", value: artifact.sha256 }],
        },
      ],
    });
  }
  const evidence = (path: string, note = ""): Json | undefined => {
    const artifact = run.artifacts.get(path);
    const id = resourceOf.get(path);
    if (artifact === undefined || id === undefined) return undefined;
    return {
      href: `#${id}`,
      description: `${path}${note}: SHA-256 ${artifact.sha256}, ${artifact.status} when this package was built.`,
      props: [prop("sha256", artifact.sha256)],
    };
  };
  const cited = (control: MatrixControl): Json[] =>
    control.paths.map((p) => evidence(p)).filter((e): e is Json => e !== undefined);
  // The report files are built from the verified evidence after sealing and are not indexed artifacts: a control citing
  // one (SI-2 cites final-report.json) is judged on the indexed artifacts it cites.
  const allVerified = (control: MatrixControl): boolean =>
    control.paths.every((p) => {
      const artifact = run.artifacts.get(p);
      if (artifact === undefined && p.startsWith(`${PHASES.report}/`)) return true;
      return artifact?.status === "verified";
    });

  const observations: Json[] = [];
  const controlObservation = new Map<MatrixControl, string>();
  for (const control of MATRIX_CONTROLS) {
    const relevant = cited(control);
    if (relevant.length === 0) continue;
    const id = uuid(`observation/${key}/${control.framework}/${control.id}`);
    controlObservation.set(control, id);
    observations.push({
      uuid: id,
      title: `${control.framework} ${control.id}: ${control.title}`,
      description:
        `The artifacts of run ${run.runId} on ${run.device} that evidence ${control.framework} ${control.id} ` +
        `(${control.title}), examined when the package was built.`,
      props: [prop("framework", control.framework), prop("control-id", control.id)],
      methods: ["EXAMINE"],
      types: ["control-objective"],
      subjects,
      "relevant-evidence": relevant,
      collected: context.createdAt,
    });
  }

  const installPath = [...run.artifacts.keys()].find((p) => p.endsWith("/install-summary.jsonl"));
  const installObservations: string[] = [];
  for (const outcome of run.facts.installs ?? []) {
    const id = uuid(`observation/${key}/install/${outcome.updateId}`);
    installObservations.push(id);
    const name = outcome.kb ?? outcome.updateId;
    const relevant = installPath === undefined ? undefined : evidence(installPath, `, line ${outcome.line}`);
    observations.push({
      uuid: id,
      title: `${name}: ${outcome.installed ? "installed" : "not installed"} (${outcome.result})`,
      description: `${outcome.title}: installed=${String(outcome.installed)}, result ${outcome.result}, as the device reported it.`,
      props: [
        prop("update-id", outcome.updateId),
        ...(outcome.kb === undefined ? [] : [prop("kb", outcome.kb)]),
        prop("install-result", outcome.result),
      ],
      methods: ["TEST"],
      types: [outcome.installed ? "control-objective" : "finding"],
      subjects,
      ...(relevant === undefined ? {} : { "relevant-evidence": [relevant] }),
      collected: outcome.finishedAt,
    });
  }

  const decision = run.facts.decision;
  const decisionPath = [...run.artifacts.keys()].find((p) => p.endsWith("/exit-code.json"));
  let decisionObservation: string | undefined;
  if (decision !== undefined) {
    decisionObservation = uuid(`observation/${key}/exit-code`);
    const relevant = decisionPath === undefined ? undefined : evidence(decisionPath);
    observations.push({
      uuid: decisionObservation,
      title: `Exit code ${decision.exitCode} (${decision.name})`,
      description: `The run's decision, computed from its verified artifacts: ${decision.reasons.join("; ")}`,
      props: [prop("exit-code", String(decision.exitCode)), prop("exit-code-name", decision.name)],
      methods: ["EXAMINE"],
      types: [decision.exitCode === 0 ? "control-objective" : "finding"],
      subjects,
      ...(relevant === undefined ? {} : { "relevant-evidence": [relevant] }),
      collected: decision.decidedAt,
    });
  }
  const regressions = run.facts.regressions;
  if (regressions !== undefined) {
    const regressionsPath = [...run.artifacts.keys()].find((p) => p.endsWith("/regressions.json"));
    const relevant = regressionsPath === undefined ? undefined : evidence(regressionsPath);
    observations.push({
      uuid: uuid(`observation/${key}/regressions`),
      title: `${regressions.total} regression(s) after patching`,
      description:
        regressions.total === 0
          ? "No validation check that passed before patching failed after it."
          : `Checks that passed before patching and failed after it: ${regressions.items.map((r) => `${r.app}/${r.check}`).join(", ")}.`,
      props: [prop("total-regressions", String(regressions.total))],
      methods: ["TEST"],
      types: [regressions.total === 0 ? "control-objective" : "finding"],
      subjects,
      ...(relevant === undefined ? {} : { "relevant-evidence": [relevant] }),
      collected: decision?.decidedAt ?? context.createdAt,
    });
  }

  const reviewed = MATRIX_CONTROLS.filter((c) => is80053(c) && controlObservation.has(c));
  const findings = reviewed.map((control) => {
    const related = [controlObservation.get(control) as string];
    let satisfied = allVerified(control);
    let rule = "every artifact it cites verified when the package was built";
    if (controlId(control) === "si-2") {
      const installs = run.facts.installs;
      satisfied &&=
        installs !== undefined &&
        installs.every((i) => i.installed) &&
        (decision === undefined || !NOT_REMEDIATED.has(decision.exitCode));
      rule += ", every attempted update installed, and the exit code (once decided) is neither 210 nor 240";
      related.push(...installObservations, ...(decisionObservation === undefined ? [] : [decisionObservation]));
    }
    return {
      uuid: uuid(`finding/${key}/${control.id}`),
      title: `${control.id} ${control.title} on ${run.device}`,
      description: `Satisfied when ${rule}.`,
      target: {
        type: "objective-id",
        "target-id": `${controlId(control)}_obj`,
        status: { state: satisfied ? "satisfied" : "not-satisfied" },
      },
      "related-observations": related.map((id) => ({ "observation-uuid": id })),
    };
  });

  const start = run.startedAt;
  return {
    uuid: uuid(`result/${key}`),
    title: `Patch run ${run.runId} on ${run.device} (${run.client})`,
    description:
      `PatchPilot device run ${run.runId} on ${run.device} of client ${run.client}` +
      (decision === undefined ? "." : `: exit code ${decision.exitCode} (${decision.name}).`) +
      (run.verified
        ? " Its evidence verified when the package was built."
        : " Its evidence did NOT verify when the package was built; see verification-report.json."),
    start,
    ...(decision !== undefined && Date.parse(decision.decidedAt) >= Date.parse(start)
      ? { end: decision.decidedAt }
      : {}),
    props: [
      prop("run-id", run.runId),
      prop("client", run.client),
      prop("export-verification", run.verified ? "verified" : "failed"),
      ...(run.merkleRoot === undefined ? [] : [prop("merkle-root", run.merkleRoot)]),
      ...(run.eventsChainHead === undefined ? [] : [prop("events-chain-head", run.eventsChainHead)]),
    ],
    "local-definitions": {
      "inventory-items": [
        {
          uuid: deviceUuid,
          description: `Device ${run.device} of client ${run.client}`,
          props: [{ name: "asset-id", value: run.device }],
        },
      ],
    },
    "reviewed-controls": {
      "control-selections": [
        reviewed.length > 0
          ? { "include-controls": reviewed.map((c) => ({ "control-id": controlId(c) })) }
          : { description: "No artifact of this run evidences an SP 800-53r5 control.", "include-all": {} },
      ],
    },
    ...(observations.length > 0 ? { observations } : {}),
    ...(findings.length > 0 ? { findings } : {}),
  };
}
