import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { encodeActions } from "../../../lib/device/parameters";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import type { HooksParams } from "../../../lib/schemas/device";
import { makeTempDir, runLinuxScript, writeStub } from "./linuxRunner";

// hooks.sh run by bash. systemd is a stub on PATH (this machine has none): its unit states are files, `stop` refuses a
// unit whose dependents run (systemctl would stop them too; the stub is stricter so the order shows), `start` of a unit
// marked broken fails. The script's own parsing, waiting, MSP script execution and output are real.

const dir = makeTempDir("hooks");
const bin = path.join(dir, "bin");
const units = path.join(dir, "units");
mkdirSync(bin);
mkdirSync(units);
writeStub(
  bin,
  "systemctl",
  `u=\${!#}
log="${units}/calls"
case $1 in
  is-active) s=$(cat "${units}/$u" 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ] ;;
  stop) echo "stop $u" >>"$log"
    if [ "$u" = postgresql.service ] && [ "$(cat "${units}/app.service")" = active ]; then echo "app.service depends on it" >&2; exit 1; fi
    echo inactive >"${units}/$u" ;;
  start) echo "start $u" >>"$log"
    if [ -e "${units}/$u.broken" ]; then echo "Job for $u failed." >&2; exit 1; fi
    echo active >"${units}/$u" ;;
esac`,
);
const PATH = `${bin}:/usr/bin:/bin`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  for (const u of ["app.service", "postgresql.service"]) writeFileSync(path.join(units, u), "active\n");
  rmSync(path.join(units, "calls"), { force: true });
  rmSync(path.join(units, "app.service.broken"), { force: true });
});

type Action = HooksParams["actions"][number];
const svc = (kind: "stop" | "start", target: string, timeoutSeconds = 3): Action => ({
  kind,
  target,
  timeoutSeconds,
  script: "",
});

async function hooks(actions: Action[] | string) {
  const value = typeof actions === "string" ? actions : encodeActions(actions);
  const run = await runLinuxScript("hooks", { Actions: value }, { path: PATH });
  expect(run.code).toBe(0);
  const parsed = parseScriptOutput(run.stdout, { id: "hooks", version: "1.0.0" });
  if (!parsed.ok) throw new Error(`${parsed.failure.kind}: ${parsed.failure.message}\n${run.stdout}`);
  return parsed.output;
}
const calls = (): string[] => readFileSync(path.join(units, "calls"), "utf8").trim().split("\n");

describe("hooks.sh under bash", () => {
  it("stops dependents first, runs the maintenance script, starts in reverse order and verifies each state", async () => {
    const doc = await hooks([
      svc("stop", "app"),
      svc("stop", "postgresql"),
      { kind: "script", target: "maintenance-on", timeoutSeconds: 10, script: "exit 0" },
      svc("start", "postgresql"),
      svc("start", "app"),
    ]);
    expect(doc.errors).toEqual([]);
    expect(doc.data.actions?.map((a) => [a.kind, a.target, a.ok, a.state])).toEqual([
      ["stop", "app", true, "inactive"],
      ["stop", "postgresql", true, "inactive"],
      ["script", "maintenance-on", true, null],
      ["start", "postgresql", true, "active"],
      ["start", "app", true, "active"],
    ]);
    expect(calls()).toEqual([
      "stop app.service",
      "stop postgresql.service",
      "start postgresql.service",
      "start app.service",
    ]);
  });

  it("reports a refused stop, a start that fails and a failing script, and still runs every action", async () => {
    writeFileSync(path.join(units, "app.service.broken"), "");
    const doc = await hooks([
      svc("stop", "postgresql", 1),
      svc("stop", "app", 1),
      svc("start", "app", 1),
      { kind: "script", target: "drain", timeoutSeconds: 10, script: "echo secret; exit 7" },
    ]);
    const [refused, stopped, failed, script] = doc.data.actions ?? [];
    expect(refused).toMatchObject({ ok: false, state: "active" });
    expect(refused?.detail).toContain("app.service depends on it");
    expect(stopped).toMatchObject({ ok: true, state: "inactive" });
    expect(failed).toMatchObject({ ok: false, state: "inactive" });
    expect(failed?.detail).toContain("Job for app.service failed.");
    expect(script).toMatchObject({ ok: false, exitCode: 7 });
    expect(JSON.stringify(doc)).not.toContain("secret");
  });

  it("refuses a list with one bad record whole, before any action runs", async () => {
    const doc = await hooks(`${encodeActions([svc("stop", "app")])},bad!`);
    expect(doc.data.actions).toBeNull();
    expect(doc.errors).toEqual([expect.objectContaining({ section: "parameters" })]);
    expect(() => calls()).toThrow();
    const traversal = ["stop", "../etc", "5", ""].map((f) => Buffer.from(f).toString("base64")).join(".");
    expect((await hooks(traversal)).data.actions).toBeNull();
  });
});
