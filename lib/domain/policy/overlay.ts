import type { z } from "zod";
import type { AppSpec, DiagnosticsPolicy, UpdatePolicy } from "../../schemas/policies";
import {
  EffectivePolicySchema,
  PolicyLayerSchema,
  PolicyScopeSchema,
  type EffectivePolicy,
  type PolicyLayer,
  type PolicyProvenance,
  type PolicyScope,
} from "../../schemas/policyLayer";
import { mergeGates } from "../gates/mergeGates";
import { mergeHooks } from "../hooks/mergeHooks";
import { mergeRemediationPolicy } from "../remediation/mergeRemediationPolicy";
import { mergeSnapshots } from "../snapshots/mergeSnapshots";

// Policy overlay: Global → Tenant → Client → Device layers merged into the one policy a device run uses, with
// the layer each value came from. Pure: no I/O, no clock; the same layers always give the same output (the
// effective policy and its provenance go into evidence and are hashed). Merge rules and reasons:
// docs/policy-overlay.md.

/** One reason a layer (or the merged result, layer `effective`) was refused. */
export interface PolicyIssue {
  /** `global`, `tenant:t`, `client:t/c`, `device:t/c/d`; `layers[i]` when the scope itself is unreadable; `effective` after merging. */
  layer: string;
  /** Dotted field path, list indexes in brackets (`update.deferralDays`, `update.excludeKbs[0]`); "" for the layer as a whole. */
  path: string;
  message: string;
}

/** A policy layer (or the overlay of the layers) was refused; `issues` names each layer and field at fault. */
export class PolicyValidationError extends Error {
  override readonly name = "PolicyValidationError";
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    super(
      `policy overlay refused (${issues.length} issue${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${i.layer} ${i.path === "" ? "(layer)" : i.path}: ${i.message}`).join("\n"),
    );
    this.issues = issues;
  }
}

/** The overlay's output: the effective policy and, per field path (or list item), the layer it came from. */
export interface PolicyOverlayResult {
  policy: EffectivePolicy;
  provenance: PolicyProvenance;
}

