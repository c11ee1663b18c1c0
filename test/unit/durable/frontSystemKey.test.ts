// The front's Durable management API (/runtime/webhooks/durabletask/) lists and controls every tenant's
// orchestrations: as in Azure it needs the host's system key, and a front given no key does not serve it at all.
import { startHttpFront, type HttpFront } from "../../../local/durable/httpFront";

async function front(systemKey: string | undefined): Promise<HttpFront> {
  return startHttpFront({
    definitions: [],
    // Never reached in these tests: every request here is refused before the management API runs.
    engine: {} as never,
    createContext: () => {
      throw new Error("no function here");
    },
    port: 0,
    systemKey,
    log: () => undefined,
  });
}

describe("local HTTP front: the Durable management API", () => {
  it("is not served without a system key (404, problem body)", async () => {
    const f = await front(undefined);
    try {
      const res = await fetch(`${f.baseUrl}/runtime/webhooks/durabletask/instances`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    } finally {
      await f.close();
    }
  });

  it("answers 401 without the key or with a wrong one", async () => {
    const f = await front("s3cret-system-key");
    try {
      for (const url of [
        `${f.baseUrl}/runtime/webhooks/durabletask/instances`,
        `${f.baseUrl}/runtime/webhooks/durabletask/instances?code=wrong`,
        `${f.baseUrl}/runtime/webhooks/durabletask/instances?code=s3cret-system-ke`,
      ]) {
        expect((await fetch(url)).status).toBe(401);
      }
    } finally {
      await f.close();
    }
  });
});
