import type { PackageManifest } from "./packageLayout";
import { PACKAGE_FILES, RUN_FILES } from "./packageLayout";

/** What the README states about the package (all from export.json, so the README is as deterministic as it is). */
export type ReadmeContext = Pick<PackageManifest, "exportId" | "tenant" | "scope" | "createdAt" | "tool"> & {
  runs: number;
  skipped: number;
};

/**
 * `README.md` for the auditor: what is inside, how to verify it offline with the CLI and by hand, and why the
 * Merkle roots must be compared with those reported when the runs ended (a package alone is not anchored).
 */
export function renderExportReadme(c: ReadmeContext): string {
  const filters = [
    c.scope.clients === undefined ? "" : ` Clients: ${c.scope.clients.map((x) => `\`${x}\``).join(", ")}.`,
    c.scope.devices === undefined ? "" : ` Devices: ${c.scope.devices.map((x) => `\`${x}\``).join(", ")}.`,
  ].join("");
  const skipped =
    c.skipped === 0
      ? ""
      : ` ${c.skipped} more runs started in the range but are not in the package (\`skipped\` in \`${PACKAGE_FILES.manifest}\` says why).`;
  return `# PatchPilot evidence export ${c.exportId}

Tenant (MSP): \`${c.tenant}\`. Device runs started from ${c.scope.from} up to, not including, ${c.scope.to}.${filters}
Package created ${c.createdAt} by ${c.tool.name} ${c.tool.version}. It holds ${c.runs} runs.${skipped}

## What is inside

| Path | What it is |
|---|---|
| \`${PACKAGE_FILES.readme}\` | This file. |
| \`${PACKAGE_FILES.manifest}\` | The request (time range, clients, devices), when and by which tool the package was made, and every run in it with the Merkle root, event-chain head and exit code the run reported when it ended. |
| \`runs/{client}/{device}/{runId}/NN-phase/…\` | Every indexed artifact of the run, byte for byte as PatchPilot stored it (write-once): \`01-init/run.json\`, \`02-baseline/baseline.json\`, \`03-catalog/catalog.json\`, \`04-pre-validation/\`, \`05-install/install-summary.jsonl\`, \`06-reboot/\`, \`07-post-snapshot/\`, \`08-post-validation/\`, \`09-diagnostics/\`, the raw Run Command transcripts, \`10-index/events.jsonl\`, \`artifact-index.json\` and \`manifest.json\` (the seal), \`11-report/exit-code.json\`, \`final-report.json\` and \`report.html\`. |
| \`runs/…/${RUN_FILES.index}\` | The run's SHA-256 index (the Artifacts table): path, SHA-256, size, and whether the artifact is a Merkle leaf. |
| \`runs/…/${RUN_FILES.proofs}\` | An RFC 6962 inclusion proof for every Merkle leaf, against the root in the run's \`10-index/manifest.json\`. |
| \`${PACKAGE_FILES.installs}\` | The audit index of update installs for these runs, one JSON object per line, each naming the artifact and line that record it. |
| \`${PACKAGE_FILES.verification}\` | The verification made while the package was built: every artifact re-hashed as it was copied in and checked against the index and its schema, and each run's seal (Merkle root, artifact index, event chain). |
| \`${PACKAGE_FILES.matrixCsv}\`, \`${PACKAGE_FILES.matrixHtml}\` | Which artifacts evidence which control: NIST SP 800-40r4 phases, NIST SP 800-53r5 controls (SI-2, RA-5, CM-2, CM-3, …), CIS Controls v8 controls and safeguards (7.3, 8.2, 12, 16). One row per control and artifact present; the HTML prints. |
| \`${PACKAGE_FILES.oscal}\` | The same evidence as NIST OSCAL 1.2.1 assessment results (JSON) for GRC tools: per run the SP 800-53r5 controls reviewed, observations citing each packaged artifact by path and SHA-256, and findings. |
| \`${PACKAGE_FILES.sums}\` | SHA-256 of every other file, in \`sha256sum -c\` format (the last file in the zip). |

## Verify it offline

    npx patchpilot verify --package export.zip

This needs no network and no Azure. It checks every line of \`${PACKAGE_FILES.sums}\`, and for every run: each file
against \`${RUN_FILES.index}\` (a missing or extra file is a failure), the Merkle root recomputed from the index against
\`manifest.json\`, \`artifact-index.json\` against the manifest, every proof in \`${RUN_FILES.proofs}\` against the manifest's
root (using the hash of the file as packaged), and the hash chain of \`events.jsonl\` against the manifest. It exits 0
when everything holds; 1 when anything does not, listing every problem with the first bad file on the first line; 2
when the file is not a readable zip.

## Verify it by hand

1. **Files.** \`unzip export.zip -d export && cd export && sha256sum -c ${PACKAGE_FILES.sums}\` (macOS:
   \`shasum -a 256 -c ${PACKAGE_FILES.sums}\`). Then compare each run's files with its \`${RUN_FILES.index}\`.
2. **Merkle root.** The leaves are the rows of \`${RUN_FILES.index}\` with \`"merkleLeaf": true\` (the same list as
   \`10-index/artifact-index.json\`), sorted by path in byte order. Leaf data is the canonical JSON (RFC 8785)
   \`{"path":"<path>","sha256":"<hex>"}\`: these two keys, in this order, no spaces. Leaf hash = SHA-256(0x00 ‖ leaf
   data); node = SHA-256(0x01 ‖ left ‖ right); the tree is RFC 6962 §2.1's (Certificate Transparency's). A leaf hash
   in a shell: \`printf '\\000{"path":"%s","sha256":"%s"}' 03-catalog/catalog.json <sha256> | sha256sum\`. The root
   must equal \`merkle.root\` in the run's \`10-index/manifest.json\`, the leaf count \`merkle.leafCount\`.
3. **Inclusion proofs.** Each proof in \`${RUN_FILES.proofs}\` gives \`leafIndex\`, \`treeSize\` and \`auditPath\` (hex,
   leaf to root). Any RFC 6962 / RFC 9162 inclusion verifier checks it against the manifest's root, for example
   \`proof.VerifyInclusion\` of the Go module \`github.com/transparency-dev/merkle\`. Compute the leaf hash yourself
   from the file's SHA-256 (step 2) rather than trusting \`leafHash\`.
4. **Artifact index.** The SHA-256 of \`10-index/artifact-index.json\` must equal \`artifactIndexSha256\` in the manifest.
5. **Event chain.** Each line of \`10-index/events.jsonl\` is a canonical JSON event. Its \`hash\` is the SHA-256 of the
   canonical JSON of the event without \`hash\`; its \`prevHash\` is the previous line's \`hash\` (64 zeros on the first
   line). The last \`hash\` must equal \`events.chainHead\` in the manifest, the number of lines \`events.count\`.

## What a verified package proves, and what it does not

A package is self-consistent, not anchored: whoever could change it could also recompute its hashes, proofs and
\`${PACKAGE_FILES.sums}\`. What ties it to the evidence lies outside it. Compare:

- each run's Merkle root (\`merkle.root\` in its \`manifest.json\`, also \`runs[].merkleRoot\` in \`${PACKAGE_FILES.manifest}\`)
  with the root PatchPilot reported when the run ended: the run status API (\`merkleRoot\`), the run's alert in your
  dashboards or Log Analytics, or your RMM tool's records;
- the SHA-256 of the zip with the \`sha256\` the export API reported for export ${c.exportId}.

When the roots match, every Merkle leaf of that run is exactly what was sealed when the run ended. Files written
after the seal (\`10-index/artifact-index.json\`, \`10-index/manifest.json\`, \`11-report/*\`) are covered by
\`${RUN_FILES.index}\` and \`${PACKAGE_FILES.sums}\`; \`11-report/exit-code.json\` names the Merkle root it was
decided against and the hash of every artifact it read.

## The compliance matrix

It maps a control to an artifact only where the control can be checked against that artifact (for example SI-2 flaw
remediation against the catalog decisions and install outcomes). It shows that evidence exists for each run; whether
it satisfies the control is the auditor's judgement. SP 800-40r4's fourth phase (monitor the deployed patch) happens
between runs, so no single run's artifact is cited for it.
`;
}
