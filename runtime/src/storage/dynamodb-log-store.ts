/**
 * The LogStore on DynamoDB (scale-out mode): each partition's log as items `log#P` keyed by the first
 * LSN of each appended batch, and a fence item `fence#P` (see dynamodb-table.ts).
 *
 * Every append is one `TransactWriteItems` (several for a batch above MAX_TRANSACTION_PAYLOAD_BYTES):
 * an Update of the fence item that requires this store's claim (epoch and owner) and the partition's
 * tail at `firstLsn - 1`, and moves the tail; plus a Put of each batch item with
 * `attribute_not_exists`. So a stale writer is refused by the epoch even where trimming freed the
 * LSNs it would write (the LSN condition alone cannot see that), and LSNs stay dense. The fence item's
 * `tail` answers `lastLsn` without a query and survives trimming every batch.
 *
 * Retries: a failure whose outcome is unknown (timeout, throttling, a transaction conflict) is retried
 * with the same `ClientRequestToken`, chosen once per transaction: if the first try did land, DynamoDB
 * answers the retry as a success (for 10 minutes) instead of a false conflict. Each batch item also
 * records that token (`tx`), so a conflict is checked against it before it is reported: a retry the
 * token did not cover (after 10 minutes, or an emulator without idempotency) finds its own write. After MAX_APPEND_ATTEMPTS, the append fails with STORE_LOG_UNAVAILABLE and the partition
 * stops: leading on without knowing whether a batch landed would put a gap or a duplicate in the log.
 *
 * Trims never delete anything readable: the fence item's `trimmed` moves first (reads skip what is
 * at or below it), then whole items at or below it are deleted in bounded BatchWriteItem calls.
 * Trims need no fence: a partition's log is trimmed only below a snapshot, and any snapshot at an LSN
 * holds exactly the log up to it, since every append is fenced.
 */
import { randomUUID } from "node:crypto";
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import {
  LogConflictError,
  LogFencedError,
  checkAppendArguments,
  checkPartition,
  checkReadArguments,
} from "./log-store";
// The limits every LogStore shares, re-exported where callers of this store have found them.
export { MAX_READ_RECORDS, MAX_RECORDS_PER_APPEND } from "./log-store";
import type { LogFence, LogStore, StoredRecord } from "./log-store";
import { StoreClosedError } from "./store-errors";
import {
  decodeLogItem,
  encodeLogItems,
  COMPRESS_ABOVE_BYTES,
  type LogItemPayload,
} from "./dynamodb-log-items";
import { fenceKey, logKey } from "./dynamodb-table";

/** Item payload bytes in one transaction: DynamoDB takes at most 4 MB per TransactWriteItems. */
export const MAX_TRANSACTION_PAYLOAD_BYTES = 3 * 1024 * 1024;
/** Batch items in one transaction (DynamoDB allows 100 actions; one is the fence update). */
export const MAX_ITEMS_PER_TRANSACTION = 50;
/** Tries of one transaction whose outcome is unknown before the append fails as unavailable. */
export const MAX_APPEND_ATTEMPTS = 8;
/** Items deleted by one BatchWriteItem (DynamoDB's limit). */
export const TRIM_ITEMS_PER_CALL = 25;
/** Items one trim() deletes at most; the rest go with the next trim (reads skip them meanwhile). */
export const MAX_TRIM_ITEMS = 2_000;
/** Backoff before the n-th retry: base × 2^n, capped. */
const RETRY_BASE_DELAY_MS = 50;
const RETRY_MAX_DELAY_MS = 2_000;

/** Whether a DynamoDB append landed is unknown after every retry: the partition must stop. */
export class LogUnavailableError extends Error {
  override readonly name = "LogUnavailableError";
  readonly code = "STORE_LOG_UNAVAILABLE";
  constructor(
    readonly partition: number,
    readonly firstLsn: number,
    cause: unknown,
  ) {
    super(
      `append to partition ${partition} at lsn ${firstLsn} failed ${MAX_APPEND_ATTEMPTS} times: ${String((cause as Error)?.message ?? cause)}`,
      { cause },
    );
  }
}

export interface DynamoDbLogStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Destroy the client on close (the store was given one of its own). */
  ownsClient?: boolean;
  /** Payloads from this size on are gzipped; tests raise it to store records raw. */
  compressAboveBytes?: number;
  /** First backoff between retries; tests shorten it. */
  retryBaseDelayMs?: number;
}

export interface DynamoDbLogStoreStats {
  appends: number;
  transactions: number;
  records: number;
  /** Write capacity units DynamoDB reported consumed by appends (ConsumedCapacity). */
  appendWriteUnits: number;
  /** Write capacity units consumed by trims. */
  trimWriteUnits: number;
}

interface Claim {
  epoch: number;
  owner: string;
}

