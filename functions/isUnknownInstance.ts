/** The DurableClient answers an unknown instance id with this error (it has no error class of its own). */
export function isUnknownInstance(error: unknown): boolean {
  return error instanceof Error && /replied with HTTP 404/.test(error.message);
}
