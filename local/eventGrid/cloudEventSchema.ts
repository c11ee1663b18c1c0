import { z } from "zod";

/** The context attributes CloudEvents 1.0 defines (plus the JSON format's data members); anything else is an extension. */
const DEFINED_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "datacontenttype",
  "dataschema",
  "subject",
  "time",
  "data",
  "data_base64",
]);

/** CloudEvents attribute names: lower-case ASCII letters and digits (the spec's MUST). */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/**
 * One CloudEvents 1.0 event in the JSON (structured) format, as an Event Grid topic with the CloudEvents input schema
 * accepts it: the required attributes, RFC 3339 `time`, and extension attributes limited to the CloudEvents type system.
 */
export const CloudEventSchema = z
  .looseObject({
    specversion: z.literal("1.0", { error: 'must be "1.0"' }),
    id: z.string({ error: "is required (a non-empty string)" }).min(1, "must not be empty"),
    source: z.string({ error: "is required (a non-empty string)" }).min(1, "must not be empty"),
    type: z.string({ error: "is required (a non-empty string)" }).min(1, "must not be empty"),
    datacontenttype: z.string().min(1, "must not be empty").optional(),
    dataschema: z.string().min(1, "must not be empty").optional(),
    subject: z.string().min(1, "must not be empty").optional(),
    time: z.iso.datetime({ offset: true, error: "must be an RFC 3339 timestamp" }).optional(),
    data: z.unknown().optional(),
    data_base64: z.base64({ error: "must be base64" }).optional(),
  })
  .superRefine((event, ctx) => {
    if (event.data !== undefined && event.data_base64 !== undefined) {
      ctx.addIssue({ code: "custom", path: ["data_base64"], message: "must not be present together with data" });
    }
    for (const [name, value] of Object.entries(event)) {
      if (DEFINED_ATTRIBUTES.has(name)) continue;
      if (!ATTRIBUTE_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "is not a valid extension attribute name (lower-case letters and digits only)",
        });
      } else if (!(
        typeof value === "string" ||
        typeof value === "boolean" ||
        (typeof value === "number" && Number.isInteger(value))
      )) {
        // The CloudEvents type system has no objects, arrays, nulls or fractions for attributes.
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "is an extension attribute and must be a string, an integer or a boolean",
        });
      }
    }
  });

/** A CloudEvent accepted by the local topic, exactly as it was published (extension attributes included). */
export type LocalCloudEvent = z.infer<typeof CloudEventSchema>;

/** Renders zod issues as `path: message` for an Event Grid style error message. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: string): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return `${prefix}${path === "" ? "" : `.${path}`}: ${issue.message}`;
    })
    .join("; ");
}