/**
 * @example
 * const log = new DynamoDbLogStore({ client: new DynamoDBClient({}), tableName: "capstan" });
 * const epoch = await log.claim(3, "node-a"); // from now on only this store appends to partition 3
 * await log.append(3, (await log.lastLsn(3)) + 1, [record]); // resolves once the transaction committed
 */
export class DynamoDbLogStore implements LogStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly claims = new Map<number, Claim>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Per partition, the last append queued: the next one starts once it settled. */
  private readonly tails = new Map<number, Promise<unknown>>();
  private closed = false;
  private readonly counters: DynamoDbLogStoreStats = {
    appends: 0,
    transactions: 0,
    records: 0,
    appendWriteUnits: 0,
    trimWriteUnits: 0,
  };

  constructor(private readonly options: DynamoDbLogStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
  }

  async append(partition: number, firstLsn: number, records: readonly unknown[]): Promise<void> {
    this.checkOpen();
    checkAppendArguments(partition, firstLsn, records);
    const items = encodeLogItems(firstLsn, records, this.options.compressAboveBytes ?? COMPRESS_ABOVE_BYTES);
    if (items.length === 0) return;
    this.counters.appends++;
    // Appends to one partition go out one at a time, in call order: sent together, a later batch
    // could arrive first and find a gap.
    const previous = this.tails.get(partition);
    const mine = this.track(
      (previous ?? Promise.resolve()).then(
        () => this.appendItems(partition, items),
        () => this.appendItems(partition, items),
      ),
    );
    const tail = mine.catch(() => undefined);
    this.tails.set(partition, tail);
    void tail.then(() => {
      if (this.tails.get(partition) === tail) this.tails.delete(partition);
    });
    await mine;
    this.counters.records += records.length;
  }

  async claim(partition: number, owner: string, options: { ifEpoch?: number } = {}): Promise<number> {
    this.checkOpen();
    checkPartition(partition);
    const condition =
      options.ifEpoch === undefined
        ? {}
        : options.ifEpoch === 0
          ? { ConditionExpression: "attribute_not_exists(epoch)" }
          : {
              ConditionExpression: "epoch = :seen",
              ExpressionAttributeValues: { ":seen": num(options.ifEpoch) },
            };
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: itemKey(fenceKey(partition)),
          UpdateExpression: "SET epoch = if_not_exists(epoch, :zero) + :one, #owner = :me",
          ExpressionAttributeNames: { "#owner": "owner" },
          ...condition,
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ":zero": num(0),
            ":one": num(1),
            ":me": { S: owner },
          },
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const epoch = Number(Attributes?.epoch?.N);
      this.claims.set(partition, { epoch, owner });
      return epoch;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        throw new LogFencedError(partition, this.claims.get(partition)?.epoch ?? 0, fenceOf(e.Item));
      }
      throw e;
    }
  }

  async release(partition: number): Promise<void> {
    this.checkOpen();
    checkPartition(partition);
    const claim = this.claims.get(partition);
    if (claim === undefined) return;
    this.claims.delete(partition);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: itemKey(fenceKey(partition)),
          UpdateExpression: "REMOVE #owner",
          ConditionExpression: "epoch = :e AND #owner = :me",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":e": num(claim.epoch), ":me": { S: claim.owner } },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e; // lost already: nothing to hand over
    }
  }

  async fence(partition: number): Promise<LogFence> {
    this.checkOpen();
    checkPartition(partition);
    return fenceOf(await this.fenceItem(partition));
  }

  async read(partition: number, afterLsn: number, limit: number): Promise<StoredRecord[]> {
    this.checkOpen();
    checkReadArguments(partition, limit);
    if (limit === 0) return [];
    const trimmed = Number((await this.fenceItem(partition))?.trimmed?.N ?? 0);
    const after = Math.max(afterLsn, trimmed);
    // The item holding lsn `after + 1` starts at or below it: the last such key is where to begin.
    const { Items: before } = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND sk <= :lsn",
        ExpressionAttributeValues: { ":pk": { S: logKey(partition) }, ":lsn": num(after + 1) },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
        ProjectionExpression: "sk",
      }),
    );
    const from = Number(before?.[0]?.sk?.N ?? 0);
    const out: StoredRecord[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk >= :from",
          ExpressionAttributeValues: { ":pk": { S: logKey(partition) }, ":from": num(from) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const first = Number(item.sk!.N);
        decodeLogItem(item.fmt!.S!, item.d!.B!).forEach((record, i) => {
          const lsn = first + i;
          if (lsn > after && out.length < limit) out.push({ lsn, record });
        });
        if (out.length >= limit) return out;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return out;
  }

  async lastLsn(partition: number): Promise<number> {
    this.checkOpen();
    checkPartition(partition);
    return Number((await this.fenceItem(partition))?.tail?.N ?? 0);
  }

  /**
   * Moves the trim horizon to `upToLsn` (at most the tail), then deletes up to MAX_TRIM_ITEMS whole
   * items at or below it; items left over (or straddling the horizon) go with a later trim.
   */
  async trim(partition: number, upToLsn: number): Promise<void> {
    this.checkOpen();
    checkPartition(partition);
    await this.track(this.trimItems(partition, upToLsn));
  }

  /** Waits for the appends and trims in flight, then closes the client if the store owns it. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    if (this.options.ownsClient === true) this.client.destroy();
  }

  /** The epoch of this store's claim on the partition; 0 when it holds none. */
  heldEpoch(partition: number): number {
    return this.claims.get(partition)?.epoch ?? 0;
  }

  stats(): DynamoDbLogStoreStats {
    return { ...this.counters };
  }

  private async appendItems(partition: number, items: LogItemPayload[]): Promise<void> {
    let group: LogItemPayload[] = [];
    let bytes = 0;
    for (const item of items) {
      const full =
        group.length >= MAX_ITEMS_PER_TRANSACTION ||
        bytes + item.bytes.length > MAX_TRANSACTION_PAYLOAD_BYTES;
      if (group.length > 0 && full) {
        await this.commit(partition, group);
        group = [];
        bytes = 0;
      }
      group.push(item);
      bytes += item.bytes.length;
    }
    await this.commit(partition, group);
  }

  /** One transaction: the fenced tail move and the items' puts, retried with one token. */
  private async commit(partition: number, items: LogItemPayload[]): Promise<void> {
    const claim = this.claims.get(partition);
    const epoch = claim?.epoch ?? 0;
    const firstLsn = items[0]!.firstLsn;
    const lastLsn = items[items.length - 1]!.lastLsn;
    const fenceCondition =
      claim === undefined ? "attribute_not_exists(epoch)" : "epoch = :e AND #owner = :me";
    const tailCondition = firstLsn === 1 ? "attribute_not_exists(tail)" : "tail = :prev";
    const fenceUpdate: TransactWriteItem = {
      Update: {
        TableName: this.table,
        Key: itemKey(fenceKey(partition)),
        UpdateExpression: "SET tail = :last",
        ConditionExpression: `${fenceCondition} AND ${tailCondition}`,
        ...(claim !== undefined && { ExpressionAttributeNames: { "#owner": "owner" } }),
        ExpressionAttributeValues: {
          ":last": num(lastLsn),
          ...(claim !== undefined && { ":e": num(claim.epoch), ":me": { S: claim.owner } }),
          ...(firstLsn !== 1 && { ":prev": num(firstLsn - 1) }),
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    };
    const token = randomUUID();
    const puts: TransactWriteItem[] = items.map((item) => ({
      Put: {
        TableName: this.table,
        Item: {
          ...itemKey(logKey(partition), item.firstLsn),
          last: num(item.lastLsn),
          n: num(item.lastLsn - item.firstLsn + 1),
          epoch: num(epoch),
          fmt: { S: item.format },
          d: { B: item.bytes },
          tx: { S: token },
        },
        ConditionExpression: "attribute_not_exists(sk)",
      },
    }));
    const command = new TransactWriteItemsCommand({
      TransactItems: [fenceUpdate, ...puts],
      // One token per transaction, the same on each of its retries: DynamoDB answers a retry of a
      // transaction that landed as a success. A new append (even of equal records) gets a new token.
      ClientRequestToken: token,
      ReturnConsumedCapacity: "TOTAL",
    });
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.client.send(command);
        this.counters.transactions++;
        this.counters.appendWriteUnits += writeUnits(result.ConsumedCapacity);
        return;
      } catch (e) {
        const refusal = this.refusal(e, partition, epoch, firstLsn);
        if (refusal instanceof LogConflictError && (await this.landed(partition, firstLsn, token))) {
          // An earlier try of this very transaction committed and its answer was lost (a retry by
          // the SDK or by this loop that the token did not cover): it is done, not a conflict.
          this.counters.transactions++;
          return;
        }
        if (refusal !== undefined) throw refusal;
        if (!isRetryable(e)) throw e;
        if (attempt >= MAX_APPEND_ATTEMPTS) throw new LogUnavailableError(partition, firstLsn, e);
        await delay(
          Math.min(
            RETRY_MAX_DELAY_MS,
            (this.options.retryBaseDelayMs ?? RETRY_BASE_DELAY_MS) * 2 ** (attempt - 1),
          ),
        );
      }
    }
  }

  /** Whether the batch item at `firstLsn` was written by the transaction of `token`. */
  private async landed(partition: number, firstLsn: number, token: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: itemKey(logKey(partition), firstLsn),
        ConsistentRead: true,
        ProjectionExpression: "tx",
      }),
    );
    return Item?.tx?.S === token;
  }

  /** The definitive refusal a failed transaction carries, if it is one (fence or lsn condition). */
  private refusal(e: unknown, partition: number, epoch: number, firstLsn: number): Error | undefined {
    if (!(e instanceof TransactionCanceledException)) return undefined;
    const reasons = e.CancellationReasons ?? [];
    const [fenceReason, ...putReasons] = reasons;
    if (fenceReason?.Code === "ConditionalCheckFailed") {
      const found = fenceReason.Item;
      const fence = fenceOf(found);
      const claim = this.claims.get(partition);
      const sameClaim =
        claim === undefined
          ? found?.epoch === undefined
          : fence.epoch === claim.epoch && fence.owner === claim.owner;
      if (!sameClaim) return new LogFencedError(partition, epoch, fence);
      return new LogConflictError(partition, firstLsn, Number(found?.tail?.N ?? 0) + 1);
    }
    if (putReasons.some((r) => r.Code === "ConditionalCheckFailed"))
      return new LogConflictError(partition, firstLsn);
    return undefined;
  }

  private async trimItems(partition: number, upToLsn: number): Promise<void> {
    const fence = await this.fenceItem(partition);
    const upTo = Math.min(upToLsn, Number(fence?.tail?.N ?? 0));
    if (upTo < 1) return;
    if (upTo > Number(fence?.trimmed?.N ?? 0)) {
      try {
        const result = await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: itemKey(fenceKey(partition)),
            UpdateExpression: "SET trimmed = :t",
            ConditionExpression: "attribute_not_exists(trimmed) OR trimmed < :t",
            ExpressionAttributeValues: { ":t": num(upTo) },
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        this.counters.trimWriteUnits += writeUnits(result.ConsumedCapacity);
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e; // another trim went further
      }
    }
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND sk <= :t",
        ExpressionAttributeValues: { ":pk": { S: logKey(partition) }, ":t": num(upTo) },
        ExpressionAttributeNames: { "#last": "last" },
        ProjectionExpression: "sk, #last",
        ConsistentRead: true,
        Limit: MAX_TRIM_ITEMS,
      }),
    );
    const doomed = Items.filter((item) => Number(item.last?.N) <= upTo).map((item) => item.sk!);
    for (let i = 0; i < doomed.length; i += TRIM_ITEMS_PER_CALL) {
      let requests = doomed.slice(i, i + TRIM_ITEMS_PER_CALL).map((sk) => ({
        DeleteRequest: { Key: { pk: { S: logKey(partition) }, sk } },
      }));
      // Throttled deletes come back unprocessed: retried a few times, else left for the next trim.
      for (let attempt = 1; requests.length > 0 && attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
        if (attempt > 1) await delay(this.options.retryBaseDelayMs ?? RETRY_BASE_DELAY_MS);
        const result = await this.client.send(
          new BatchWriteItemCommand({
            RequestItems: { [this.table]: requests },
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        this.counters.trimWriteUnits += writeUnits(result.ConsumedCapacity);
        requests = (result.UnprocessedItems?.[this.table] ?? []) as typeof requests;
      }
    }
  }

  private async fenceItem(partition: number): Promise<Record<string, AttributeValue> | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: itemKey(fenceKey(partition)), ConsistentRead: true }),
    );
    return Item;
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError("DynamoDbLogStore");
  }
}

