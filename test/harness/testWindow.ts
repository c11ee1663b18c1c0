import { MaintenanceWindowSchema, type MaintenanceWindow } from "../../lib/schemas/policies";

/** A valid nightly window of tenant contoso-msp (02:00 Europe/Berlin, 4 h, one prod ring), with overrides. */
export function testWindow(over: Record<string, unknown> = {}): MaintenanceWindow {
  return MaintenanceWindowSchema.parse({
    schemaVersion: 1,
    id: "nightly",
    tenant: "contoso-msp",
    clients: [],
    timeZone: "Europe/Berlin",
    recurrence: { frequency: "Daily" },
    startTime: "02:00",
    durationMinutes: 240,
    rings: [{ name: "prod" }],
    maxConcurrency: 2,
    maxErrors: 0,
    ...over,
  });
}
