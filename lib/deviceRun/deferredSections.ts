import type { StageOutcome } from "../domain/run/planDeviceRun";
import type { StepFacts } from "../domain/run/steps";
import type { DeviceRunState } from "../schemas/deviceRun";
import { catalogAlreadyRan, catalogOutcomeOf, splitPreBundle } from "./catalogWithPre";
import type { CollectedCommand } from "./collectCommand";
import { postAlreadyRan, postOutcomeOf, splitProbeBundle } from "./probeWithPost";
import { splitInstallBundle } from "./rebootWithInstall";

// Issue 22: sections that ran in a stage's command on behalf of the next stage (the catalog after the pre steps, the
// reboot after the install, the post steps and the stability probe after the boot probe) wait for the stage's decision: recorded and decided in the
// same call when the plan enters that next stage, otherwise kept only as transcripts of what ran.

/** Splits a collected command into the sections recorded now and those deferred to the next stage's decision. */
export function splitDeferred(
  stage: DeviceRunState["stage"],
  collected: readonly CollectedCommand[],
): { now: CollectedCommand[]; deferred: CollectedCommand[] } {
  return splitPreBundle(stage, collected) ?? splitInstallBundle(stage, collected) ?? splitProbeBundle(stage, collected);
}

/** The outcome of the deferred sections when the plan enters the stage they belong to; undefined otherwise. */
export function deferredAlreadyRan(
  plan: { state: DeviceRunState; submit: readonly string[] },
  deferred: readonly CollectedCommand[],
): ((facts: readonly StepFacts[]) => StageOutcome) | undefined {
  if (catalogAlreadyRan(plan, deferred)) return catalogOutcomeOf;
  if (postAlreadyRan(plan, deferred)) return (facts) => postOutcomeOf(deferred, facts);
  return undefined;
}
