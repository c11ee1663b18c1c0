import { AsyncLocalStorage } from "node:async_hooks";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

// The generated SDKs hand back their own deserialised models (arm-compute even flattens `properties`), and their
// pagers fetch nextLink pages without per-call hooks. To zod-parse the wire JSON of every page, a pipeline policy
// hands each successful JSON body to whoever opened a capture scope in the current async context.
const scope = new AsyncLocalStorage<unknown[]>();

/** Pipeline policy (per call, after retries) that records 2xx JSON bodies for {@link captureArmBodies}. */
export const armBodyTapPolicy: PipelinePolicy = {
  name: "patchpilotArmBodyTap",
  async sendRequest(request, next) {
    const response = await next(request);
    const bodies = scope.getStore();
    if (bodies !== undefined && response.status >= 200 && response.status < 300 && response.bodyAsText) {
      bodies.push(JSON.parse(response.bodyAsText) as unknown);
    }
    return response;
  },
};

/** Runs SDK calls and returns the raw JSON bodies of every successful ARM response they made, in order. */
export async function captureArmBodies(work: () => Promise<void>): Promise<unknown[]> {
  const bodies: unknown[] = [];
  await scope.run(bodies, work);
  return bodies;
}
