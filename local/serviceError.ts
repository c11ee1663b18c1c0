/**
 * An error answer of a local Azure stand-in (ARM emulator, Event Grid topic, Logs Ingestion endpoint): the HTTP
 * status, the service's error code and message (sent as `{"error":{"code","message"}}`), and any extra headers
 * (Retry-After, WWW-Authenticate).
 */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ServiceError";
  }
}