function itemKey(pk: string, sk = 0): Record<string, AttributeValue> {
  return { pk: { S: pk }, sk: num(sk) };
}

function num(n: number): AttributeValue {
  return { N: String(n) };
}

function fenceOf(item: Record<string, AttributeValue> | undefined): LogFence {
  return { epoch: Number(item?.epoch?.N ?? 0), owner: item?.owner?.S };
}

function writeUnits(consumed: ConsumedCapacity[] | ConsumedCapacity | undefined): number {
  const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum, c) => sum + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0);
}

/**
 * Worth another try with the same token: the outcome is unknown or the refusal is temporary
 * (throttling, a conflicting transaction, a network or server error).
 */
function isRetryable(e: unknown): boolean {
  if (e instanceof TransactionCanceledException) {
    return (e.CancellationReasons ?? []).some((r) =>
      ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"].includes(r.Code ?? ""),
    );
  }
  const error = e as {
    name?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    code?: string;
  };
  if (error.$retryable !== undefined) return true;
  if (
    [
      "TimeoutError",
      "RequestTimeout",
      "ThrottlingException",
      "ProvisionedThroughputExceededException",
      "RequestLimitExceeded",
      "TransactionInProgressException",
      "InternalServerError",
      "ServiceUnavailable",
    ].includes(error.name ?? "")
  ) {
    return true;
  }
  if ((error.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"].includes(error.code ?? "");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