/** The name a layer goes by in provenance and errors: `global`, `tenant:t`, `client:t/c`, `device:t/c/d`. */
export function layerName(scope: PolicyScope): string {
  switch (scope.level) {
    case "global":
      return "global";
    case "tenant":
      return `tenant:${scope.tenant}`;
    case "client":
      return `client:${scope.tenant}/${scope.client}`;
    case "device":
      return `device:${scope.tenant}/${scope.client}/${scope.device}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Merge rules. `satisfies Record<keyof …>` makes a field added to a schema without a rule a compile error.
// ---------------------------------------------------------------------------------------------

/** replace: the most specific layer that sets the field wins. union: every layer's items, de-duplicated, sorted. */
type ListOrScalarRule = "replace" | "union";

const UPDATE_RULES = {
  classifications: "replace", // replace, not union: a client must be able to narrow what it gets
  severities: "replace", // replace, not union: same reason as classifications
  deferralDays: "replace", // scalar: most specific layer wins
  includeKbs: "union", // union: force-includes from every layer accumulate
  excludeKbs: "union", // union: a tenant's block of a known-bad KB survives a client listing its own blocks
  excludePackages: "union", // union: same reason as excludeKbs, for Linux packages
  rebootPolicy: "replace", // scalar: most specific layer wins
  maxInstallMinutes: "replace", // scalar: most specific layer wins
  maxReboots: "replace", // scalar: most specific layer wins
  rebootTimeoutMinutes: "replace", // scalar: most specific layer wins
} as const satisfies Record<keyof Omit<UpdatePolicy, "schemaVersion">, ListOrScalarRule>;

const DIAGNOSTICS_RULES = {
  required: "replace", // scalar: most specific layer wins
  eventLogLookbackHours: "replace", // scalar: most specific layer wins
} as const satisfies Record<keyof Omit<DiagnosticsPolicy, "schemaVersion" | "rules">, ListOrScalarRule>;

// diagnostics.rules: keyed union by rule name (mergeDiagnosticsRules), like apps: a more specific layer's rule of the
// same name replaces the whole rule; rules with other names accumulate. No layer setting it means no rules.

// appValidation.apps: keyed union by app name (mergeApps): a more specific layer's app replaces the whole app of
// the same name (its checks are not merged check by check), apps with other names accumulate.

const LEVEL_RANK: Record<PolicyScope["level"], number> = { global: 0, tenant: 1, client: 2, device: 3 };
const LEVEL_ORDER = "Global → Tenant → Client → Device";

interface NamedLayer {
  name: string;
  layer: PolicyLayer;
}

/** Code-unit order: locale-independent, so the output is the same on every host. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function toIssues(layer: string, zodIssues: readonly z.core.$ZodIssue[]): PolicyIssue[] {
  return zodIssues.flatMap((issue): PolicyIssue[] =>
    issue.code === "unrecognized_keys"
      ? // One issue per unknown key, at the key's own path, so a typo is named where it is.
        issue.keys.map((key) => ({
          layer,
          path: formatPath([...issue.path, key]),
          message: `unknown field "${key}"`,
        }))
      : [{ layer, path: formatPath(issue.path), message: issue.message }],
  );
}

/** The layer's name, even when the rest of it is malformed; `layers[i]` when the scope cannot be read. */
function rawLayerName(raw: unknown, index: number): string {
  if (typeof raw === "object" && raw !== null && "scope" in raw) {
    const scope = PolicyScopeSchema.safeParse(raw.scope);
    if (scope.success) return layerName(scope.data);
  }
  return `layers[${index}]`;
}

function parseLayers(rawLayers: readonly unknown[]): NamedLayer[] {
  const issues: PolicyIssue[] = [];
  const parsed: NamedLayer[] = [];
  rawLayers.forEach((raw, index) => {
    const result = PolicyLayerSchema.safeParse(raw);
    if (result.success) parsed.push({ name: layerName(result.data.scope), layer: result.data });
    else issues.push(...toIssues(rawLayerName(raw, index), result.error.issues));
  });
  if (issues.length > 0) throw new PolicyValidationError(issues);
  return parsed;
}

/** At most one layer per level, in Global → Tenant → Client → Device order, and scopes that nest. */
function checkStructure(layers: readonly NamedLayer[]): void {
  const issues: PolicyIssue[] = [];
  let previous: NamedLayer | undefined;
  let tenantOwner: { tenant: string; name: string } | undefined;
  let clientOwner: { client: string; name: string } | undefined;
  for (const current of layers) {
    const { scope } = current.layer;
    if (previous !== undefined) {
      const prevLevel = previous.layer.scope.level;
      if (LEVEL_RANK[scope.level] === LEVEL_RANK[prevLevel]) {
        issues.push({
          layer: current.name,
          path: "scope.level",
          message: `a second ${scope.level} layer (after ${previous.name}); at most one layer per level`,
        });
      } else if (LEVEL_RANK[scope.level] < LEVEL_RANK[prevLevel]) {
        issues.push({
          layer: current.name,
          path: "scope.level",
          message: `${scope.level} layer after ${previous.name}; layers must be given ${LEVEL_ORDER}`,
        });
      }
    }
    if (scope.level !== "global") {
      if (tenantOwner === undefined) tenantOwner = { tenant: scope.tenant, name: current.name };
      else if (scope.tenant !== tenantOwner.tenant) {
        issues.push({
          layer: current.name,
          path: "scope.tenant",
          message: `tenant "${scope.tenant}" does not match tenant "${tenantOwner.tenant}" of ${tenantOwner.name}`,
        });
      }
    }
    if (scope.level === "client" || scope.level === "device") {
      if (clientOwner === undefined) clientOwner = { client: scope.client, name: current.name };
      else if (scope.client !== clientOwner.client) {
        issues.push({
          layer: current.name,
          path: "scope.client",
          message: `client "${scope.client}" does not match client "${clientOwner.client}" of ${clientOwner.name}`,
        });
      }
    }
    previous = current;
  }
  if (issues.length > 0) throw new PolicyValidationError(issues);
}

function missingIssue(path: string): PolicyIssue {
  return { layer: "effective", path, message: "no layer sets this field (the global layer should)" };
}

/** Merges one section (`update` or `diagnostics`) field by field with its rule table. */
function mergeSection(
  section: "update" | "diagnostics",
  rules: Readonly<Record<string, ListOrScalarRule>>,
  layers: readonly NamedLayer[],
  provenance: Map<string, string>,
  missing: PolicyIssue[],
  removalIssues: PolicyIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(rules)) {
    const path = `${section}.${field}`;
    const values = layers.flatMap(({ name, layer }) => {
      const value = (layer[section] as Readonly<Record<string, unknown>> | undefined)?.[field];
      return value === undefined ? [] : [{ name, value }];
    });
    if (values.length === 0) {
      missing.push(missingIssue(path));
      continue;
    }
    if (rule === "replace") {
      // Most specific layer that sets the field wins (layers are in Global → Device order).
      const winner = values[values.length - 1]!;
      out[field] = winner.value;
      provenance.set(path, winner.name);
    } else {
      // Union: first (least specific) layer to introduce an item owns it; output sorted, de-duplicated. A layer's
      // explicit removals (only includeKbs may be removed) apply before its own items, at its place in the order.
      const introducedBy = new Map<string, string>();
      for (const { name, layer } of layers) {
        const removals = section === "update" && field === "includeKbs" ? (layer.remove?.includeKbs ?? []) : [];
        removals.forEach((item, index) => {
          if (!introducedBy.delete(item)) {
            removalIssues.push({
              layer: name,
              path: `remove.includeKbs[${index}]`,
              message: `${item} is not in ${path} of any less specific layer; nothing to remove`,
            });
          } else provenance.set(`removed.${path}[${item}]`, name);
        });
        const value = (layer[section] as Readonly<Record<string, unknown>> | undefined)?.[field];
        if (value === undefined) continue;
        for (const item of value as readonly string[]) {
          if (!introducedBy.has(item)) introducedBy.set(item, name);
          // Added again after a removal: the re-adding layer owns it, the removal no longer applies.
          provenance.delete(`removed.${path}[${item}]`);
        }
      }
      const items = [...introducedBy.keys()].sort(compareStrings);
      out[field] = items;
      for (const item of items) provenance.set(`${path}[${item}]`, introducedBy.get(item)!);
    }
  }
  return out;
}

/**
 * Keyed union by app name: the most specific definition of an app wins whole; output sorted by name. A layer's
 * removals (`remove.apps`, `remove.checks`) apply to what the less specific layers defined, before its own apps.
 */
function mergeApps(
  layers: readonly NamedLayer[],
  provenance: Map<string, string>,
  missing: PolicyIssue[],
  removalIssues: PolicyIssue[],
): unknown[] {
  const byName = new Map<string, { app: AppSpec; name: string }>();
  let set = false;
  for (const { name, layer } of layers) {
    (layer.remove?.apps ?? []).forEach((appName, index) => {
      if (!byName.delete(appName)) {
        removalIssues.push({
          layer: name,
          path: `remove.apps[${index}]`,
          message: `no less specific layer defines app ${appName}; nothing to remove`,
        });
      } else provenance.set(`removed.appValidation.apps[${appName}]`, name);
    });
    (layer.remove?.checks ?? []).forEach(({ app: appName, check }, index) => {
      const path = `remove.checks[${index}]`;
      const owner = byName.get(appName);
      const kept = owner?.app.checks.filter((c) => c.name !== check);
      if (owner === undefined || kept === undefined || kept.length === owner.app.checks.length) {
        removalIssues.push({
          layer: name,
          path,
          message: `no less specific layer defines check ${check} of app ${appName}; nothing to remove`,
        });
      } else if (kept.length === 0) {
        removalIssues.push({
          layer: name,
          path,
          message: `removing ${check} would leave app ${appName} without checks; remove the app (remove.apps) instead`,
        });
      } else {
        byName.set(appName, { app: { ...owner.app, checks: kept }, name: owner.name });
        provenance.set(`removed.appValidation.apps[${appName}].checks[${check}]`, name);
      }
    });
    if (layer.appValidation?.apps === undefined) continue;
    set = true;
    for (const app of layer.appValidation.apps) {
      byName.set(app.name, { app, name });
      // Defined again after a removal: the new definition stands whole, the removals no longer apply to it.
      for (const key of [...provenance.keys()])
        if (
          key === `removed.appValidation.apps[${app.name}]` ||
          key.startsWith(`removed.appValidation.apps[${app.name}].`)
        )
          provenance.delete(key);
    }
  }
  if (!set) {
    missing.push(missingIssue("appValidation.apps"));
    return [];
  }
  const names = [...byName.keys()].sort(compareStrings);
  return names.map((appName) => {
    const winner = byName.get(appName)!;
    provenance.set(`appValidation.apps[${appName}]`, winner.name);
    return winner.app;
  });
}

/** Keyed union by rule name, as apps; output sorted by name. Unset everywhere = no rules (policies predating rules). */
function mergeDiagnosticsRules(layers: readonly NamedLayer[], provenance: Map<string, string>): unknown[] {
  const byName = new Map<string, { rule: unknown; name: string }>();
  for (const { name, layer } of layers) {
    for (const rule of layer.diagnostics?.rules ?? []) byName.set(rule.name, { rule, name });
  }
  return [...byName.keys()].sort(compareStrings).map((ruleName) => {
    const winner = byName.get(ruleName)!;
    provenance.set(`diagnostics.rules[${ruleName}]`, winner.name);
    return winner.rule;
  });
}

/** Keyed union by source name, as apps; output sorted by name. Unset everywhere = only app checks regress. */
function mergeRegressionSources(layers: readonly NamedLayer[], provenance: Map<string, string>): unknown[] {
  const byName = new Map<string, { source: unknown; name: string }>();
  for (const { name, layer } of layers) {
    for (const source of layer.appValidation?.regressionSources ?? []) byName.set(source.name, { source, name });
  }
  return [...byName.keys()].sort(compareStrings).map((sourceName) => {
    const winner = byName.get(sourceName)!;
    provenance.set(`appValidation.regressionSources[${sourceName}]`, winner.name);
    return winner.source;
  });
}

/**
 * Merges policy layers, given Global → Tenant → Client → Device (at most one per level; gaps allowed), into the
 * effective policy and its provenance. Throws PolicyValidationError for a malformed layer, layers out of order,
 * scopes that do not nest (e.g. a client layer of another tenant), or a field that no layer sets.
 */
export function resolveEffectivePolicy(layers: readonly unknown[]): PolicyOverlayResult {
  const named = parseLayers(layers);
  checkStructure(named);

  const provenance = new Map<string, string>();
  const missing: PolicyIssue[] = [];
  const removalIssues: PolicyIssue[] = [];
  const update = mergeSection("update", UPDATE_RULES, named, provenance, missing, removalIssues);
  const apps = mergeApps(named, provenance, missing, removalIssues);
  const diagnostics = mergeSection("diagnostics", DIAGNOSTICS_RULES, named, provenance, missing, removalIssues);
  diagnostics["rules"] = mergeDiagnosticsRules(named, provenance);
  const gates = mergeGates(named, provenance);
  const hooks = mergeHooks(named, provenance);
  const remediation = mergeRemediationPolicy(named, provenance);
  const snapshots = mergeSnapshots(named, provenance);
  // A removal of something no layer above adds is a typo or a stale layer: refused, not silently ignored.
  if (removalIssues.length > 0) throw new PolicyValidationError(removalIssues);
  if (missing.length > 0) throw new PolicyValidationError(missing);

  const result = EffectivePolicySchema.safeParse({
    schemaVersion: 1,
    update: { schemaVersion: 1, ...update },
    appValidation: { schemaVersion: 1, apps, regressionSources: mergeRegressionSources(named, provenance) },
    diagnostics: { schemaVersion: 1, ...diagnostics },
    ...(gates === undefined ? {} : { gates }),
    ...(hooks === undefined ? {} : { hooks }),
    ...(remediation === undefined ? {} : { remediation }),
    ...(snapshots === undefined ? {} : { snapshots }),
  });
  if (!result.success) throw new PolicyValidationError(toIssues("effective", result.error.issues));

  // Sorted keys: the record is hashed into evidence, so its serialisation must not depend on merge order.
  const sorted = [...provenance.entries()].sort(([a], [b]) => compareStrings(a, b));
  return { policy: result.data, provenance: Object.fromEntries(sorted) };
}
