import type { z } from "zod";
import type { FieldError, Problem } from "../schemas/api/problem";

/** Problem types we name; others are `about:blank` with the status's title. */
const TYPE_BASE = "https://patchpilot.dev/problems/";

/** An API refusal with an RFC 9457 body: thrown anywhere below a route, answered as problem+json, never as a 500. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: readonly FieldError[],
    readonly problemType?: string,
  ) {
    super(`${status} ${title}${detail ? `: ${detail}` : ""}`);
    this.name = "ApiProblem";
  }

  /** The body to send (the `instance` is the request path). */
  toProblem(instance?: string): Problem {
    return {
      type: this.problemType === undefined ? "about:blank" : `${TYPE_BASE}${this.problemType}`,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
      ...(this.errors === undefined || this.errors.length === 0 ? {} : { errors: [...this.errors] }),
    };
  }
}

/** A 400 naming every field zod refused, prefixed with where it came from (`path`, `query`, `body`). */
export function invalidInput(where: "path" | "query" | "body", error: z.ZodError): ApiProblem {
  const errors = error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join("."),
    reason: issue.message,
  }));
  const first = errors[0];
  return new ApiProblem(
    400,
    "Bad Request",
    first ? `${first.field}: ${first.reason}` : `invalid ${where}`,
    errors,
    "invalid-input",
  );
}

/** 401: no credentials, or ones we do not accept (the detail never says which part was wrong). */
export function unauthorized(detail: string): ApiProblem {
  return new ApiProblem(401, "Unauthorized", detail, undefined, "unauthorized");
}

/** 403: authenticated, but not for this tenant or this action. */
export function forbidden(detail: string): ApiProblem {
  return new ApiProblem(403, "Forbidden", detail, undefined, "forbidden");
}

/** 404 for something in the caller's tenant that does not exist (never says whether another tenant has it). */
export function notFound(detail: string): ApiProblem {
  return new ApiProblem(404, "Not Found", detail, undefined, "not-found");
}
