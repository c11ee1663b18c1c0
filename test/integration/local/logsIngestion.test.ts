import https from "node:https";
import { gzipSync } from "node:zlib";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import {
  isAggregateLogsUploadError,
  LogsIngestionClient,
  type LogsIngestionClientOptions,
} from "@azure/monitor-ingestion";
import { startLocalLogsIngestion, type LocalLogsIngestion } from "../../../local/logsIngestion/logsIngestionEndpoint";
import { loadStreamDeclarations } from "../../../local/logsIngestion/streamDeclarations";

const RUNS = "Custom-PatchPilotRuns";
const UPDATES = "Custom-PatchPilotUpdates";

/** A static bearer token, as the local fleet credential does it. */
const staticToken = (token: string): TokenCredential => ({
  getToken: (): Promise<AccessToken> => Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3600_000 }),
});

function client(
  ingestion: LocalLogsIngestion,
  options: LogsIngestionClientOptions = {},
  credential: TokenCredential = staticToken("local-test-token"),
): LogsIngestionClient {
  return new LogsIngestionClient(ingestion.endpoint, credential, { tlsOptions: { ca: ingestion.ca }, ...options });
}

function runRow(n: number): Record<string, unknown> {
  return {
    TimeGenerated: "2025-03-01T10:00:00Z",
    EventId: `evt-${n}`,
    Tenant: "contoso",
    Client: "fabrikam",
    Device: `dev-${n}`,
    RunId: `r-${n}`,
    Trigger: "window",
    DryRun: false,
    ExitCode: 0,
    ExitCodeName: "Success",
    Reasons: [],
    Regressions: 0,
    RegressionChecks: [],
    UpdatesApproved: 2,
    UpdatesInstalled: 2,
    UpdatesFailed: 0,
    Reboot: "none",
    EvidencePrefix: `contoso/fabrikam/dev-${n}/r-${n}/`,
  };
}

function updateRow(n: number, title = `Update ${n}`): Record<string, unknown> {
  return {
    TimeGenerated: "2025-03-01T10:00:00Z",
    EventId: `evt-${n}`,
    Tenant: "contoso",
    Client: "fabrikam",
    Device: "dev-1",
    RunId: "r-1",
    UpdateId: `upd-${n}`,
    Title: title,
    Installed: true,
    Result: "Succeeded",
    FinishedAt: "2025-03-01T10:05:00+01:00",
  };
}

/** The status of the (single) failed chunk of an upload, and the error message the SDK surfaced. */
async function uploadFailure(upload: Promise<void>): Promise<{ statusCode: number | undefined; message: string }> {
  const error: unknown = await upload.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAggregateLogsUploadError(error)) throw new Error(`expected an AggregateLogsUploadError, got ${String(error)}`);
  expect(error.errors).toHaveLength(1);
  const cause = error.errors[0]?.cause as Error & { statusCode?: number };
  return { statusCode: cause.statusCode, message: cause.message };
}

