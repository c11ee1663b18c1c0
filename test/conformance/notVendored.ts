import { type Exchange, type Operation, type SpecIndex } from "./swaggerSpecs";

/**
 * Operations the app sends whose spec is not in test/fixtures/reference (method, provider path shape, api-version),
 * with why. Everything else in the window's traffic is checked.
 */
export const NOT_VENDORED: Record<string, string> = {
  "GET Microsoft.Compute/virtualMachineScaleSets/*/virtualMachines/*/instanceView 2026-04-01":
    "reboot waits of Uniform VMSS instances: virtualMachineScaleSetVM.json is not vendored (shared/reference holds " +
    "Compute run commands only)",
  "GET Microsoft.Compute/virtualMachines/*/instanceView 2026-04-01":
    "reboot waits of Azure VMs and Flexible instances: virtualMachine.json is not vendored (as above)",
};

export function operationOf(specs: SpecIndex, e: Exchange): Operation | undefined {
  const url = new URL(e.url, "https://management.azure.com");
  return specs.match(e.method, url.pathname, url.searchParams.get("api-version"));
}

/** `GET Microsoft.Compute/virtualMachineScaleSets/*\/virtualMachines/* 2026-04-01`: the operation, names starred. */
export function shapeOf(e: Exchange): string {
  const url = new URL(e.url, "https://management.azure.com");
  const provider = /\/providers\/(.*)$/.exec(url.pathname)?.[1] ?? url.pathname;
  const starred = provider.split("/").map((part, i) => (i === 0 || i % 2 === 1 ? part : "*"));
  return `${e.method} ${starred.join("/")} ${url.searchParams.get("api-version") ?? ""}`;
}
