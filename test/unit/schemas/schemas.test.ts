import type { z } from "zod";
import { RegressionsSchema } from "../../../lib/schemas/artifacts/validation";
import {
  AppValidationPolicySchema,
  ClientProfileSchema,
  DiagnosticsPolicySchema,
  MaintenanceWindowSchema,
  UpdatePolicySchema,
} from "../../../lib/schemas/policies";
import { EffectivePolicySchema, PolicyLayerSchema } from "../../../lib/schemas/policyLayer";

/** The issues a parse reports, as path + code + message; [] when the value parses. */
function issuesOf(schema: z.ZodType, value: unknown): { path: PropertyKey[]; code: string; message: string }[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path, code: i.code, message: i.message }));
}
const pathsOf = (schema: z.ZodType, value: unknown): PropertyKey[][] => issuesOf(schema, value).map((i) => i.path);

const updatePolicy = {
  schemaVersion: 1,
  classifications: ["Critical", "Security"],
  severities: ["Critical", "Important"],
  deferralDays: 7,
  includeKbs: ["KB5012345"],
  excludeKbs: ["KB12345678"],
  excludePackages: ["linux-image-generic", "libc6:amd64", "g++"],
  rebootPolicy: "IfRequired",
  maxInstallMinutes: 120,
  maxReboots: 2,
  rebootTimeoutMinutes: 30,
};

const appValidation = {
  schemaVersion: 1,
  apps: [
    {
      name: "WebApp",
      checks: [
        { name: "home page", type: "http", url: "https://app.example.com/health" },
        { name: "iis", type: "service", serviceName: "W3SVC" },
        { name: "sql port", type: "tcp", host: "localhost", port: 1433 },
      ],
    },
    {
      name: "Agent",
      checks: [
        { name: "agent process", type: "process", processName: "agent.exe", minCount: 1 },
        { name: "probe", type: "script", shell: "powershell", script: "exit 0" },
        { name: "no app errors", type: "eventlog", logName: "Application", eventIds: [1000, 1026] },
      ],
    },
  ],
};

const diagnostics = { schemaVersion: 1, required: true, eventLogLookbackHours: 24 };

const maintenanceWindow = {
  schemaVersion: 1,
  id: "patch-tuesday-plus-5",
  tenant: "acme-msp",
  clients: ["contoso"],
  timeZone: "Europe/Berlin",
  recurrence: { frequency: "MonthlyByWeekday", weekOfMonth: 2, dayOfWeek: "Tue", offsetDays: 5 },
  startTime: "22:00",
  durationMinutes: 240,
  rings: [{ name: "canary" }, { name: "broad", waitAfterPreviousMinutes: 1440, maxFailurePercent: 5 }],
  maxConcurrency: "10%",
  maxErrors: 2,
};

const clientProfile = {
  schemaVersion: 1,
  tenant: "acme-msp",
  client: "contoso",
  displayName: "Contoso Ltd",
  timeZone: "America/New_York",
  windows: ["patch-tuesday-plus-5"],
  contacts: [{ name: "Pat Admin", email: "pat@contoso.example", role: "owner" }],
};

const policyLayer = {
  schemaVersion: 1,
  scope: { level: "client", tenant: "acme-msp", client: "contoso" },
  update: { deferralDays: 14, excludeKbs: ["KB5099999"] },
  diagnostics: { required: false },
};

const effectivePolicy = { schemaVersion: 1, update: updatePolicy, appValidation, diagnostics };

const outcome = (success: boolean) => ({ success, detail: success ? "200 OK" : "connection refused" });
const regressions = {
  schemaVersion: 1,
  TotalRegressions: 1,
  regressions: [{ app: "WebApp", check: "home page", pre: outcome(true), post: outcome(false) }],
  preExisting: [{ app: "Agent", check: "probe", pre: outcome(false), post: outcome(false) }],
};

/** A copy of the app-validation policy with the first app's checks replaced. */
const withChecks = (checks: unknown[]) => ({
  ...appValidation,
  apps: [{ name: "WebApp", checks }],
});

