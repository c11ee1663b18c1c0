import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { ArmThrottledError, rethrowThrottled, retryAfterMs } from "../../../lib/azure/armErrors";

function restError(status: number, headers: Record<string, string>): RestError {
  const request = createPipelineRequest({ url: "https://management.azure.com/x" });
  return new RestError("x", {
    statusCode: status,
    request,
    response: { status, headers: createHttpHeaders(headers), request },
  });
}

describe("Retry-After handling", () => {
  it("reads seconds, milliseconds and HTTP dates", () => {
    expect(retryAfterMs(restError(429, { "retry-after": "7" }))).toBe(7000);
    expect(retryAfterMs(restError(429, { "retry-after-ms": "250" }))).toBe(250);
    const now = new Date("2025-06-01T00:00:00Z");
    expect(retryAfterMs(restError(503, { "retry-after": "Sun, 01 Jun 2025 00:00:03 GMT" }), now)).toBe(3000);
    expect(retryAfterMs(restError(429, {}))).toBeUndefined();
  });

  it("turns exactly 429 and 503 into ArmThrottledError and rethrows anything else unchanged", () => {
    expect(() => rethrowThrottled(restError(429, { "retry-after": "2" }), "op")).toThrow(ArmThrottledError);
    expect(() => rethrowThrottled(restError(503, {}), "op")).toThrow(ArmThrottledError);
    const other = restError(409, {});
    expect(() => rethrowThrottled(other, "op")).toThrow(other);
  });
});
