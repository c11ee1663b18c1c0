import { ApiProblem } from "../../../../lib/api/apiProblem";
import type { FieldError } from "../../../../lib/schemas/api/problem";
import type { Caller } from "../../../../lib/schemas/api/access";
import {
  StaleWriteError,
  VersionedDocuments,
  type DocumentVersion,
  type VersionAuthor,
} from "../../../../lib/policy/versionedDocuments";
import type { ApiCall, ApiResult } from "../apiRoute";

// Conditional writes (RFC 9110 §13.1, RFC 6585 §3) shared by the management routes: create with
// `If-None-Match: *`, update with `If-Match: <ETag from the read>`; neither is 428, a stale one is 412.

/** What the caller's precondition says the write expects: the ETag it read, or (undefined) that nothing exists yet. */
export function writePrecondition(headers: Headers): string | undefined {
  const ifMatch = headers.get("if-match")?.trim();
  const ifNoneMatch = headers.get("if-none-match")?.trim();
  if (ifMatch !== undefined && ifMatch !== "") {
    if (ifMatch === "*" || ifMatch.includes(","))
      throw new ApiProblem(
        428,
        "Precondition Required",
        "If-Match must be the one ETag you read (GET answers it), not * or a list: a blind write could undo someone else's change",
        [{ field: "header.if-match", reason: "must be a single ETag" }],
        "precondition-required",
      );
    return ifMatch;
  }
  if (ifNoneMatch === "*") return undefined;
  throw new ApiProblem(
    428,
    "Precondition Required",
    "send If-Match with the ETag you read to update, or If-None-Match: * to create",
    [{ field: "header.if-match", reason: "required" }],
    "precondition-required",
  );
}

/** 412: the document changed (or appeared) since the caller read it. */
export function staleWrite(error: StaleWriteError): ApiProblem {
  return new ApiProblem(
    412,
    "Precondition Failed",
    `the document changed since you read it; GET it again (ETag ${error.currentEtag ?? "now different"}), reapply your change and retry`,
    [{ field: "header.if-match", reason: "stale: not the current ETag" }],
    "stale-etag",
  );
}

/** A 400 for save-time findings, in the same shape as a schema refusal. */
export function invalidDocument(errors: readonly FieldError[]): ApiProblem {
  const first = errors[0];
  return new ApiProblem(
    400,
    "Bad Request",
    first === undefined ? "invalid document" : `${first.field}: ${first.reason}`,
    errors,
    "invalid-input",
  );
}

/** The version's author: the authenticated caller. */
export function authorOf(caller: Caller | undefined): VersionAuthor {
  return caller === undefined
    ? { kind: "import", id: "unknown", name: "" }
    : { kind: caller.kind, id: caller.id, name: caller.name };
}

/** The versioned documents of the policy container. */
export function documentsOf(call: ApiCall<unknown, unknown, unknown>): VersionedDocuments {
  return new VersionedDocuments(call.deps.storage.policies);
}

/**
 * Saves a document under the caller's precondition and answers 201/200 with the new ETag; the audit event gets the
 * before/after hashes and the version.
 */
export async function saveDocument(
  call: ApiCall<unknown, unknown, unknown>,
  name: string,
  document: unknown,
  what: string,
): Promise<ApiResult> {
  const expected = writePrecondition(call.headers);
  try {
    const { before, after } = await documentsOf(call).save(
      name,
      document,
      expected,
      authorOf(call.caller),
      call.deps.clock(),
    );
    return {
      status: before === undefined ? 201 : 200,
      json: {
        name,
        version: after.version,
        sha256: after.sha256,
        ...(before === undefined ? {} : { previousSha256: before.sha256 }),
        etag: after.etag,
      },
      headers: { etag: after.etag },
      auditDetails: {
        document: what,
        version: after.version,
        afterSha256: after.sha256,
        beforeSha256: before?.sha256 ?? "none",
      },
    };
  } catch (error) {
    if (error instanceof StaleWriteError) throw staleWrite(error);
    throw error;
  }
}

/** Summary of a version for a history listing. */
export function versionSummary(v: DocumentVersion): Record<string, unknown> {
  return {
    version: v.version,
    savedAt: v.savedAt,
    author: v.author,
    sha256: v.sha256,
    ...(v.previousSha256 === undefined ? {} : { previousSha256: v.previousSha256 }),
  };
}
