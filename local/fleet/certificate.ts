import { generate } from "selfsigned";

/** A TLS key pair for the emulator; `cert` doubles as the CA clients trust (it is self-signed). */
export interface FleetCertificate {
  key: string;
  cert: string;
}

/** Generates a fresh self-signed certificate for localhost / 127.0.0.1 / ::1, valid for a week. */
export async function generateFleetCertificate(): Promise<FleetCertificate> {
  const pems = await generate([{ name: "commonName", value: "patchpilot-fleet-emulator" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
