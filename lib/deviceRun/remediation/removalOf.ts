import { ARTIFACTS } from "../../domain/artifacts";
import { planRemoval, type RemovalPlan } from "../../domain/remediation/planRemoval";
import type { InstallOutcome } from "../../schemas/artifacts/catalog";
import type { SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { OsFamily } from "../../schemas/common";
import type { RunFacts } from "../runFacts";

/** The removal plan of this run, from its verified install summary, baseline and effective policy. */
export async function removalOf(facts: RunFacts, os: OsFamily): Promise<RemovalPlan> {
  const run = await facts.runRecord();
  const outcomes = (await facts.read<InstallOutcome[]>(ARTIFACTS.installSummary)) ?? [];
  const baseline = os === "linux" ? await facts.read<SystemSnapshot>(ARTIFACTS.baseline) : undefined;
  return planRemoval(os, outcomes, baseline, run.policy.remediation?.keepKbs ?? []);
}
