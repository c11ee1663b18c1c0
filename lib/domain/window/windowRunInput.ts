import type { MaintenanceWindow } from "../../schemas/policies";
import type { WindowRunInput } from "../../schemas/window";
import type { WindowOccurrence } from "./occurrences";

/** The maintenance-window orchestration's input for one occurrence (instants as ISO strings: it travels as JSON). */
export function windowRunInput(
  window: MaintenanceWindow,
  occurrence: WindowOccurrence,
  startedBy: WindowRunInput["startedBy"],
): WindowRunInput {
  return {
    window,
    occurrence: {
      ...occurrence,
      start: occurrence.start.toISOString(),
      end: occurrence.end.toISOString(),
      cutoff: occurrence.cutoff.toISOString(),
    },
    startedBy,
  };
}
