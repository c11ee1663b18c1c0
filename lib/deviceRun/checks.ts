import type { Catalog } from "../schemas/artifacts/catalog";
import type { RunRecord } from "../schemas/artifacts/run";
import type { ValidateParams } from "../schemas/device/parameters";

/** The validate checks of the effective policy, flattened to {app, check}. */
export function checksOf(record: RunRecord): ValidateParams["checks"] {
  return record.policy.appValidation.apps.flatMap((app) => app.checks.map((check) => ({ app: app.name, check })));
}

/** settle × attempts of the slowest check: a validate command cannot end before it. */
export function slowestCheckSeconds(record: RunRecord): number {
  return Math.max(0, ...checksOf(record).map(({ check }) => check.settleSeconds * check.attempts));
}

/**
 * When an install is worth a first look: a minute of overhead, then per approved update a minute plus its download and
 * apply time at ~1.5 MB/s. A good first guess saves polls (each costs four history events); a wrong one only costs a
 * poll, the command's timeout still bounds the wait.
 */
export function installEstimateSeconds(catalog: Catalog | undefined): number {
  const approved = catalog?.updates.filter((u) => u.decision === "approved") ?? [];
  return Math.round(60 + approved.reduce((sum, u) => sum + 60 + (u.sizeBytes ?? 0) / 1_500_000, 0));
}