function postRaw(
  ingestion: LocalLogsIngestion,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${ingestion.endpoint}${path}`, { method: "POST", ca: ingestion.ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("local Logs Ingestion endpoint", () => {
  let ingestion: LocalLogsIngestion;
  afterEach(async () => {
    await ingestion.close();
  });

  it("stores the rows LogsIngestionClient uploads, per table, with declared columns it left out as null", async () => {
    ingestion = await startLocalLogsIngestion();
    expect(ingestion.ruleId).toMatch(/^dcr-[0-9a-f]{32}$/);
    expect(ingestion.streams.map((s) => s.stream)).toEqual(loadStreamDeclarations().map((s) => s.stream));
    const logs = client(ingestion);

    await logs.upload(ingestion.ruleId, RUNS, [runRow(1), runRow(2)]);
    await logs.upload(ingestion.ruleId, UPDATES, [updateRow(1)]);

    expect(ingestion.rows(RUNS)).toEqual([expect.objectContaining(runRow(1)), expect.objectContaining(runRow(2))]);
    expect(ingestion.rowsByTable("PatchPilotRuns_CL")).toBe(ingestion.rows(RUNS));
    expect(ingestion.rows(RUNS)[0]).toMatchObject({ WindowId: null, MerkleRoot: null, StartedAt: null });
    expect(Object.keys(ingestion.rows(RUNS)[0] ?? {})).toEqual(
      loadStreamDeclarations()
        .find((s) => s.stream === RUNS)
        ?.columns.map((c) => c.name),
    );
    expect(ingestion.rowsByTable("PatchPilotUpdates_CL")).toEqual([expect.objectContaining(updateRow(1))]);
    expect(ingestion.rowsByTable("PatchPilotWindows_CL")).toEqual([]);
    expect(() => ingestion.rows("Custom-Nope")).toThrow(/not declared/);

    // What the SDK really sends: gzip, application/json, api-version 2023-01-01, a bearer token.
    expect(ingestion.uploads).toHaveLength(2);
    for (const upload of ingestion.uploads) {
      expect(upload).toMatchObject({
        method: "POST",
        status: 204,
        apiVersion: "2023-01-01",
        contentType: "application/json",
        contentEncoding: "gzip",
        fault: false,
      });
      expect(upload.clientRequestId).toEqual(expect.any(String));
      expect(upload.jsonBytes).toBeGreaterThan(upload.bodyBytes);
    }
  });

  it("receives a large upload as several calls under 1 MB each, and stores every row in order", async () => {
    ingestion = await startLocalLogsIngestion();
    const rows = Array.from({ length: 300 }, (_, i) => updateRow(i, `${i} ${"x".repeat(8_000)}`));
    // One chunk at a time, so the chunks arrive (and are stored) in order.
    await client(ingestion).upload(ingestion.ruleId, UPDATES, rows, { maxConcurrency: 1 });
    expect(ingestion.uploads.length).toBeGreaterThanOrEqual(3);
    for (const upload of ingestion.uploads) {
      expect(upload.status).toBe(204);
      expect(upload.jsonBytes).toBeLessThanOrEqual(1_000_000 + upload.rows + 1);
    }
    expect(ingestion.uploads.reduce((n, u) => n + u.rows, 0)).toBe(300);
    expect(ingestion.rows(UPDATES).map((r) => r.UpdateId)).toEqual(rows.map((r) => r.UpdateId));
  });

  it("refuses a row with an undeclared column with 400 naming the row and the column, and stores nothing", async () => {
    ingestion = await startLocalLogsIngestion();
    const failure = await uploadFailure(
      client(ingestion).upload(ingestion.ruleId, RUNS, [runRow(1), { ...runRow(2), ExitCodeText: "Success" }]),
    );
    expect(failure.statusCode).toBe(400);
    expect(failure.message).toContain("row 1: column 'ExitCodeText' is not declared in stream Custom-PatchPilotRuns");
    expect(ingestion.rows(RUNS)).toEqual([]);
    expect(ingestion.uploads[0]?.error).toMatchObject({ code: "InvalidContent" });
  });

  it("refuses values that do not fit the declared column types", async () => {
    ingestion = await startLocalLogsIngestion();
    const logs = client(ingestion);
    const wrongInt = await uploadFailure(logs.upload(ingestion.ruleId, RUNS, [{ ...runRow(1), ExitCode: "0" }]));
    expect(wrongInt).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("row 0: column 'ExitCode' (int): expected a 32-bit integer, got string"),
    });
    const fraction = await uploadFailure(logs.upload(ingestion.ruleId, RUNS, [{ ...runRow(1), Regressions: 1.5 }]));
    expect(fraction.message).toContain("column 'Regressions' (int)");
    const wrongBool = await uploadFailure(
      logs.upload(ingestion.ruleId, UPDATES, [{ ...updateRow(1), Installed: "true" }]),
    );
    expect(wrongBool.message).toContain("column 'Installed' (boolean)");
    const badDate = await uploadFailure(
      logs.upload(ingestion.ruleId, UPDATES, [updateRow(1), { ...updateRow(2), FinishedAt: "yesterday" }]),
    );
    expect(badDate.message).toContain("row 1: column 'FinishedAt' (datetime)");
    const noZone = await uploadFailure(
      logs.upload(ingestion.ruleId, UPDATES, [{ ...updateRow(1), TimeGenerated: "2025-03-01T10:00:00" }]),
    );
    expect(noZone.message).toContain("column 'TimeGenerated' (datetime)");
    const notString = await uploadFailure(logs.upload(ingestion.ruleId, RUNS, [{ ...runRow(1), Tenant: 7 }]));
    expect(notString.message).toContain("column 'Tenant' (string): expected a string, got number");
    // dynamic takes anything; null is an empty cell.
    await logs.upload(ingestion.ruleId, RUNS, [{ ...runRow(1), Reasons: { any: ["shape"] }, WindowId: null }]);
    expect(ingestion.rows(RUNS)).toHaveLength(1);
  });

  it("answers 401 without a bearer token, 400 for an unknown stream and 404 for an unknown rule", async () => {
    ingestion = await startLocalLogsIngestion();
    const body = gzipSync(JSON.stringify([runRow(1)]));
    const path = `/dataCollectionRules/${ingestion.ruleId}/streams/${RUNS}?api-version=2023-01-01`;
    const anonymous = await postRaw(
      ingestion,
      path,
      { "Content-Type": "application/json", "Content-Encoding": "gzip" },
      body,
    );
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toEqual({
      error: { code: "InvalidAuthenticationToken", message: expect.stringContaining("bearer token") },
    });
    const empty = await uploadFailure(
      client(ingestion, {}, staticToken("")).upload(ingestion.ruleId, RUNS, [runRow(1)]),
    );
    expect(empty.statusCode).toBe(401);

    const logs = client(ingestion);
    const stream = await uploadFailure(logs.upload(ingestion.ruleId, "Custom-PatchPilotRun", [runRow(1)]));
    expect(stream).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("Stream 'Custom-PatchPilotRun' is not declared"),
    });
    const rule = await uploadFailure(logs.upload("dcr-00000000000000000000000000000000", RUNS, [runRow(1)]));
    expect(rule.statusCode).toBe(404);
    expect(ingestion.rows(RUNS)).toEqual([]);

    // An uncompressed body is fine too; an unknown api-version is not.
    expect(
      (
        await postRaw(
          ingestion,
          path,
          { "Content-Type": "application/json", Authorization: "Bearer t" },
          Buffer.from(JSON.stringify([runRow(1)])),
        )
      ).status,
    ).toBe(204);
    const oldVersion = await postRaw(
      ingestion,
      path.replace("2023-01-01", "2020-01-01"),
      { "Content-Type": "application/json", Authorization: "Bearer t" },
      Buffer.from("[]"),
    );
    expect(oldVersion.status).toBe(400);
    expect(ingestion.rows(RUNS)).toHaveLength(1);
  });

  it("has the SDK retry an injected 503, and surfaces it once the retries are spent", async () => {
    ingestion = await startLocalLogsIngestion({ faults: { failNextUploads: 1 } });
    const logs = client(ingestion, { retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
    await logs.upload(ingestion.ruleId, RUNS, [runRow(1)]);
    expect(ingestion.uploads.map((u) => [u.status, u.fault])).toEqual([
      [503, true],
      [204, false],
    ]);
    expect(ingestion.rows(RUNS)).toHaveLength(1);

    ingestion.injectFaults({ failNextUploads: 5, status: 503 });
    const failure = await uploadFailure(logs.upload(ingestion.ruleId, RUNS, [runRow(2)]));
    expect(failure.statusCode).toBe(503);
    // The first try and maxRetries retries, then the SDK gives up.
    expect(ingestion.uploads.slice(2).map((u) => u.status)).toEqual([503, 503, 503]);
    expect(ingestion.rows(RUNS)).toHaveLength(1);
  });
});
