import type { TokenCredential } from "@azure/core-auth";
import { LogsIngestionClient } from "@azure/monitor-ingestion";
import { LOG_STREAMS, type LogRows } from "./logRows";

/** Sends rows to the data collection rule's streams. */
export interface LogsIngester {
  upload(rows: LogRows): Promise<void>;
}

/** Where the DCE is, which DCR takes the rows, and as whom. */
export interface LogsIngesterConnection {
  endpoint: string;
  ruleId: string;
  credential: TokenCredential;
  /** PEM of an extra CA to trust (the local endpoint's self-signed certificate); this client only. */
  ca?: string | undefined;
}

/** A {@link LogsIngester} over `@azure/monitor-ingestion`'s LogsIngestionClient; each row is checked by its schema first. */
export function createLogsIngester(connection: LogsIngesterConnection): LogsIngester {
  const client = new LogsIngestionClient(connection.endpoint, connection.credential, {
    ...(connection.ca === undefined ? {} : { tlsOptions: { ca: connection.ca } }),
  });
  return {
    async upload(rows) {
      for (const key of ["runs", "updates", "windows"] as const) {
        const batch = rows[key];
        if (batch.length === 0) continue;
        const stream = LOG_STREAMS[key];
        // A row the DCR would silently mangle (unknown column, wrong type) fails here, loudly, instead.
        for (const row of batch) stream.schema.parse(row);
        await client.upload(connection.ruleId, stream.stream, batch);
      }
    },
  };
}