describe("valid documents parse", () => {
  it.each<[string, z.ZodType, unknown]>([
    ["UpdatePolicy", UpdatePolicySchema, updatePolicy],
    ["AppValidationPolicy", AppValidationPolicySchema, appValidation],
    ["DiagnosticsPolicy", DiagnosticsPolicySchema, diagnostics],
    ["MaintenanceWindow", MaintenanceWindowSchema, maintenanceWindow],
    ["ClientProfile", ClientProfileSchema, clientProfile],
    ["PolicyLayer", PolicyLayerSchema, policyLayer],
    ["EffectivePolicy", EffectivePolicySchema, effectivePolicy],
    ["Regressions", RegressionsSchema, regressions],
  ])("%s", (_name, schema, value) => {
    expect(issuesOf(schema, value)).toEqual([]);
  });

  it("fills check defaults", () => {
    const parsed = AppValidationPolicySchema.parse(appValidation);
    expect(parsed.apps[0]?.checks[0]).toEqual({
      name: "home page",
      type: "http",
      url: "https://app.example.com/health",
      attempts: 3,
      settleSeconds: 0,
      timeoutSeconds: 30,
      method: "GET",
      expectStatus: [200],
    });
  });

  it("accepts each maintenance-window recurrence and count-or-percent form", () => {
    for (const recurrence of [
      { frequency: "Daily" },
      { frequency: "Weekly", daysOfWeek: ["Sat", "Sun"] },
      { frequency: "MonthlyByWeekday", weekOfMonth: -1, dayOfWeek: "Fri" },
    ]) {
      expect(issuesOf(MaintenanceWindowSchema, { ...maintenanceWindow, recurrence })).toEqual([]);
    }
    for (const value of [0, 25, "0%", "5%", "100%"]) {
      expect(issuesOf(MaintenanceWindowSchema, { ...maintenanceWindow, maxConcurrency: value })).toEqual([]);
    }
  });
});

