import type { MaintenanceWindow } from "../schemas/policies";
import type { PolicyDocumentIssue } from "./policyDocumentError";

/** The install estimate (`update.maxInstallMinutes`) that applies to some of a window's devices, and where it came from. */
export interface InstallEstimate {
  minutes: number;
  /** The layer that set it (`global`, `tenant:t`, `client:t/c`, `device:t/c/d`) and, for a client, which one. */
  from: string;
}

/**
 * A window shorter than the install estimate of the devices it covers can never start an install: the planner refuses
 * an install with less than `maxInstallMinutes` left (rateControl.decideInstallBudget), so every device would end in
 * 210 without an attempt. Refused at save time instead, naming the window's field. Pure.
 */
export function checkWindowFitsEstimates(
  window: Pick<MaintenanceWindow, "durationMinutes">,
  estimates: readonly InstallEstimate[],
): PolicyDocumentIssue[] {
  const tooLong = estimates.filter((e) => e.minutes > window.durationMinutes);
  if (tooLong.length === 0) return [];
  const worst = tooLong.reduce((a, b) => (b.minutes > a.minutes ? b : a));
  return [
    {
      path: "durationMinutes",
      message:
        `a ${window.durationMinutes}-minute window cannot fit the install estimate update.maxInstallMinutes = ` +
        `${worst.minutes} (set by ${worst.from}): no install could ever start; lengthen the window or lower the estimate`,
    },
  ];
}
