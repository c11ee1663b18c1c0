import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy, PipelineRetryOptions, TlsSettings } from "@azure/core-rest-pipeline";
import type { ArmSettings } from "../config/config";
import { armBodyTapPolicy } from "./armBodyTap";
import { armPacerPolicy, type ArmPacer } from "./armPacer";

/** The token audience of ARM, also when the endpoint is the local emulator (its certificate, not the scope, differs). */
export const ARM_SCOPE = "https://management.azure.com/.default";

/** Everything an ARM client needs: where, as whom, which CA to trust, how often to retry. */
export interface ArmConnection {
  endpoint: string;
  credential: TokenCredential;
  /** PEM of an extra CA (the fleet emulator's); trusted by this pipeline only, never process-wide. */
  ca?: string;
  maxRetries: number;
  /** Extra per-call pipeline policies (tests: stamping the local host's virtual time for the fleet emulator). */
  additionalPolicies?: PipelinePolicy[];
  /** Client-side pacing per subscription (lib/azure/armPacer.ts); every ARM client of the app shares this one. */
  pacer?: ArmPacer;
}

/** Builds the connection from config: reads the CA file when one is configured. */
export function armConnectionFromSettings(settings: ArmSettings, credential: TokenCredential): ArmConnection {
  return {
    endpoint: settings.endpoint,
    credential,
    ca: settings.caFile === undefined ? undefined : readFileSync(settings.caFile, "utf8"),
    maxRetries: settings.maxRetries,
  };
}

/** Pipeline options shared by every ARM client: TLS trust, Retry-After-honouring retries, the body tap. */
export function armPipelineOptions(connection: ArmConnection): {
  tlsOptions?: TlsSettings;
  retryOptions: PipelineRetryOptions;
  additionalPolicies: { policy: PipelinePolicy; position: "perCall" | "perRetry" }[];
} {
  return {
    tlsOptions: connection.ca === undefined ? undefined : { ca: connection.ca },
    // The retry policy waits exactly Retry-After on 429/503; for 5xx it backs off exponentially, capped so one
    // activity never blocks long (the orchestrator waits longer with a durable timer on ArmThrottledError).
    retryOptions: { maxRetries: connection.maxRetries, retryDelayInMs: 500, maxRetryDelayInMs: 8000 },
    additionalPolicies: [
      ...(connection.pacer === undefined
        ? []
        : [{ policy: armPacerPolicy(connection.pacer), position: "perCall" as const }]),
      { policy: armBodyTapPolicy, position: "perCall" },
      ...(connection.additionalPolicies ?? []).map((policy) => ({ policy, position: "perCall" as const })),
    ],
  };
}
