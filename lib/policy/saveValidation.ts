import { PolicyValidationError, resolveEffectivePolicy } from "../domain/policy/overlay";
import type { FieldError } from "../schemas/api/problem";
import { CheckSchema, type MaintenanceWindow } from "../schemas/policies";
import type { PolicyLayer } from "../schemas/policyLayer";

// Save-time validation: what the schemas alone let through but a run would fail on. The schemas (checked before
// this, at the API boundary) already refuse unknown fields and malformed values; this adds the checks that need the
// whole document or its neighbours. Each finding names the field, as the API's problem bodies do (`body.rings[2].name`).
// The window-vs-install-estimate check lives in the policy store's save path (lib/policy/policyStore.ts); callers
// run both.

/** The check types a run knows, from the schema the device scripts are driven by. */
export const KNOWN_CHECK_TYPES: readonly string[] = CheckSchema.options.map((o) => o.shape.type.value);

/**
 * A check type the run would not know. The schema refuses these too; this names the allowed types in the message,
 * for documents that reach the store by another path (the import command validates raw JSON with it first).
 */
export function findUnknownCheckTypes(raw: unknown, field = "body"): FieldError[] {
  const out: FieldError[] = [];
  const apps = (raw as { appValidation?: { apps?: unknown } } | null)?.appValidation?.apps;
  if (!Array.isArray(apps)) return out;
  apps.forEach((app: unknown, a) => {
    const checks = (app as { checks?: unknown } | null)?.checks;
    if (!Array.isArray(checks)) return;
    checks.forEach((check: unknown, c) => {
      const type = (check as { type?: unknown } | null)?.type;
      if (typeof type !== "string" || !KNOWN_CHECK_TYPES.includes(type)) {
        out.push({
          field: `${field}.appValidation.apps[${a}].checks[${c}].type`,
          reason: `unknown check type ${JSON.stringify(type)}; one of ${KNOWN_CHECK_TYPES.join(", ")}`,
        });
      }
    });
  });
  return out;
}

/**
 * A ring order the rollout could not follow: the rollout walks `rings` in order, each gated on the one before, so a
 * ring named twice would gate on itself through the rings between (a cycle) and its devices would run twice.
 */
export function findRingCycles(window: Pick<MaintenanceWindow, "rings">, field = "body"): FieldError[] {
  const firstAt = new Map<string, number>();
  const out: FieldError[] = [];
  window.rings.forEach((ring, index) => {
    const first = firstAt.get(ring.name);
    if (first === undefined) firstAt.set(ring.name, index);
    else {
      out.push({
        field: `${field}.rings[${index}].name`,
        reason: `ring ${ring.name} is already rings[${first}]: the ring order would cycle back to it`,
      });
    }
  });
  return out;
}

/**
 * The layer as the next run would see it: merged with the layers stored around it (Global → … → this one). Refuses
 * what the overlay would refuse at run time (scope mismatches, a removal of something no layer above adds).
 * `others` are the stored layers of the other levels on the way to this one, least specific first.
 */
export function findOverlayIssues(layer: PolicyLayer, others: readonly PolicyLayer[], field = "body"): FieldError[] {
  const rank = { global: 0, tenant: 1, client: 2, device: 3 } as const;
  const below = others.filter((o) => rank[o.scope.level] < rank[layer.scope.level]);
  try {
    resolveEffectivePolicy([...below, layer]);
    return [];
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    return error.issues.map((issue) => ({
      field: issue.path === "" ? field : `${field}.${issue.path}`,
      reason: `${issue.layer}: ${issue.message}`,
    }));
  }
}
