import { readFileSync } from "node:fs";
import path from "node:path";
import { HybridMachineListSchema } from "../../../lib/azure/schemas/hybridMachine";
import { RunCommandResourceSchema } from "../../../lib/azure/schemas/runCommand";
import { parseArm, ArmResponseShapeError } from "../../../lib/azure/armErrors";

// Reference payloads transcribed from Azure/azure-rest-api-specs (MIT), HybridCompute 2025-01-13 examples.
const REFERENCE = path.join(__dirname, "reference");
const example = (name: string): { responses: Record<string, { body: unknown }> } =>
  JSON.parse(readFileSync(path.join(REFERENCE, name), "utf8")) as { responses: Record<string, { body: unknown }> };

describe("ARM wire schemas accept the documented shapes", () => {
  it("machines list, nulls and all", () => {
    const page = HybridMachineListSchema.parse(example("Machines_ListByResourceGroup.json").responses["200"]?.body);
    expect(page.value[0]).toMatchObject({ name: "myMachine", tags: null, properties: { status: null, osType: null } });
    expect(page.nextLink).toBeNull();
  });

  it("run command create (200 and 201) and get with instanceView", () => {
    const created = example("RunCommands_CreateOrUpdate.json").responses;
    expect(RunCommandResourceSchema.parse(created["201"]?.body).properties.provisioningState).toBe("Creating");
    expect(RunCommandResourceSchema.parse(created["200"]?.body).properties.instanceView).toBeUndefined();
    const got = RunCommandResourceSchema.parse(example("RunCommands_Get.json").responses["200"]?.body);
    expect(got.properties.instanceView).toMatchObject({
      executionState: "Succeeded",
      exitCode: 0,
      output: "Hello World",
    });
  });

  it("names the failing field path when a response does not match", () => {
    const error = (() => {
      try {
        parseArm(
          RunCommandResourceSchema,
          { id: "x", name: "y", location: "z", properties: { instanceView: { executionState: "Exploded" } } },
          "get",
        );
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ArmResponseShapeError);
    expect((error as Error).message).toContain("properties.instanceView.executionState");
  });
});
