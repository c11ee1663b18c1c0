import type { OsFamily } from "../../../lib/schemas/common";

// What a freshly provisioned server of each family looks like, so a scenario only states what matters to its test.

export const DEFAULT_OS = {
  windows: { name: "Microsoft Windows Server 2022 Datacenter", version: "10.0.20348", build: "20348.2227" },
  linux: { name: "Ubuntu 22.04.4 LTS", version: "22.04", build: "5.15.0-105-generic" },
} as const;

/** Azure Connected Machine agent (Arc) and VM agent (VMSS) versions. */
export const DEFAULT_AGENT_VERSION = {
  arc: "1.50.02910.1766",
  vmss: "2.7.41491.1102",
  vm: "2.7.41491.1102",
  vmssFlex: "2.7.41491.1102",
} as const;

export const DEFAULT_SERVICES = {
  windows: [
    { name: "wuauserv", state: "Running", startType: "Manual" },
    { name: "TrustedInstaller", state: "Stopped", startType: "Manual" },
    { name: "himds", state: "Running", startType: "Automatic" },
    { name: "W32Time", state: "Running", startType: "Automatic" },
    { name: "EventLog", state: "Running", startType: "Automatic" },
  ],
  linux: [
    { name: "ssh.service", state: "Running", startType: "enabled" },
    { name: "himdsd.service", state: "Running", startType: "enabled" },
    { name: "cron.service", state: "Running", startType: "enabled" },
    { name: "systemd-journald.service", state: "Running", startType: "static" },
  ],
} as const satisfies Record<OsFamily, readonly { name: string; state: string; startType: string }[]>;

export const DEFAULT_DRIVERS = {
  windows: [
    { name: "storvsc", version: "10.0.20348.1", provider: "Microsoft" },
    { name: "netvsc", version: "10.0.20348.1", provider: "Microsoft" },
  ],
  linux: [],
} as const;

export const DEFAULT_APPS = {
  windows: [{ name: "Azure Connected Machine Agent", version: "1.50.02910.1766", publisher: "Microsoft Corporation" }],
  linux: [{ name: "azcmagent", version: "1.50.02910.1766", publisher: "Microsoft" }],
} as const;

export const DEFAULT_DISKS = {
  windows: [{ mount: "C:", freeBytes: 48_318_382_080, totalBytes: 136_363_855_872 }],
  linux: [
    { mount: "/", freeBytes: 21_474_836_480, totalBytes: 31_025_332_224 },
    { mount: "/boot", freeBytes: 734_003_200, totalBytes: 1_020_702_720 },
  ],
} as const;

/** Reboot durations: Windows servicing stacks take minutes, Linux seconds. */
export const DEFAULT_REBOOT_SECONDS = { windows: 150, linux: 45 } as const;

/** Packages whose upgrade asks for a reboot on Linux (needs-restarting / reboot-required). */
export const REBOOT_PACKAGES = /^(linux-image|linux-modules|kernel|kernel-core|glibc|libc6|systemd|openssl|libssl)/;

/** The package manager a Linux distribution uses, from its name. */
export function packageManagerFor(osName: string, osVersion: string): "apt" | "dnf" | "yum" | "zypper" {
  if (/ubuntu|debian/i.test(osName)) return "apt";
  if (/suse|sles/i.test(osName)) return "zypper";
  if (/(red hat|rhel|centos|oracle|rocky|alma)/i.test(osName) && /^7(\.|$)/.test(osVersion)) return "yum";
  return "dnf";
}

/** The repository a package comes from when the scenario does not say. */
export function defaultSource(osName: string, osVersion: string, security: boolean): string {
  if (/ubuntu/i.test(osName)) {
    const codename = { "20.04": "focal", "22.04": "jammy", "24.04": "noble" }[osVersion] ?? "stable";
    return `Ubuntu:${osVersion}/${codename}-${security ? "security" : "updates"}`;
  }
  if (/debian/i.test(osName))
    return `Debian${security ? "-Security" : ""}:${osVersion}/stable${security ? "-security" : "-updates"}`;
  const major = osVersion.split(".")[0] ?? osVersion;
  return `rhel-${major}-for-x86_64-baseos-rpms`;
}
