import { z } from "zod";
import { ClientIdSchema, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../schemas/common";
import { SeveritySchema } from "../schemas/policies";

/** A UTC day, `YYYY-MM-DD`. */
export const DaySchema = z.iso.date();

/**
 * Days an applicable update may stay missing, per severity, before it breaches the SLA (age counted from the
 * update's release date, or from when an assessment first saw it missing when the update agent gives no date).
 * Defaults in the spirit of CISA BOD 19-02 / common MSP contracts: critical 7, important 30.
 */
export const ComplianceSlaSchema = z
  .object({
    Critical: z.number().int().min(0).max(3650).default(7),
    Important: z.number().int().min(0).max(3650).default(30),
    Moderate: z.number().int().min(0).max(3650).default(60),
    Low: z.number().int().min(0).max(3650).default(90),
    Unspecified: z.number().int().min(0).max(3650).default(90),
  })
  .strict();
export type ComplianceSla = z.infer<typeof ComplianceSlaSchema>;

/** `POST …/clients/{client}/compliance-reports`: the period (UTC days, inclusive) and the SLA. */
export const ComplianceReportRequestSchema = z
  .object({
    from: DaySchema,
    to: DaySchema,
    sla: ComplianceSlaSchema.default({ Critical: 7, Important: 30, Moderate: 60, Low: 90, Unspecified: 90 }),
  })
  .strict()
  .refine((r) => r.from <= r.to, { message: "must not be after to", path: ["from"] })
  .refine((r) => Date.parse(`${r.to}T00:00:00Z`) - Date.parse(`${r.from}T00:00:00Z`) <= 92 * 86_400_000, {
    message: "a period is at most 93 days",
    path: ["to"],
  });
export type ComplianceReportRequest = z.infer<typeof ComplianceReportRequestSchema>;

/** One missing update of one device at the period's end. */
export const MissingUpdateSchema = z.object({
  updateId: z.string(),
  kb: z.string().optional(),
  title: z.string(),
  severity: SeveritySchema,
  /** The age's start: the release date, or the first assessment that saw it missing. */
  since: TimestampSchema,
  ageDays: z.number().int().min(0),
  slaDays: z.number().int().min(0),
  breached: z.boolean(),
  /** The policy's decision in that catalog (an excluded update is still missing). */
  decision: z.enum(["approved", "excluded"]),
});
export type MissingUpdate = z.infer<typeof MissingUpdateSchema>;

export const SeverityCountsSchema = z.record(SeveritySchema, z.number().int().min(0));

/** A device's standing at the period's end. */
export const DeviceComplianceSchema = z.object({
  device: z.string(),
  /** unknown: no readable assessment in the period; never counted as compliant. */
  status: z.enum(["compliant", "noncompliant", "unknown"]),
  lastAssessedAt: TimestampSchema.optional(),
  /** The run whose catalog is the latest assessment, and that catalog's indexed SHA-256. */
  runId: z.string().optional(),
  catalogSha256: Sha256HexSchema.optional(),
  missingBySeverity: SeverityCountsSchema,
  breachesBySeverity: SeverityCountsSchema,
  missing: z.array(MissingUpdateSchema),
});
export type DeviceCompliance = z.infer<typeof DeviceComplianceSchema>;

/** Devices per standing on one UTC day. */
export const ComplianceDaySchema = z.object({
  day: DaySchema,
  devices: z.number().int().min(0),
  compliant: z.number().int().min(0),
  noncompliant: z.number().int().min(0),
  unknown: z.number().int().min(0),
  /** floor to one decimal of compliant / devices (unknown devices are in the denominator); null for no devices. */
  percent: z.number().nullable(),
});

/** The report: sealed as evidence (report.json, report.csv, report.html) when generated through the API. */
export const ComplianceReportSchema = z.object({
  schemaVersion: z.literal(1),
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  from: DaySchema,
  to: DaySchema,
  generatedAt: TimestampSchema,
  sla: ComplianceSlaSchema,
  summary: ComplianceDaySchema.omit({ day: true }).extend({
    missingBySeverity: SeverityCountsSchema,
    breachesBySeverity: SeverityCountsSchema,
  }),
  trend: z.array(ComplianceDaySchema),
  devices: z.array(DeviceComplianceSchema),
  /** Assessments that could not be read (unverifiable evidence): the device is not assessed by them. */
  unreadable: z.array(z.object({ device: z.string(), runId: z.string(), problem: z.string() })),
});
export type ComplianceReport = z.infer<typeof ComplianceReportSchema>;
