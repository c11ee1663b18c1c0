import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type HttpClient,
  type HttpMethods,
  type Pipeline,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { z } from "zod";
import { ARM_SCOPE, armPipelineOptions, type ArmConnection } from "./armConnection";
import { armPacerPolicy } from "./armPacer";
import { isStatus, parseArm, RunCommandNotFoundError } from "./armErrors";
import { runCommandBody, type RunCommandSpec } from "./runCommandSpec";
import { AsyncOperationSchema, type AsyncOperation } from "./schemas/asyncOperation";
import { HybridMachineSchema, type HybridMachine } from "./schemas/hybridMachine";
import { RunCommandListSchema, RunCommandResourceSchema, type RunCommandResource } from "./schemas/runCommand";

/** GA api-version of Arc run commands (the registry's arm-hybridcompute 3.0.0 predates them). */
export const ARC_RUN_COMMAND_API_VERSION = "2025-01-13";

/** Where an Arc machine is. */
export interface ArcMachineAddress {
  subscriptionId: string;
  resourceGroup: string;
  machineName: string;
}

/** The answer to a run-command PUT: the resource, and the async-operation URL while ARM is still creating it. */
export interface ArcRunCommandCreated {
  resource: RunCommandResource;
  asyncOperationUrl: string | undefined;
}

/**
 * Typed client for `Microsoft.HybridCompute/machines/{m}/runCommands` over @azure/core-rest-pipeline. One call is
 * one HTTP exchange (plus the pipeline's Retry-After retries); callers poll with their own timers.
 */
export class ArcRunCommandClient {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient = createDefaultHttpClient();

  constructor(private readonly connection: ArmConnection) {
    const { tlsOptions, retryOptions } = armPipelineOptions(connection);
    this.pipeline = createPipelineFromOptions({
      tlsOptions,
      retryOptions,
      userAgentOptions: { userAgentPrefix: "patchpilot" },
    });
    this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: connection.credential, scopes: ARM_SCOPE }));
    if (connection.pacer !== undefined) this.pipeline.addPolicy(armPacerPolicy(connection.pacer));
    for (const policy of connection.additionalPolicies ?? []) this.pipeline.addPolicy(policy);
  }

  /** Creates (or, with identical properties, re-confirms) a run command: 200/201, long-running. */
  async createOrUpdate(machine: ArcMachineAddress, name: string, spec: RunCommandSpec): Promise<ArcRunCommandCreated> {
    const response = await this.send("PUT", this.url(machine, name), [200, 201], runCommandBody(spec));
    return {
      resource: this.parse(RunCommandResourceSchema, response, "Arc runCommands create"),
      asyncOperationUrl: response.headers.get("azure-asyncoperation"),
    };
  }

  /**
   * Reads a run command with its instance view (execution state, exit code, output tail, start/end): Arc always
   * returns it; 2025-01-13 defines no `$expand` on this GET (see its RunCommands_Get example).
   */
  async get(machine: ArcMachineAddress, name: string): Promise<RunCommandResource> {
    try {
      const response = await this.send("GET", this.url(machine, name), [200]);
      return this.parse(RunCommandResourceSchema, response, "Arc runCommands get");
    } catch (error) {
      if (isStatus(error, 404)) throw new RunCommandNotFoundError(machineId(machine), name);
      throw error;
    }
  }

  /** Deletes a run command (terminating it if it still runs). `accepted` = 202, deletion still in progress. */
  async delete(machine: ArcMachineAddress, name: string): Promise<"deleted" | "accepted"> {
    const response = await this.send("DELETE", this.url(machine, name), [200, 202, 204]);
    return response.status === 202 ? "accepted" : "deleted";
  }

  /** Lists the run commands on a machine, following nextLink. */
  async *list(machine: ArcMachineAddress): AsyncIterableIterator<RunCommandResource> {
    let url: string | undefined = this.url(machine, undefined);
    while (url !== undefined) {
      const page: z.infer<typeof RunCommandListSchema> = this.parse(
        RunCommandListSchema,
        await this.send("GET", url, [200]),
        "Arc runCommands list",
      );
      yield* page.value;
      url = page.nextLink ?? undefined;
    }
  }

  /** Reads one machine (`Machines_Get`, 2025-01-13): its agent status for reboot waits. */
  async getMachine(machine: ArcMachineAddress): Promise<HybridMachine> {
    const path =
      `/subscriptions/${encodeURIComponent(machine.subscriptionId)}/resourceGroups/${encodeURIComponent(machine.resourceGroup)}` +
      `/providers/Microsoft.HybridCompute/machines/${encodeURIComponent(machine.machineName)}`;
    const url = `${this.connection.endpoint}${path}?api-version=${ARC_RUN_COMMAND_API_VERSION}`;
    return this.parse(HybridMachineSchema, await this.send("GET", url, [200]), "machines get");
  }

  /** Reads an `Azure-AsyncOperation` status URL returned by create or delete. */
  async asyncOperation(url: string): Promise<AsyncOperation> {
    return this.parse(AsyncOperationSchema, await this.send("GET", url, [200]), "Arc async operation");
  }

  private url(machine: ArcMachineAddress, name: string | undefined, query: Record<string, string> = {}): string {
    const path =
      `/subscriptions/${encodeURIComponent(machine.subscriptionId)}/resourceGroups/${encodeURIComponent(machine.resourceGroup)}` +
      `/providers/Microsoft.HybridCompute/machines/${encodeURIComponent(machine.machineName)}/runCommands` +
      (name === undefined ? "" : `/${encodeURIComponent(name)}`);
    const params = new URLSearchParams({ "api-version": ARC_RUN_COMMAND_API_VERSION, ...query });
    return `${this.connection.endpoint}${path}?${params.toString()}`;
  }

  private async send(
    method: HttpMethods,
    url: string,
    expected: readonly number[],
    body?: object,
  ): Promise<PipelineResponse> {
    const request = createPipelineRequest({
      url,
      method,
      headers: createHttpHeaders({
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
      }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const response = await this.pipeline.sendRequest(this.httpClient, request);
    if (!expected.includes(response.status)) {
      throw new RestError(
        `${method} ${new URL(url).pathname} answered ${response.status}: ${response.bodyAsText ?? ""}`,
        {
          statusCode: response.status,
          request,
          response,
        },
      );
    }
    return response;
  }

  private parse<T>(schema: z.ZodType<T>, response: PipelineResponse, operation: string): T {
    return parseArm(schema, JSON.parse(response.bodyAsText ?? "null"), operation);
  }
}

/** ARM resource id of an Arc machine. */
export function machineId(machine: ArcMachineAddress): string {
  return `/subscriptions/${machine.subscriptionId}/resourceGroups/${machine.resourceGroup}/providers/Microsoft.HybridCompute/machines/${machine.machineName}`;
}
