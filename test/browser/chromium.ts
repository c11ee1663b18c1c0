// Which Chromium the browser tests drive with playwright-core, with no apt step: Debian's /usr/bin/chromium when
// it is installed, else the headless Chromium that the npm package @sparticuz/chromium ships inside its tarball
// (a devDependency, so `npm ci` brings it; it unpacks itself into the temp directory on first use).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";
const ROOT = path.resolve(__dirname, "../..");

export interface ChromiumChoice {
  executablePath: string;
  /** Where it came from, for the test log. */
  source: string;
}

/**
 * @sparticuz/chromium is an ES module (its package.json says "type": "module"), which Jest's CommonJS runtime
 * cannot import on Node 20, so a one-line Node process asks it for the unpacked binary's path.
 */
function packagedChromium(): string {
  const script = "import chromium from '@sparticuz/chromium'; process.stdout.write(await chromium.executablePath());";
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (!existsSync(out)) throw new Error(`@sparticuz/chromium reported ${out}, which does not exist`);
  return out;
}

export function chooseChromium(): ChromiumChoice {
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, source: "Debian's chromium" };
  return { executablePath: packagedChromium(), source: "@sparticuz/chromium (npm)" };
}
