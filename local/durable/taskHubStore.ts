import { isRestError } from "@azure/core-rest-pipeline";
import { TableClient, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import { z } from "zod";
import { failureDetailsSchema, storedEventSchema, type StoredEvent } from "./historyEvent";

/** Runtime statuses, named as the Durable HTTP API names them. */
export const runtimeStatusSchema = z.enum([
  "Pending",
  "Running",
  "Completed",
  "Failed",
  "Terminated",
  "ContinuedAsNew",
]);
/** See {@link runtimeStatusSchema}. */
export type RuntimeStatus = z.infer<typeof runtimeStatusSchema>;

/** True for the statuses an instance never leaves on its own. */
export function isTerminal(status: RuntimeStatus): boolean {
  return status === "Completed" || status === "Failed" || status === "Terminated";
}

/** The row that describes one orchestration instance (its current execution). */
export const instanceRecordSchema = z.object({
  instanceId: z.string(),
  name: z.string(),
  /** Execution number: 0 for the first, +1 at each continueAsNew or restart. */
  generation: z.number().int().nonnegative(),
  status: runtimeStatusSchema,
  input: z.string().optional(),
  output: z.string().optional(),
  customStatus: z.string().optional(),
  createdTime: z.string(),
  lastUpdatedTime: z.string(),
  parent: z
    .object({ instanceId: z.string(), generation: z.number().int(), taskScheduledId: z.number().int() })
    .optional(),
  failure: failureDetailsSchema.optional(),
});
/** See {@link instanceRecordSchema}. */
export type InstanceRecord = z.infer<typeof instanceRecordSchema>;

/** A message from outside the instance (raise event, terminate) kept until an episode records it in history. */
export const inboxMessageSchema = z.object({
  instanceId: z.string(),
  generation: z.number().int(),
  key: z.string(),
  seq: z.number(),
  event: storedEventSchema,
});
/** See {@link inboxMessageSchema}. */
export type InboxMessage = z.infer<typeof inboxMessageSchema>;

// Azure Table limits: 64 KiB per string property (32K UTF-16 chars), 1 MiB per entity, 100 operations and 4 MiB
// per transaction. Bodies are JSON split over numbered properties; transactions are cut by count and size.
const CHUNK_CHARS = 30_000;
const MAX_CHUNKS = 30;
const BATCH_OPS = 100;
const BATCH_CHARS = 2_000_000;

/** Raised when a value is too large for one table row. */
export class RowTooLargeError extends Error {
  constructor(what: string, chars: number) {
    super(`${what} is ${chars} characters of JSON; a table row holds at most ${CHUNK_CHARS * MAX_CHUNKS}`);
    this.name = "RowTooLargeError";
  }
}

type BodyEntity = { partitionKey: string; rowKey: string } & Record<string, string | number>;

function toEntity(partitionKey: string, rowKey: string, body: unknown, what: string): BodyEntity {
  const json = JSON.stringify(body);
  const chunks = Math.ceil(json.length / CHUNK_CHARS) || 1;
  if (chunks > MAX_CHUNKS) throw new RowTooLargeError(what, json.length);
  const entity: BodyEntity = { partitionKey: encodeKey(partitionKey), rowKey, chunks };
  for (let i = 0; i < chunks; i++) entity[`b${i}`] = json.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
  return entity;
}

function bodyOf(entity: TableEntityResult<Record<string, unknown>>): unknown {
  const chunks = z.number().int().positive().parse(entity.chunks);
  let json = "";
  for (let i = 0; i < chunks; i++) json += z.string().parse(entity[`b${i}`]);
  return JSON.parse(json);
}

/** Table keys may not hold / \ # ? or control characters; instance ids may. */
function encodeKey(value: string): string {
  return encodeURIComponent(value);
}

function historyRowKey(generation: number, index: number): string {
  return `${generation.toString().padStart(6, "0")}-${index.toString().padStart(8, "0")}`;
}

function escapeOData(value: string): string {
  return value.replace(/'/g, "''");
}

/** Options for {@link TaskHubStore}. */
export interface TaskHubStoreOptions {
  connectionString: string;
  taskHub: string;
}

/**
 * Instances, histories and inbound messages of one task hub, in three Azure Table storage tables named after the
 * hub (`{hub}Instances`, `{hub}History`, `{hub}Inbox`). History rows are append-only and keyed by execution and
 * position, so writing the same episode twice after a crash is harmless.
 */
export class TaskHubStore {
  private readonly instances: TableClient;
  private readonly history: TableClient;
  private readonly inbox: TableClient;

  constructor(options: TaskHubStoreOptions) {
    const hub = z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{2,49}$/, "task hub: 3-50 letters and digits, starting with a letter")
      .parse(options.taskHub);
    const table = (suffix: string) =>
      TableClient.fromConnectionString(options.connectionString, `${hub}${suffix}`, { allowInsecureConnection: true });
    this.instances = table("Instances");
    this.history = table("History");
    this.inbox = table("Inbox");
  }

  /** Creates the tables (existing ones are kept). */
  async ensureTables(): Promise<void> {
    await Promise.all([this.instances.createTable(), this.history.createTable(), this.inbox.createTable()]);
  }

  /** Every instance row. */
  async loadInstances(): Promise<InstanceRecord[]> {
    const result: InstanceRecord[] = [];
    for await (const entity of this.instances.listEntities<Record<string, unknown>>()) {
      result.push(instanceRecordSchema.parse(bodyOf(entity)));
    }
    return result;
  }

  /** One instance row, or undefined. */
  async loadInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      const entity = await this.instances.getEntity<Record<string, unknown>>(encodeKey(instanceId), "instance");
      return instanceRecordSchema.parse(bodyOf(entity));
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /** The history of one execution, in order. */
  async loadHistory(instanceId: string, generation: number): Promise<StoredEvent[]> {
    const from = historyRowKey(generation, 0);
    const to = `${generation.toString().padStart(6, "0")}.`;
    const filter = `PartitionKey eq '${escapeOData(encodeKey(instanceId))}' and RowKey ge '${from}' and RowKey lt '${to}'`;
    const events: StoredEvent[] = [];
    for await (const entity of this.history.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      events.push(storedEventSchema.parse(bodyOf(entity)));
    }
    return events;
  }

  /** Every message waiting in any inbox. */
  async loadInbox(): Promise<InboxMessage[]> {
    const result: InboxMessage[] = [];
    for await (const entity of this.inbox.listEntities<Record<string, unknown>>()) {
      result.push(inboxMessageSchema.parse(bodyOf(entity)));
    }
    return result.sort((a, b) => a.seq - b.seq);
  }

  /** Writes events at positions `startIndex`.. of an execution's history (idempotent: rows are replaced). */
  async appendHistory(
    instanceId: string,
    generation: number,
    startIndex: number,
    events: readonly StoredEvent[],
  ): Promise<void> {
    const entities = events.map((event, i) =>
      toEntity(instanceId, historyRowKey(generation, startIndex + i), event, `history event of ${instanceId}`),
    );
    await this.submitInBatches(
      this.history,
      entities.map((e): TransactionAction => ["upsert", e, "Replace"]),
    );
  }

  /** Creates or replaces an instance row. */
  async putInstance(record: InstanceRecord): Promise<void> {
    await this.instances.upsertEntity(
      toEntity(record.instanceId, "instance", record, `instance ${record.instanceId}`),
      "Replace",
    );
  }

  /** Stores an inbound message. */
  async putInbox(message: InboxMessage): Promise<void> {
    await this.inbox.upsertEntity(
      toEntity(message.instanceId, message.key, message, `message ${message.key}`),
      "Replace",
    );
  }

  /** Removes inbound messages that history now holds (already-removed ones are fine). */
  async deleteInbox(instanceId: string, keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.deleteIgnoringMissing(this.inbox, instanceId, key)));
  }

  /** Removes the history rows of executions before `generation` (after continueAsNew or a restart). */
  async deleteHistoryBefore(instanceId: string, generation: number): Promise<void> {
    const filter = `PartitionKey eq '${escapeOData(encodeKey(instanceId))}' and RowKey lt '${historyRowKey(generation, 0)}'`;
    await this.deleteWhere(this.history, filter);
  }

  /** Removes every row of an instance. */
  async purge(instanceId: string): Promise<void> {
    const filter = `PartitionKey eq '${escapeOData(encodeKey(instanceId))}'`;
    await Promise.all([this.deleteWhere(this.history, filter), this.deleteWhere(this.inbox, filter)]);
    await this.deleteIgnoringMissing(this.instances, instanceId, "instance");
  }

  private async deleteWhere(table: TableClient, filter: string): Promise<void> {
    const actions: TransactionAction[] = [];
    const select = ["PartitionKey", "RowKey"];
    for await (const entity of table.listEntities({ queryOptions: { filter, select } })) {
      actions.push(["delete", { partitionKey: entity.partitionKey ?? "", rowKey: entity.rowKey ?? "" }]);
    }
    await this.submitInBatches(table, actions);
  }

  private async deleteIgnoringMissing(table: TableClient, instanceId: string, rowKey: string): Promise<void> {
    try {
      await table.deleteEntity(encodeKey(instanceId), rowKey);
    } catch (error) {
      if (!(isRestError(error) && error.statusCode === 404)) throw error;
    }
  }

  private async submitInBatches(table: TableClient, actions: readonly TransactionAction[]): Promise<void> {
    // A transaction holds one partition; callers pass one partition's actions.
    const batches: TransactionAction[][] = [];
    let current: TransactionAction[] = [];
    let chars = 0;
    for (const action of actions) {
      const size = JSON.stringify(action[1]).length;
      if (current.length === BATCH_OPS || (current.length > 0 && chars + size > BATCH_CHARS)) {
        batches.push(current);
        current = [];
        chars = 0;
      }
      current.push(action);
      chars += size;
    }
    if (current.length > 0) batches.push(current);
    await Promise.all(batches.map((batch) => table.submitTransaction(batch)));
  }
}
