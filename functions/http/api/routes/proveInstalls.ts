import { proveInstalls } from "../../../../lib/api/installs/proveInstalls";
import { resolveDeviceName } from "../../../../lib/api/installs/resolveDeviceName";
import {
  InstallProofResponseSchema,
  InstallsParamsSchema,
  InstallsQuerySchema,
} from "../../../../lib/schemas/api/installs";
import { defineApiRoute } from "../apiRoute";

/** `GET /api/v1/tenants/{tenant}/devices/{device}/installs`: the auditor's proof that an update was installed. */
export const proveInstallsRoute = defineApiRoute({
  name: "apiProveInstalls",
  method: "GET",
  path: "tenants/{tenant}/devices/{device}/installs",
  tag: "evidence",
  summary:
    "Prove an install: each matching install record with its evidence, Merkle inclusion proof and a verification made now",
  description:
    'Answers "prove KB5012345 was installed on WIN-SERVER01 on 2026-01-20" (kb=KB5012345&on=2026-01-20; or from/to). Each record cites the ' +
    "line of 05-install/install-summary.jsonl that records the outcome, the artifact's SHA-256, its RFC 6962 inclusion proof against the run's " +
    "Merkle root, the event-chain head, and checks recomputed from storage at the time of the request. installed=false records are returned " +
    "too: a failed attempt is evidence as well. Device names compare case-insensitively: the answer's `device` is the name as the " +
    "evidence spells it (`requestedDevice` is the name asked, when it differs).",
  permission: "evidence:read",
  audit: "installs.prove",
  params: InstallsParamsSchema,
  query: InstallsQuerySchema,
  responses: {
    200: {
      description: "Matching records (possibly none), each with its proof and checks",
      schema: InstallProofResponseSchema,
    },
  },
  async handle(call) {
    const { tenant, device } = call.params;
    const installs = call.deps.storage.tables.installs;
    const answer = await proveInstalls(call.deps.evidence, tenant, device, call.query, call.deps.clock(), {
      resolveDevice: (t, d) => resolveDeviceName(installs, t, d),
    });
    return {
      status: 200,
      json: answer,
      auditDetails: {
        device: answer.device,
        records: answer.count,
        ...(call.query.kb === undefined ? {} : { kb: call.query.kb }),
        allVerified: answer.records.every((r) => r.verification.ok),
      },
    };
  },
});
