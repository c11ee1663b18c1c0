import type { AccessToken, TokenCredential } from "@azure/core-auth";

/**
 * The credential for the local fleet emulator: a static bearer token. The emulator accepts any bearer token (and
 * rejects a missing one with 401, as ARM does); nothing here ever reaches Azure.
 */
export class LocalFleetCredential implements TokenCredential {
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: "patchpilot-local-fleet", expiresOnTimestamp: Date.now() + 3600_000 });
  }
}
