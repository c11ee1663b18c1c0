import { eventTypeOf } from "../../domain/exitCode/exitCodeTable";
import type { RunRef } from "../../schemas/common";
import {
  EVENT_TYPES,
  EXIT_CODE_EVENT_TYPES,
  type PatchCloudEvent,
  type PatchEventType,
  type QuarantineEventData,
  type RunEventData,
  type WindowEventData,
} from "./eventData";

/** `dataschema` of run events; docs/events/run-event.schema.json carries the same `$id`. */
export const RUN_EVENT_DATASCHEMA = "urn:patchpilot:events:run:v1";
/** `dataschema` of window events; docs/events/window-event.schema.json carries the same `$id`. */
export const WINDOW_EVENT_DATASCHEMA = "urn:patchpilot:events:window:v1";

/** `dataschema` of quarantine events; docs/events/quarantine-event.schema.json carries the same `$id`. */
export const QUARANTINE_EVENT_DATASCHEMA = "urn:patchpilot:events:quarantine:v1";

/** `source` of every event of a tenant: with the id, unique per event as CloudEvents requires. */
export function eventSource(tenant: string): string {
  return `/patchpilot/tenants/${tenant}`;
}

/** The subject the issue fixes for run events; subscribers filter on its prefix (a tenant, a client, a device). */
export function runSubject(run: RunRef): string {
  return `/tenants/${run.tenant}/clients/${run.client}/devices/${run.device}/runs/${run.runId}`;
}

/** Subject of a window occurrence's events. */
export function windowSubject(data: Pick<WindowEventData, "tenant" | "windowId" | "occurrence">): string {
  return `/tenants/${data.tenant}/windows/${data.windowId}/occurrences/${data.occurrence.instanceId}`;
}

/**
 * The event id: derived from what the event is about and its type, never random, so an activity retried after a
 * publish that did reach Event Grid sends the same id again and subscribers can drop the duplicate.
 */
export function eventId(scopeId: string, type: PatchEventType): string {
  return `${scopeId}/${type.replace(/^io\.patchpilot\./, "")}`;
}

/** run.completed for every run, plus the event of its exit code (220 → regression.detected, ...) when it has one. */
export function buildRunEvents(data: RunEventData): PatchCloudEvent[] {
  const types: PatchEventType[] = [EVENT_TYPES.runCompleted];
  // The exit code's event, or its rule's where the table gives the rule its own (240: unreachable / incomplete).
  const specific = eventTypeOf(data.exitCode, data.rule) ?? EXIT_CODE_EVENT_TYPES[data.exitCode];
  if (specific !== undefined && specific !== null) types.push(specific as PatchEventType);
  // Issue 20: the remediation's outcome, besides the regression itself (the run stays 220).
  if (data.remediation !== undefined) types.push(EVENT_TYPES.remediationCompleted);
  // The time is the decision's, not the publish's: a retried publish produces byte-identical events.
  return types.map((type) => ({
    specversion: "1.0",
    id: eventId(`${data.run.tenant}/${data.run.runId}`, type),
    source: eventSource(data.run.tenant),
    type,
    subject: runSubject(data.run),
    time: data.decidedAt,
    datacontenttype: "application/json",
    dataschema: RUN_EVENT_DATASCHEMA,
    data,
  }));
}

/** window.completed for every occurrence, plus window.halted when a safety stop left targets unpatched. */
export function buildWindowEvents(data: WindowEventData): PatchCloudEvent[] {
  const types: PatchEventType[] = [EVENT_TYPES.windowCompleted];
  if (data.halted) types.push(EVENT_TYPES.windowHalted);
  return types.map((type) => ({
    specversion: "1.0",
    id: eventId(`${data.tenant}/${data.occurrence.instanceId}`, type),
    source: eventSource(data.tenant),
    type,
    subject: windowSubject(data),
    time: data.finishedAt,
    datacontenttype: "application/json",
    dataschema: WINDOW_EVENT_DATASCHEMA,
    data,
  }));
}

/** quarantine.created for a tenant-wide quarantine the fleet rule decided (time: the decision's, id: derived). */
export function buildQuarantineEvents(data: QuarantineEventData): PatchCloudEvent[] {
  const type = EVENT_TYPES.quarantineCreated;
  return [
    {
      specversion: "1.0",
      id: eventId(`${data.tenant}/${data.entryId}/${data.quarantinedAt}`, type),
      source: eventSource(data.tenant),
      type,
      subject: `/tenants/${data.tenant}/quarantine/${data.entryId}`,
      time: data.quarantinedAt,
      datacontenttype: "application/json",
      dataschema: QUARANTINE_EVENT_DATASCHEMA,
      data,
    },
  ];
}
