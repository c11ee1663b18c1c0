import https from "node:https";
import { ArmSpecSchema } from "../../../local/fleet/scenario/scenarioSchema";
import { arcDevice, fleetOf, ManualClock, SUB_A, startEmulator, type EmulatorUnderTest } from "./testFleet";

/**
 * Azure's published per-subscription buckets, transcribed from Microsoft's page (not imported from the emulator):
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * "Regional throttling and token bucket algorithm": Subscription reads 250 / 25 per second, deletes 200 / 10,
 * writes 200 / 10; 429 with Retry-After when the bucket is empty; remaining counts in
 * x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}.
 */
const PUBLISHED = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function send(env: EmulatorUnderTest, method: string, path: string, body?: string): Promise<Answer> {
  const url = new URL(`${path}?api-version=2025-01-13`, env.emulator.endpoint);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: env.emulator.ca,
        headers: { authorization: "Bearer local", "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const MACHINE = `/subscriptions/${SUB_A}/resourceGroups/rg-contoso/providers/Microsoft.HybridCompute/machines/m-0`;
const RUN_COMMAND = `${MACHINE}/runCommands/absent`;

/** Sends `count` requests one after the other; the answers in order. */
async function burst(env: EmulatorUnderTest, count: number, method: string, path: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < count; i += 1) answers.push(await send(env, method, path, method === "PUT" ? "{}" : undefined));
  return answers;
}

describe("the fleet emulator's ARM buckets at Azure's published rates, on the fleet's (virtual) clock", () => {
  let env: EmulatorUnderTest;
  const clock = new ManualClock();
  beforeAll(async () => {
    const defaults = ArmSpecSchema.parse({}).throttling;
    env = await startEmulator({
      fleet: fleetOf([arcDevice("m-0", {})], [], { throttling: defaults, throttlingClock: "fleet" }),
      clock,
    });
  });
  afterAll(async () => {
    await env.emulator.close();
  });

  it("defaults every scenario to the published bucket sizes and refill rates", () => {
    expect(ArmSpecSchema.parse({}).throttling).toEqual(PUBLISHED);
  });

  it("answers reads until the bucket is empty, counting down the remaining header, then 429 with Retry-After", async () => {
    const answers = await burst(env, PUBLISHED.reads.capacity + 1, "GET", MACHINE);
    const served = answers.slice(0, PUBLISHED.reads.capacity);
    expect(served.every((a) => a.status === 200)).toBe(true);
    expect(served.map((a) => Number(a.headers["x-ms-ratelimit-remaining-subscription-reads"]))).toEqual(
      Array.from({ length: PUBLISHED.reads.capacity }, (_, i) => PUBLISHED.reads.capacity - 1 - i),
    );
    const refused = answers[PUBLISHED.reads.capacity];
    expect(refused?.status).toBe(429);
    expect(refused?.headers["retry-after"]).toBe("1");
  });

  it("refills at the published rate as the virtual clock moves, not with real time", async () => {
    expect((await send(env, "GET", MACHINE)).status).toBe(429);
    clock.advance(1_000);
    const answers = await burst(env, PUBLISHED.reads.refillPerSecond + 1, "GET", MACHINE);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(PUBLISHED.reads.refillPerSecond);
    expect(answers.at(-1)?.status).toBe(429);
  });

  it("keeps writes and deletes in buckets of their own, each with its header", async () => {
    const writes = await burst(env, PUBLISHED.writes.capacity + 1, "PUT", RUN_COMMAND);
    expect(writes.filter((a) => a.status !== 429)).toHaveLength(PUBLISHED.writes.capacity);
    expect(writes.at(-1)?.status).toBe(429);
    // Reads are still spent from the test before, writes now too: deletes have their own 200.
    const deletes = await burst(env, PUBLISHED.deletes.capacity + 1, "DELETE", RUN_COMMAND);
    expect(deletes.filter((a) => a.status !== 429)).toHaveLength(PUBLISHED.deletes.capacity);
    expect(deletes[0]?.headers["x-ms-ratelimit-remaining-subscription-deletes"]).toBe(
      String(PUBLISHED.deletes.capacity - 1),
    );
    const refused = deletes.at(-1);
    expect(refused?.status).toBe(429);
    // One token comes back every 1/10 s: ARM rounds Retry-After up to whole seconds.
    expect(refused?.headers["retry-after"]).toBe("1");
    clock.advance(10_000);
    const refilled = await burst(env, PUBLISHED.writes.refillPerSecond * 10 + 1, "PUT", RUN_COMMAND);
    expect(refilled.filter((a) => a.status !== 429)).toHaveLength(PUBLISHED.writes.refillPerSecond * 10);
  });
});
