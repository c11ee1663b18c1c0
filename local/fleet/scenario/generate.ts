/**
 * Prints a generated fleet scenario as JSON:
 *
 *   node dist/local/fleet/scenario/generate.js --devices 5000 --seed 1 [--kinds mixed] > big.json
 *
 * `--kinds mixed`: Arc, Uniform VMSS, Flexible VMSS and Azure VMs in equal parts.
 */
import { z } from "zod";
import { generateScenario, MIXED_KINDS, type GenerateOptions } from "./generateScenario";

const ArgsSchema = z
  .object({
    devices: z.coerce.number().int().min(1).max(200_000),
    seed: z.coerce.number().int().min(0).default(1),
    kinds: z.enum(["mixed"]).optional(),
  })
  .strict();

/** Reads `--devices N [--seed S]`; throws with usage on anything else. */
export function parseGenerateArgs(argv: readonly string[]): GenerateOptions {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? "";
    const value = argv[i + 1];
    if (!flag.startsWith("--") || value === undefined)
      throw new Error(`usage: generate --devices N [--seed S] [--kinds mixed] (bad argument ${flag})`);
    raw[flag.slice(2)] = value;
  }
  const parsed = ArgsSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`usage: generate --devices N [--seed S] [--kinds mixed]\n${z.prettifyError(parsed.error)}`);
  const { devices, seed, kinds } = parsed.data;
  return { devices, seed, ...(kinds === "mixed" ? { kinds: MIXED_KINDS } : {}) };
}

if (require.main === module) {
  try {
    process.stdout.write(`${JSON.stringify(generateScenario(parseGenerateArgs(process.argv.slice(2))), null, 1)}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
