import type { z } from "zod";

/** One bad field of a policy document: its path (`update.deferralDays`, `rings[0].name`; "" for the whole document). */
export interface PolicyDocumentIssue {
  path: string;
  message: string;
}

/** A stored (or about to be stored) policy document that is not valid; names the blob and every bad field. */
export class PolicyDocumentError extends Error {
  override readonly name = "PolicyDocumentError";

  constructor(
    readonly blobName: string,
    readonly issues: readonly PolicyDocumentIssue[],
  ) {
    super(
      `policy document ${blobName} is invalid:\n${issues.map((i) => `  ${i.path === "" ? "(document)" : i.path}: ${i.message}`).join("\n")}`,
    );
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Zod issues as document issues; an unknown key is reported at its own path, so a typo is named where it is. */
export function toDocumentIssues(issues: readonly z.core.$ZodIssue[]): PolicyDocumentIssue[] {
  return issues.flatMap((issue): PolicyDocumentIssue[] =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: `unknown field "${key}"` }))
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
}