describe("invalid documents are refused, naming the field", () => {
  it("UpdatePolicy: negative deferralDays", () => {
    expect(issuesOf(UpdatePolicySchema, { ...updatePolicy, deferralDays: -1 })).toEqual([
      expect.objectContaining({ path: ["deferralDays"], code: "too_small" }),
    ]);
  });

  it("UpdatePolicy: fractional deferralDays and too many reboots", () => {
    expect(pathsOf(UpdatePolicySchema, { ...updatePolicy, deferralDays: 1.5, maxReboots: 6 })).toEqual([
      ["deferralDays"],
      ["maxReboots"],
    ]);
  });

  it.each(["12345", "kb5012345", "KB12345", "KB123456789", "KB5012345 "])("UpdatePolicy: KB %j", (kb) => {
    expect(issuesOf(UpdatePolicySchema, { ...updatePolicy, includeKbs: ["KB5012345", kb] })).toEqual([
      expect.objectContaining({ path: ["includeKbs", 1], message: "must look like KB5012345" }),
    ]);
  });

  it("UpdatePolicy: empty classifications and an unknown severity", () => {
    expect(pathsOf(UpdatePolicySchema, { ...updatePolicy, classifications: [], severities: ["Severe"] })).toEqual([
      ["classifications"],
      ["severities", 0],
    ]);
  });

  it("AppValidationPolicy: duplicate app names", () => {
    const apps = [appValidation.apps[0], { ...appValidation.apps[1], name: "WebApp" }];
    expect(issuesOf(AppValidationPolicySchema, { ...appValidation, apps })).toEqual([
      expect.objectContaining({ path: ["apps"], code: "custom", message: "app names must be unique" }),
    ]);
  });

  it("AppValidationPolicy: duplicate check names within an app", () => {
    const checks = [
      { name: "probe", type: "service", serviceName: "W3SVC" },
      { name: "probe", type: "tcp", host: "localhost", port: 443 },
    ];
    expect(issuesOf(AppValidationPolicySchema, withChecks(checks))).toEqual([
      expect.objectContaining({ path: ["apps", 0, "checks"], message: "check names must be unique within an app" }),
    ]);
  });

  it("AppValidationPolicy: a check with an unknown type", () => {
    const checks = [{ name: "ftp", type: "ftp", url: "ftp://files.example.com" }];
    expect(issuesOf(AppValidationPolicySchema, withChecks(checks))).toEqual([
      expect.objectContaining({ path: ["apps", 0, "checks", 0, "type"], code: "invalid_union" }),
    ]);
  });

  it("AppValidationPolicy: an http check without url", () => {
    const checks = [{ name: "home page", type: "http" }];
    expect(issuesOf(AppValidationPolicySchema, withChecks(checks))).toEqual([
      expect.objectContaining({ path: ["apps", 0, "checks", 0, "url"], code: "invalid_type" }),
    ]);
  });

  it("AppValidationPolicy: an http check with a malformed url or status", () => {
    const checks = [{ name: "home page", type: "http", url: "not a url", expectStatus: [200, 700] }];
    expect(pathsOf(AppValidationPolicySchema, withChecks(checks))).toEqual([
      ["apps", 0, "checks", 0, "url"],
      ["apps", 0, "checks", 0, "expectStatus", 1],
    ]);
  });

  it("AppValidationPolicy: out-of-range check settings", () => {
    const checks = [{ name: "iis", type: "service", serviceName: "W3SVC", attempts: 0, timeoutSeconds: 601 }];
    expect(pathsOf(AppValidationPolicySchema, withChecks(checks))).toEqual([
      ["apps", 0, "checks", 0, "attempts"],
      ["apps", 0, "checks", 0, "timeoutSeconds"],
    ]);
  });

  it("AppValidationPolicy: an app without checks", () => {
    expect(pathsOf(AppValidationPolicySchema, withChecks([]))).toEqual([["apps", 0, "checks"]]);
  });

  it("MaintenanceWindow: durationMinutes 30 and startTime 25:00", () => {
    expect(
      issuesOf(MaintenanceWindowSchema, { ...maintenanceWindow, durationMinutes: 30, startTime: "25:00" }),
    ).toEqual([
      expect.objectContaining({ path: ["startTime"], message: "must be HH:MM" }),
      expect.objectContaining({ path: ["durationMinutes"], code: "too_small" }),
    ]);
  });

  it.each(["9:00", "24:00", "12:60", "12:00:00"])("MaintenanceWindow: startTime %j", (startTime) => {
    expect(pathsOf(MaintenanceWindowSchema, { ...maintenanceWindow, startTime })).toEqual([["startTime"]]);
  });

  it("MaintenanceWindow: weekly without days, no rings, a percentage over 100", () => {
    expect(
      pathsOf(MaintenanceWindowSchema, {
        ...maintenanceWindow,
        recurrence: { frequency: "Weekly", daysOfWeek: [] },
        rings: [],
        maxErrors: "150%",
      }),
    ).toEqual([["recurrence", "daysOfWeek"], ["rings"], ["maxErrors"]]);
  });

  it("MaintenanceWindow: weekOfMonth 5", () => {
    const recurrence = { frequency: "MonthlyByWeekday", weekOfMonth: 5, dayOfWeek: "Tue" };
    expect(pathsOf(MaintenanceWindowSchema, { ...maintenanceWindow, recurrence })).toEqual([
      ["recurrence", "weekOfMonth"],
    ]);
  });

  it("ClientProfile: a contact with a bad e-mail and an unknown role", () => {
    const contacts = [{ name: "Pat", email: "pat-at-contoso", role: "boss" }];
    expect(pathsOf(ClientProfileSchema, { ...clientProfile, contacts })).toEqual([
      ["contacts", 0, "email"],
      ["contacts", 0, "role"],
    ]);
  });

  it("ClientProfile: a tenant id that is not a lowercase slug", () => {
    expect(issuesOf(ClientProfileSchema, { ...clientProfile, tenant: "Acme MSP" })).toEqual([
      expect.objectContaining({ path: ["tenant"], message: "must be a lowercase slug" }),
    ]);
  });

  it("DiagnosticsPolicy: lookback over a week", () => {
    expect(pathsOf(DiagnosticsPolicySchema, { ...diagnostics, eventLogLookbackHours: 169 })).toEqual([
      ["eventLogLookbackHours"],
    ]);
  });

  it("PolicyLayer: a typo in a field name is refused, not ignored", () => {
    expect(issuesOf(PolicyLayerSchema, { ...policyLayer, update: { deferalDays: 14 } })).toEqual([
      expect.objectContaining({ path: ["update"], code: "unrecognized_keys" }),
    ]);
    expect(issuesOf(PolicyLayerSchema, { ...policyLayer, diagnostic: { required: true } })).toEqual([
      expect.objectContaining({ path: [], code: "unrecognized_keys" }),
    ]);
  });

  it("PolicyLayer: a section cannot carry its own schemaVersion, and a device scope needs its device", () => {
    expect(pathsOf(PolicyLayerSchema, { ...policyLayer, update: { schemaVersion: 1 } })).toEqual([["update"]]);
    expect(
      pathsOf(PolicyLayerSchema, { ...policyLayer, scope: { level: "device", tenant: "acme-msp", client: "contoso" } }),
    ).toEqual([["scope", "device"]]);
  });

  it("EffectivePolicy: every section is required and validated", () => {
    const { diagnostics: _omitted, ...withoutDiagnostics } = effectivePolicy;
    expect(pathsOf(EffectivePolicySchema, withoutDiagnostics)).toEqual([["diagnostics"]]);
    expect(
      pathsOf(EffectivePolicySchema, { ...effectivePolicy, update: { ...updatePolicy, deferralDays: -1 } }),
    ).toEqual([["update", "deferralDays"]]);
  });

  it.each([0, 2])("Regressions: TotalRegressions %i with one regression listed", (total) => {
    expect(issuesOf(RegressionsSchema, { ...regressions, TotalRegressions: total })).toEqual([
      expect.objectContaining({
        path: ["TotalRegressions"],
        code: "custom",
        message: "TotalRegressions must equal the number of regressions listed",
      }),
    ]);
  });

  it("Regressions: no regressions and TotalRegressions 0 is valid", () => {
    expect(issuesOf(RegressionsSchema, { ...regressions, TotalRegressions: 0, regressions: [] })).toEqual([]);
  });

  it.each([2, 0, "1"])("every document: schemaVersion %j is refused", (schemaVersion) => {
    for (const [schema, value] of [
      [UpdatePolicySchema, updatePolicy],
      [AppValidationPolicySchema, appValidation],
      [MaintenanceWindowSchema, maintenanceWindow],
      [RegressionsSchema, regressions],
    ] as const) {
      expect(pathsOf(schema, { ...value, schemaVersion })).toEqual([["schemaVersion"]]);
    }
  });
});
