import { z } from "zod";
import { ApiProblem, notFound } from "../../../../lib/api/apiProblem";
import { ARTIFACTS, specForPath } from "../../../../lib/domain/artifacts";
import { findTenantRun } from "../../../../lib/evidence/findTenantRun";
import { openEvidenceSession } from "../../../../lib/evidence/evidenceSession";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { RunParamsSchema } from "../../../../lib/schemas/api/runs";
import { defineApiRoute } from "../apiRoute";

/** An artifact path as the index names it (`05-install/install-summary.jsonl`): no `..`, no leading slash. */
const ArtifactPathSchema = z
  .string()
  .regex(
    /^[0-9]{2}-[a-z0-9-]+(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/,
    "must be an artifact path such as 05-install/install-summary.jsonl",
  )
  .refine((p) => !p.split("/").includes(".."), "must not contain ..");

/** `GET /api/v1/tenants/{tenant}/runs/{runId}/artifacts/{path}`: one artifact's exact bytes, checked against the index. */
/** What each media type an artifact is served with holds. */
const KINDS: Readonly<Record<string, string>> = {
  "application/json":
    "JSON artifacts (run.json, catalog.json, manifest.json, exit-code.json, …), RFC 8785 canonical JSON",
  "application/x-ndjson":
    "JSON Lines artifacts (install-summary.jsonl, events.jsonl): one canonical JSON document per line",
  "text/html": "report.html, the run's human-readable report",
  "text/plain": "Run Command transcripts (stdout/stderr exactly as the agent wrote them) and other text",
};

/** Every content type an artifact can be served with: the artifact kinds' own, as `specForPath` assigns them. */
export const ARTIFACT_CONTENT_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ...Object.values(ARTIFACTS).map((spec) => spec.contentType),
    specForPath("01-init/failure.json").contentType,
    specForPath("05-install/transcripts/x.stdout.txt").contentType,
  ].map((type) => [type, KINDS[type.split(";")[0]?.trim() ?? ""] ?? "An artifact"]),
);

export const getArtifactRoute = defineApiRoute({
  name: "apiGetArtifact",
  method: "GET",
  path: "tenants/{tenant}/runs/{runId}/artifacts/{*path}",
  tag: "evidence",
  summary: "Download one artifact of a run, verified against its indexed SHA-256",
  description:
    "Only indexed artifacts are served, and only after their bytes hash to the indexed SHA-256 (sent as x-patchpilot-sha256 and Repr-Digest). " +
    "Bytes that do not match are refused with 409 rather than served.",
  permission: "evidence:read",
  audit: "artifacts.read",
  params: RunParamsSchema.extend({ path: ArtifactPathSchema }),
  responses: {
    200: {
      description: "The artifact's exact bytes as stored, with the content type of its kind",
      contentTypes: ARTIFACT_CONTENT_TYPES,
      headers: {
        "x-patchpilot-sha256": "required",
        "Repr-Digest": "required",
        "Content-Security-Policy": "required",
        "X-Content-Type-Options": "required",
      },
    },
    404: { description: "No such run in this tenant, or no such artifact in the run", schema: ProblemSchema },
    409: { description: "The stored bytes do not match the index (evidence integrity failure)", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, runId, path } = call.params;
    const { deps } = call;
    const found = await findTenantRun(deps.storage.tables.runs, tenant, runId);
    if (found === undefined) throw notFound(`no run ${runId} in this tenant`);
    const session = openEvidenceSession(deps.evidence, found.ref);
    const lookup = await session.lookup(path);
    // The index row must point inside this run's own folder, whatever it says (tenant isolation): one that does not
    // is answered exactly as no row, so the response says nothing about the blob it names.
    if (lookup.status === "invalid")
      throw new ApiProblem(
        409,
        "Conflict",
        `the index row of ${path} is damaged: ${lookup.problem}`,
        undefined,
        "evidence-integrity",
      );
    if (lookup.status !== "found") throw notFound(`run ${runId} has no indexed artifact ${path}`);
    const { row } = lookup;
    const reading = await session.readBytes(path);
    const { bytes } = reading;
    if (bytes === undefined) {
      const detail =
        reading.read.status === "missing"
          ? `artifact ${path} is indexed but its blob is gone`
          : `artifact ${path} does not match its index: indexed ${row.sha256}, stored ${reading.read.actualSha256 ?? "unknown"}` +
            (reading.read.problem === undefined ? "" : ` (${reading.read.problem})`);
      throw new ApiProblem(409, "Conflict", detail, undefined, "evidence-integrity");
    }
    const digest = Buffer.from(row.sha256, "hex");
    return {
      status: 200,
      raw: { bytes, contentType: specForPath(path).contentType },
      headers: {
        "x-patchpilot-sha256": row.sha256,
        "repr-digest": `sha-256=:${digest.toString("base64")}:`,
        // report.html is ours and escaped, but evidence is served from the API's origin: no scripts, no sniffing.
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        "x-content-type-options": "nosniff",
      },
      auditDetails: { runId, path, sha256: row.sha256 },
    };
  },
});
