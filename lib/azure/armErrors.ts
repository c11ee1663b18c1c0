import type { RestError } from "@azure/core-rest-pipeline";
import type { z } from "zod";
import { isStatus } from "../evidence/errors";

export { isStatus };

/** Milliseconds the server asked to wait (`retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` seconds/date). */
export function retryAfterMs(error: RestError, now: Date = new Date()): number | undefined {
  const headers = error.response?.headers;
  if (headers === undefined) return undefined;
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = Number(headers.get(name));
    if (headers.get(name) !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = headers.get("retry-after");
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/**
 * ARM still answered 429 (or 503) after the pipeline's own Retry-After retries. The caller waits `retryAfterMs`
 * (a durable timer in an orchestration) and tries again; nothing was changed.
 */
export class ArmThrottledError extends Error {
  constructor(
    readonly operation: string,
    readonly statusCode: 429 | 503,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ARM answered ${statusCode}; retry after ${retryAfterMs ?? "an unspecified"} ms`, options);
    this.name = "ArmThrottledError";
  }
}

/** A request the pacer held back: nothing was sent; send it again (the same method and URL) in `waitMs`. */
export class ArmPacedError extends ArmThrottledError {
  constructor(
    operation: string,
    readonly waitMs: number,
  ) {
    super(`${operation} (paced by PatchPilot, not sent)`, 429, waitMs);
    this.name = "ArmPacedError";
  }
}

/** Rethrows a 429 / 503 as {@link ArmThrottledError}; any other error unchanged. */
export function rethrowThrottled(error: unknown, operation: string): never {
  if (isStatus(error, 429)) throw new ArmThrottledError(operation, 429, retryAfterMs(error), { cause: error });
  if (isStatus(error, 503)) throw new ArmThrottledError(operation, 503, retryAfterMs(error), { cause: error });
  throw error;
}

/** The run command does not exist (never created, or already deleted). */
export class RunCommandNotFoundError extends Error {
  constructor(
    readonly resourceId: string,
    readonly runCommandName: string,
  ) {
    super(`run command ${runCommandName} not found on ${resourceId}`);
    this.name = "RunCommandNotFoundError";
  }
}

/**
 * The agent refused to create a run command because another one is in flight on the machine (409 Conflict; the
 * agents run one command at a time). Nothing was created: the caller waits and submits again.
 */
export class RunCommandConflictError extends Error {
  constructor(
    readonly runCommandName: string,
    readonly code: string,
    readonly armMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`run command ${runCommandName} refused with 409 ${code}: ${armMessage}`, options);
    this.name = "RunCommandConflictError";
  }
}

/** collect() was called before the run command reached a terminal state. */
export class RunCommandNotFinishedError extends Error {
  constructor(
    readonly runCommandName: string,
    readonly executionState: string,
  ) {
    super(`run command ${runCommandName} is still ${executionState}; poll until it is terminal before collecting`);
    this.name = "RunCommandNotFinishedError";
  }
}

/** An ARM response body did not have the documented shape; names the failing field paths. */
export class ArmResponseShapeError extends Error {
  constructor(
    readonly operation: string,
    readonly issues: readonly string[],
  ) {
    super(`${operation}: unexpected response shape: ${issues.join("; ")}`);
    this.name = "ArmResponseShapeError";
  }
}

/** zod-parses an ARM response body, or throws {@link ArmResponseShapeError}. */
export function parseArm<T>(schema: z.ZodType<T>, body: unknown, operation: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new ArmResponseShapeError(
    operation,
    parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
  );
}
