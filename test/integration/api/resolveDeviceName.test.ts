import { resolveDeviceName } from "../../../lib/api/installs/resolveDeviceName";
import { installsPartition } from "../../../lib/evidence/keys";
import { testStorage, uniqueRunId } from "../../harness/storage";

describe("resolveDeviceName (Azurite: the audit index's own partition keys)", () => {
  it("finds the canonical spelling among neighbours that sort around it, and nothing for an unknown name", async () => {
    const installs = (await testStorage()).tables.installs;
    const tenant = uniqueRunId("names").toLowerCase();
    const other = `${tenant}x`;
    const devices = ["FAB-APP0", "FAB-APP010", "FAB-APP02", "FAB-APQ01", "Fab-App01", "fab-app011", "fab-b", "WIN-01"];
    for (const device of devices)
      await installs.createEntity({ partitionKey: installsPartition(tenant, device), rowKey: "KB1|run" });
    // Another tenant's device with the very name asked must never answer for this tenant.
    await installs.createEntity({ partitionKey: installsPartition(other, "fab-app01"), rowKey: "KB1|run" });

    expect(await resolveDeviceName(installs, tenant, "fab-app01")).toBe("Fab-App01");
    expect(await resolveDeviceName(installs, tenant, "FAB-APP01")).toBe("Fab-App01");
    expect(await resolveDeviceName(installs, tenant, "win-01")).toBe("WIN-01");
    expect(await resolveDeviceName(installs, tenant, "FAB-APP03")).toBeUndefined();
    expect(await resolveDeviceName(installs, tenant, "zzz")).toBeUndefined();
    expect(await resolveDeviceName(installs, other, "FAB-APP01")).toBe("fab-app01");
  });
});
