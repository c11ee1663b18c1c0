import { BlobServiceClient } from "@azure/storage-blob";
import { TableClient } from "@azure/data-tables";
import { testConfig } from "../harness/storage";

describe("Azurite harness", () => {
  it("serves Blob and Table storage to the real SDK clients", async () => {
    const config = testConfig();
    if (config.evidence.account.kind !== "connectionString") throw new Error("expected a connection string");
    const cs = config.evidence.account.connectionString;
    const container = BlobServiceClient.fromConnectionString(cs).getContainerClient("harness-check");
    await container.createIfNotExists();
    await container.getBlockBlobClient("hello.txt").uploadData(Buffer.from("hi"));
    expect((await container.getBlockBlobClient("hello.txt").downloadToBuffer()).toString()).toBe("hi");

    const table = TableClient.fromConnectionString(cs, "HarnessCheck", { allowInsecureConnection: true });
    await table.createTable();
    await table.upsertEntity({ partitionKey: "p", rowKey: "r", value: 42 });
    expect((await table.getEntity<{ value: number }>("p", "r")).value).toBe(42);
  });
});
