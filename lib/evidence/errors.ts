import { isRestError, type RestError } from "@azure/core-rest-pipeline";

/** A write would have replaced existing evidence with different bytes; nothing was changed. */
export class EvidenceConflictError extends Error {
  constructor(
    readonly blobName: string,
    readonly existingSha256: string,
    readonly attemptedSha256: string,
  ) {
    super(
      `evidence ${blobName} already exists with SHA-256 ${existingSha256}; refusing to replace it with ${attemptedSha256}`,
    );
    this.name = "EvidenceConflictError";
  }
}

/** An index row already exists with different values than the ones being written; nothing was changed. */
export class IndexConflictError extends Error {
  constructor(
    readonly table: string,
    readonly partitionKey: string,
    readonly rowKey: string,
    readonly detail: string,
  ) {
    super(`index ${table}(${partitionKey}, ${rowKey}) already holds different values: ${detail}`);
    this.name = "IndexConflictError";
  }
}

/** True when the error is an Azure REST error with exactly this HTTP status. */
export function isStatus(error: unknown, status: number): error is RestError {
  return isRestError(error) && error.statusCode === status;
}
