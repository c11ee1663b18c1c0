import type { StageOutcome } from "../domain/run/planDeviceRun";
import { stageOutcomeOf } from "../domain/run/stageOutcome";
import type { StageTable, StepFacts } from "../domain/run/steps";
import type { DeviceRunState } from "../schemas/deviceRun";
import type { CollectedCommand } from "./collectCommand";

// Issue 22: the catalog rides at the end of the pre stage's command (baseline + pre-validation, + gates): one history
// iteration (eight events) and one device round-trip less per run. A product decision: the scan is read-only (it
// lists the applicable updates and changes nothing on the device), so running it before the pre decision is known
// costs nothing but its seconds. Its section is recorded only when the pre decision is the catalog stage, exactly as a
// catalog command of its own would be (03-catalog/catalog.json, or its failure record); when pre stops the run (a
// failed baseline or pre-validation, a foreign install, a gate) it is not recorded: no 03-catalog artifact, the exit
// codes as before, and its transcript and status record (collected with the bundle) stay in the run as what ran.

const CATALOG = "catalog";

/** The pre stage's steps plus the catalog's, when steps are bundled and the pre stage does not have it already. */
export function withCatalogAfterPre(
  stage: DeviceRunState["stage"],
  queued: readonly string[],
  stages: StageTable,
  bundleSteps: boolean | undefined,
): string[] {
  const catalog = stages.catalog.steps;
  const fold =
    bundleSteps !== false &&
    stage === "pre" &&
    queued.length > 0 &&
    catalog.length > 0 &&
    catalog.every((step) => !queued.includes(step));
  return fold ? [...queued, ...catalog] : [...queued];
}

/** Splits a collected pre bundle into the pre sections (recorded now) and the catalog's (deferred). */
export function splitPreBundle(
  stage: DeviceRunState["stage"],
  collected: readonly CollectedCommand[],
): { now: CollectedCommand[]; deferred: CollectedCommand[] } | undefined {
  if (stage !== "pre" || collected.length < 2 || collected.at(-1)?.command.step !== CATALOG) return undefined;
  return { now: collected.slice(0, -1), deferred: collected.slice(-1) };
}

/** True when the plan enters exactly the catalog stage whose section already ran after the pre steps. */
export function catalogAlreadyRan(
  plan: { state: DeviceRunState; submit: readonly string[] },
  deferred: readonly CollectedCommand[],
): boolean {
  return (
    plan.state.stage === "catalog" &&
    deferred.length === 1 &&
    deferred[0]?.command.step === CATALOG &&
    plan.submit.length === 1 &&
    plan.submit[0] === CATALOG
  );
}

/** The catalog outcome of its deferred section's facts. */
export function catalogOutcomeOf(facts: readonly StepFacts[]): StageOutcome {
  return stageOutcomeOf("catalog", facts);
}
