import { ConfigError, parseConfig } from "../../../lib/config/config";

const BASE = {
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
  PATCHPILOT_EVIDENCE_CONNECTION_STRING: "UseDevelopmentStorage=true",
};

function issues(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => i.field);
    throw error;
  }
  return [];
}

describe("parseConfig", () => {
  it("applies defaults", () => {
    const config = parseConfig(BASE);
    expect(config.evidence).toMatchObject({
      container: "evidence",
      stagingContainer: "runcommand-output",
      immutabilityDays: 0,
      allowInsecure: false,
    });
    expect(config.evidence.account).toEqual({
      kind: "connectionString",
      connectionString: "UseDevelopmentStorage=true",
    });
  });

  it("names every bad field at once", () => {
    expect(
      issues({
        PATCHPILOT_EVIDENCE_CONTAINER: "Bad_Name",
        PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS: "-3",
        PATCHPILOT_ALLOW_INSECURE_STORAGE: "yes",
      }).sort(),
    ).toEqual([
      "AzureWebJobsStorage",
      "PATCHPILOT_ALLOW_INSECURE_STORAGE",
      "PATCHPILOT_EVIDENCE_CONTAINER",
      "PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS",
    ]);
  });

  it("puts the field name in the message", () => {
    expect(() => parseConfig({ ...BASE, PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS: "many" })).toThrow(
      /PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS/,
    );
  });

  it("wants exactly one way to reach the evidence account", () => {
    expect(issues({ AzureWebJobsStorage: "x" })).toEqual(["PATCHPILOT_EVIDENCE_BLOB_ENDPOINT"]);
    expect(
      issues({ AzureWebJobsStorage: "x", PATCHPILOT_EVIDENCE_BLOB_ENDPOINT: "https://a.blob.core.windows.net" }),
    ).toEqual(["PATCHPILOT_EVIDENCE_TABLE_ENDPOINT"]);
    expect(
      issues({
        ...BASE,
        PATCHPILOT_EVIDENCE_BLOB_ENDPOINT: "https://a.blob.core.windows.net",
        PATCHPILOT_EVIDENCE_TABLE_ENDPOINT: "https://a.table.core.windows.net",
      }),
    ).toEqual(["PATCHPILOT_EVIDENCE_CONNECTION_STRING"]);
    expect(
      parseConfig({
        AzureWebJobsStorage: "x",
        PATCHPILOT_EVIDENCE_BLOB_ENDPOINT: "https://a.blob.core.windows.net",
        PATCHPILOT_EVIDENCE_TABLE_ENDPOINT: "https://a.table.core.windows.net",
      }).evidence.account.kind,
    ).toBe("managedIdentity");
  });

  it("treats empty settings as unset", () => {
    expect(parseConfig({ ...BASE, PATCHPILOT_EVIDENCE_CONTAINER: "" }).evidence.container).toBe("evidence");
  });

  it("defaults ARM to Azure's endpoint with no subscriptions and 3 retries", () => {
    expect(parseConfig(BASE).arm).toEqual({
      endpoint: "https://management.azure.com",
      subscriptionIds: [],
      caFile: undefined,
      maxRetries: 3,
      pacing: true,
      pacingPercent: 100,
    });
  });

  it("parses ARM settings for the local emulator", () => {
    const arm = parseConfig({
      ...BASE,
      PATCHPILOT_ARM_ENDPOINT: "https://127.0.0.1:8443/",
      PATCHPILOT_SUBSCRIPTION_IDS: "00000000-0000-0000-0000-000000000001, sub-demo ",
      PATCHPILOT_ARM_CA_FILE: "/tmp/fleet-ca.pem",
      PATCHPILOT_ARM_MAX_RETRIES: "5",
      PATCHPILOT_ARM_PACING: "off",
      PATCHPILOT_ARM_PACING_PERCENT: "80",
    }).arm;
    expect(arm).toEqual({
      endpoint: "https://127.0.0.1:8443",
      subscriptionIds: ["00000000-0000-0000-0000-000000000001", "sub-demo"],
      caFile: "/tmp/fleet-ca.pem",
      maxRetries: 5,
      pacing: false,
      pacingPercent: 80,
    });
  });

  it("rejects an http ARM endpoint, bad subscription ids and retry counts", () => {
    expect(
      issues({
        ...BASE,
        PATCHPILOT_ARM_ENDPOINT: "http://127.0.0.1:8443",
        PATCHPILOT_SUBSCRIPTION_IDS: "a/b",
        PATCHPILOT_ARM_MAX_RETRIES: "99",
      }).sort(),
    ).toEqual(["PATCHPILOT_ARM_ENDPOINT", "PATCHPILOT_ARM_MAX_RETRIES", "PATCHPILOT_SUBSCRIPTION_IDS"]);
  });

  it("takes host storage by identity in Azure (AzureWebJobsStorage__accountName), never needing a key", () => {
    const config = parseConfig({
      AzureWebJobsStorage__accountName: "pphoststorage01",
      PATCHPILOT_EVIDENCE_CONNECTION_STRING: "UseDevelopmentStorage=true",
    });
    expect(config.hostStorage).toEqual({ kind: "managedIdentity", accountName: "pphoststorage01" });
    expect(parseConfig(BASE).hostStorage).toEqual({
      kind: "connectionString",
      connectionString: "UseDevelopmentStorage=true",
    });
    expect(() =>
      parseConfig({ AzureWebJobsStorage__accountName: "Not_An_Account", PATCHPILOT_EVIDENCE_CONNECTION_STRING: "x" }),
    ).toThrow(/AzureWebJobsStorage__accountName/);
  });
});
