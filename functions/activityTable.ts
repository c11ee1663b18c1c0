import type { ActivityHandler } from "durable-functions";
import { ArtifactSchemaError } from "../lib/evidence/runEvidence";
import { EvidenceConflictError, IndexConflictError } from "../lib/evidence/errors";
import {
  ACTIVITY_CONTRACTS,
  type ActivityName,
  type ActivityOutput,
  type ActivityRefusal,
} from "../lib/schemas/activities";
import { makeAdvanceDeviceRun } from "./activities/advanceDeviceRun";
import { makeBuildEvidenceExport } from "./activities/buildEvidenceExport";
import { makeDecidePromotion } from "./activities/decidePromotion";
import { makeDiscoverWindowTargets } from "./activities/discoverWindowTargets";
import { makeFailEvidenceExport } from "./activities/failEvidenceExport";
import { makeFinishDeviceRun } from "./activities/finishDeviceRun";
import { makePublishQuarantineEvents } from "./activities/publishQuarantineEvents";
import { makePublishRunEvents } from "./activities/publishRunEvents";
import { makePublishWindowEvents } from "./activities/publishWindowEvents";
import { makeSealRingRelease } from "./activities/sealRingRelease";
import { makeStartDeviceRun } from "./activities/startDeviceRun";
import { makeRunFailureHooks } from "./activities/runFailureHooks";
import { makeWriteWindowReport } from "./activities/writeWindowReport";
import { makeWriteDeploymentReport } from "./activities/writeDeploymentReport";
import { makePublishDeploymentEvents } from "./activities/publishDeploymentEvents";
import { deviceRunDeps, type ActivityDefinition, type AppDeps } from "./definitions";

/** One activity's implementation, built from the app's dependencies; the compiler checks it returns its output. */
type Implementations = { [N in ActivityName]: (deps: AppDeps) => (input: unknown) => Promise<ActivityOutput<N>> };

/** Every activity of lib/schemas/activities.ts's contract table, bound to its dependencies. */
const IMPLEMENTATIONS: Implementations = {
  startDeviceRun: (deps) => makeStartDeviceRun(deviceRunDeps(deps)),
  advanceDeviceRun: (deps) => makeAdvanceDeviceRun(deviceRunDeps(deps)),
  finishDeviceRun: (deps) => makeFinishDeviceRun(deviceRunDeps(deps)),
  runFailureHooks: (deps) => makeRunFailureHooks(deviceRunDeps(deps)),
  discoverWindowTargets: (deps) =>
    makeDiscoverWindowTargets({ arm: deps.arm, subscriptionIds: deps.config.arm.subscriptionIds }),
  writeWindowReport: (deps) => makeWriteWindowReport(deps),
  publishRunEvents: (deps) => makePublishRunEvents({ evidence: deps.evidence, publisher: deps.events }),
  publishWindowEvents: (deps) => makePublishWindowEvents({ evidence: deps.evidence, publisher: deps.events }),
  buildEvidenceExport: (deps) => makeBuildEvidenceExport(deps),
  failEvidenceExport: (deps) => makeFailEvidenceExport(deps),
  writeDeploymentReport: (deps) => makeWriteDeploymentReport(deps),
  publishDeploymentEvents: (deps) => makePublishDeploymentEvents({ evidence: deps.evidence, publisher: deps.events }),
  sealRingRelease: (deps) => makeSealRingRelease(deps),
  decidePromotion: (deps) => makeDecidePromotion(deps),
  publishQuarantineEvents: (deps) => makePublishQuarantineEvents({ evidence: deps.evidence, publisher: deps.events }),
};

function refusal(activity: string, kind: ActivityRefusal["activityRefused"]["kind"], message: string): ActivityRefusal {
  return { activityRefused: { activity, kind, message } };
}

/**
 * Runs an activity so that a deterministic failure is returned as a refusal instead of thrown: Durable would retry a
 * throw for ~12 minutes (RetryOptions cannot filter by error type), and these fail the same way every time. Exactly
 * these are refused: an input its contract rejects, an artifact that fails its own schema (ArtifactSchemaError), and
 * a write-once conflict (EvidenceConflictError, IndexConflictError). Anything else is thrown, so it is retried.
 */
export function refusingDeterministicFailures<N extends ActivityName>(
  name: N,
  run: (input: unknown) => Promise<ActivityOutput<N>>,
): (input: unknown) => Promise<ActivityOutput<N> | ActivityRefusal> {
  return async (input) => {
    const checked = ACTIVITY_CONTRACTS[name].input.safeParse(input);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? "(input)" : issue.path.join(".");
      return refusal(name, "input-invalid", `${where}: ${issue?.message ?? "invalid"}`);
    }
    try {
      return await run(input);
    } catch (error) {
      if (error instanceof ArtifactSchemaError) return refusal(name, "schema-refused", error.message);
      if (error instanceof EvidenceConflictError || error instanceof IndexConflictError)
        return refusal(name, "write-once-conflict", error.message);
      throw error;
    }
  };
}

/** The activities' definitions, with dependencies resolved when a handler first runs (not at registration). */
export function activityDefinitions(getDeps: () => AppDeps): ActivityDefinition[] {
  return (Object.keys(IMPLEMENTATIONS) as ActivityName[]).map((name) => {
    const handler: ActivityHandler = (input: unknown) =>
      refusingDeterministicFailures(name, IMPLEMENTATIONS[name](getDeps()))(input);
    return { kind: "activity", name, handler };
  });
}
