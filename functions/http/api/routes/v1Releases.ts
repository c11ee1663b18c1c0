import { ApiProblem, notFound } from "../../../../lib/api/apiProblem";
import { currentReleases, listReleases, putApproval } from "../../../../lib/release/releaseStore";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import {
  ApprovalResponseSchema,
  ApproveReleaseBodySchema,
  ReleaseListResponseSchema,
  ReleaseParamsSchema,
} from "../../../../lib/schemas/api/releases";
import { defineApiRoute, type ApiRoute } from "../apiRoute";

// Releases (docs/releases.md): sealed sets of updates a ring installed, promoted to the rings that follow it. The
// list shows which are current (not replaced by a re-cut); an approval is the manual promotion gate, one sealed
// document per principal beside the release, and the call is audited like every management change.

const listReleasesRoute = defineApiRoute({
  name: "apiListReleases",
  method: "GET",
  path: "tenants/{tenant}/releases",
  tag: "releases",
  summary: "The tenant's sealed releases, oldest first, and which are current",
  permission: "releases:read",
  params: TenantParamsSchema,
  responses: { 200: { description: "Releases", schema: ReleaseListResponseSchema } },
  async handle(call) {
    const all = await listReleases(call.deps.evidence, call.params.tenant);
    const current = new Set(currentReleases(all).map((r) => r.value.id));
    return {
      status: 200,
      json: {
        releases: all.map((r) => ({
          id: r.value.id,
          ring: r.value.source.ring,
          windowId: r.value.source.windowId,
          sealedAt: r.value.sealedAt,
          sha256: r.stored.sha256,
          updates: r.value.updates.map((u) => u.key),
          current: current.has(r.value.id),
          ...(r.value.replaces !== undefined ? { replaces: r.value.replaces.id } : {}),
        })),
      },
    };
  },
});

const approveReleaseRoute = defineApiRoute({
  name: "apiApproveRelease",
  method: "POST",
  path: "tenants/{tenant}/releases/{releaseId}/approvals",
  tag: "releases",
  summary: "Approve a release for promotion (the manual gate)",
  description:
    "Records the caller's approval of the release as sealed, create-once evidence beside it (one per principal: " +
    "approving again returns the first approval, 200). A ring whose window requires approval starts only once the " +
    "release it follows has one. 409 when a re-cut replaced the release (approve the re-cut). Audited.",
  permission: "releases:approve",
  audit: "releases.approve",
  params: ReleaseParamsSchema,
  body: ApproveReleaseBodySchema,
  responses: {
    201: { description: "Approved", schema: ApprovalResponseSchema },
    200: { description: "Already approved by this principal", schema: ApprovalResponseSchema },
    404: { description: "No such release in this tenant", schema: ProblemSchema },
    409: { description: "A re-cut replaced the release", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, releaseId } = call.params;
    const all = await listReleases(call.deps.evidence, tenant);
    const found = all.find((r) => r.value.id === releaseId);
    if (found === undefined) throw notFound(`no release ${releaseId} in this tenant`);
    const replacedBy = all.find((r) => r.value.replaces?.id === releaseId);
    if (replacedBy !== undefined)
      throw new ApiProblem(
        409,
        "Conflict",
        `release ${releaseId} was re-cut as ${replacedBy.value.id}; approve that one`,
        undefined,
        "release-replaced",
      );
    const caller = call.caller;
    const principal = caller === undefined ? "anonymous" : `${caller.kind}:${caller.id} (${caller.name})`;
    const stored = await putApproval(call.deps.evidence, found.value.source.ring, {
      schemaVersion: 1,
      kind: "patchpilot-release-approval",
      tenant,
      release: { id: releaseId, sha256: found.stored.sha256 },
      principal,
      at: call.deps.clock().toISOString(),
      ...(call.body.comment !== undefined ? { comment: call.body.comment } : {}),
    });
    return {
      status: stored.created ? 201 : 200,
      json: {
        release: stored.approval.release,
        principal: stored.approval.principal,
        at: stored.approval.at,
        evidence: stored.stored,
        created: stored.created,
      },
      auditDetails: { releaseId, releaseSha256: found.stored.sha256, created: stored.created },
    };
  },
});

export const RELEASE_ROUTES: readonly ApiRoute[] = [listReleasesRoute, approveReleaseRoute] as ApiRoute[];
