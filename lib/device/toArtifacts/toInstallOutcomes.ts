import type { CatalogEntry, InstallOutcome } from "../../schemas/artifacts/catalog";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { ScriptError } from "../../schemas/device/envelope";
import type { InstallOutput, InstallResult } from "../../schemas/device/install";
import { WuaUpdateIdSchema } from "../../schemas/device/parameters";
import { provenance } from "./conversion";

const INSTALLED: ReadonlySet<InstallResult["result"]> = new Set([
  "Succeeded",
  "SucceededWithErrors",
  "AlreadyInstalled",
]);

// WUA update ids are GUIDs, whose case carries no meaning; package names are case-sensitive.
const sameUpdate = (requested: CatalogEntry, reported: InstallResult): boolean =>
  requested.updateId === reported.updateId ||
  (WuaUpdateIdSchema.safeParse(requested.updateId).success &&
    requested.updateId.toLowerCase() === reported.updateId.toLowerCase());

/**
 * InstallOutcome has no `NotFound`. The agent looked for the approved update and no longer offers it (withdrawn or
 * superseded since the catalog): the request was made and failed, so `Failed`. `NotAttempted` stays reserved for
 * "the script never reached it" (a crash, a disconnect), which a re-run can fix and NotFound cannot. The device's own
 * word is kept on the line as a collection error with code `not-found`.
 */
function resultOf(reported: InstallResult): InstallOutcome["result"] {
  return reported.result === "NotFound" ? "Failed" : reported.result;
}

function lineNotes(requested: CatalogEntry, reported: InstallResult | undefined): ScriptError[] {
  if (reported === undefined) {
    return [
      {
        section: "results",
        message: `the install script reported no result for ${requested.updateId}`,
        code: "not-reported",
      },
    ];
  }
  if (reported.result === "NotFound") {
    return [
      {
        section: "results",
        message: `the update agent no longer offers ${requested.updateId}${requested.version !== undefined ? ` ${requested.version}` : ""}`,
        code: "not-found",
      },
    ];
  }
  return [];
}

/**
 * `install` output → the lines of `install-summary.jsonl`: one per requested (approved) update, in request order.
 * An update the script did not report is `NotAttempted` (installed false, at the install's end time). Device values
 * win; the catalog entry fills what the device left out (title, KB, version). Each line carries the script's errors
 * (the context of the whole command) plus its own note; results for updates never requested are not outcomes of
 * this run's approvals and stay only in the raw transcript.
 */
export function toInstallOutcomes(
  output: InstallOutput,
  requested: readonly CatalogEntry[],
  source: ScriptSource,
): InstallOutcome[] {
  const results = output.data.results;
  return requested.map((entry): InstallOutcome => {
    const reported = results.find((r) => sameUpdate(entry, r));
    const { source: src, collectionErrors } = provenance(source, output.errors);
    const kb = reported?.kb ?? entry.kb;
    const version = reported?.version ?? entry.version;
    return {
      source: src,
      collectionErrors: [...collectionErrors, ...lineNotes(entry, reported)],
      schemaVersion: 1,
      updateId: entry.updateId,
      ...(kb !== undefined ? { kb } : {}),
      title: reported?.title ?? entry.title,
      ...(version !== undefined ? { version } : {}),
      installed: reported !== undefined && INSTALLED.has(reported.result),
      result: reported === undefined ? "NotAttempted" : resultOf(reported),
      ...(reported?.hresult !== undefined ? { hresult: reported.hresult } : {}),
      rebootRequired: reported?.rebootRequired ?? false,
      finishedAt: reported?.finishedAt ?? output.data.finishedAt,
    };
  });
}
