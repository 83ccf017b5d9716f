import { QueryCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describeLogStoreContract } from "./log-store.contract";
import { MAX_ITEM_PAYLOAD_BYTES } from "./dynamodb-log-items";
import { DynamoDbLogStore, MAX_READ_RECORDS, MAX_RECORDS_PER_APPEND } from "./dynamodb-log-store";
import { logKey } from "./dynamodb-table";
import { dropTable, freshTable, localDynamoDbClient } from "./test-support/dynamodb-fixture";
import { startDynamoDbLocal, type DynamoDbLocal } from "./test-support/dynamodb-local";

// DynamoDB Local is a JVM on a shared machine: its first requests are slow.
jest.setTimeout(60_000);

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  client = localDynamoDbClient(ddb.endpoint);
}, 120_000);
afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

describeLogStoreContract("DynamoDbLogStore (DynamoDB Local)", async () => {
  const tableName = await freshTable(client);
  const opened: DynamoDbLogStore[] = [];
  const open = async (): Promise<DynamoDbLogStore> => {
    const store = new DynamoDbLogStore({ client, tableName });
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    openAnother: open,
    cleanup: async () => {
      for (const store of opened) await store.close();
      await dropTable(client, tableName);
    },
  };
});

describe("DynamoDbLogStore", () => {
  let tableName: string;
  beforeEach(async () => {
    tableName = await freshTable(client);
  });
  afterEach(() => dropTable(client, tableName));

  /** Items of the partition's log, counted over every page of the query. */
  async function itemCount(partition: number): Promise<number> {
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: logKey(partition) } },
          ConsistentRead: true,
          Select: "COUNT",
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return count;
  }

  it("splits a batch above the 400 KB item limit over several items and several transactions", async () => {
    // Stored raw (no compression), so the sizes below are what DynamoDB sees.
    const store = new DynamoDbLogStore({ client, tableName, compressAboveBytes: Infinity });
    const records = Array.from({ length: 24 }, (_, i) => ({ i, pad: "x".repeat(200 * 1024) }));

    await store.append(0, 1, records); // 4.8 MB: over an item and over a transaction

    expect(await itemCount(0)).toBe(records.length); // 200 KB each: one per item
    expect(store.stats().transactions).toBeGreaterThan(1);
    const read = await store.read(0, 0, 100);
    expect(read.map((r) => r.lsn)).toEqual(records.map((_, i) => i + 1));
    expect(read[23]!.record).toEqual(records[23]);
    expect(await store.lastLsn(0)).toBe(24);
    await store.append(0, 25, ["after"]);
    expect((await store.read(0, 24, 10)).map((r) => r.record)).toEqual(["after"]);
    await store.close();
  });

  it("stores a record of exactly MAX_ITEM_PAYLOAD_BYTES and refuses one byte more with STORE_RECORD_TOO_LARGE", async () => {
    const store = new DynamoDbLogStore({ client, tableName, compressAboveBytes: Infinity });
    const atLimit = "y".repeat(MAX_ITEM_PAYLOAD_BYTES - 4); // JSON: ["…"] adds 4 bytes

    await store.append(1, 1, [atLimit]);
    await expect(store.append(1, 2, [atLimit + "y"])).rejects.toMatchObject({
      code: "STORE_RECORD_TOO_LARGE",
    });

    expect(await store.read(1, 0, 10)).toEqual([{ lsn: 1, record: atLimit }]);
    await store.close();
  });

  it("compresses: a 2 MB record that gzips small fits in one item", async () => {
    const store = new DynamoDbLogStore({ client, tableName });
    const big = {
      journal: Array.from({ length: 20_000 }, (_, i) => ({ entry: i, kind: "run", name: "charge" })),
    };
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_ITEM_PAYLOAD_BYTES);

    await store.append(2, 1, [big]);

    expect(await itemCount(2)).toBe(1);
    expect(await store.read(2, 0, 1)).toEqual([{ lsn: 1, record: big }]);
    await store.close();
  });

  it("bounds records per append and per read", async () => {
    const store = new DynamoDbLogStore({ client, tableName });
    await expect(store.append(3, 1, new Array(MAX_RECORDS_PER_APPEND + 1).fill(0))).rejects.toThrow(
      RangeError,
    );
    await expect(store.read(3, 0, MAX_READ_RECORDS + 1)).rejects.toThrow(RangeError);
    await store.append(3, 1, new Array(MAX_RECORDS_PER_APPEND).fill(0));
    expect(await store.read(3, 0, MAX_READ_RECORDS)).toHaveLength(MAX_RECORDS_PER_APPEND);
    await store.close();
  });

  it("retries a transaction whose response was lost with the same token: no false conflict, no duplicate", async () => {
    // The first answer to the append is lost after DynamoDB committed it (a timeout on the way back).
    const lossy = localDynamoDbClient(ddb.endpoint, { maxAttempts: 1 });
    let lose = 1;
    lossy.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        if ((args.input as { TransactItems?: unknown }).TransactItems !== undefined && lose-- > 0) {
          throw Object.assign(new Error("response lost"), { name: "TimeoutError" });
        }
        return result;
      },
      { step: "deserialize" },
    );
    const store = new DynamoDbLogStore({ client: lossy, tableName, retryBaseDelayMs: 1 });
    await store.claim(4, "node-a");

    await store.append(4, 1, ["once"]);

    expect(lose).toBeLessThan(0); // the loss happened
    expect(await store.read(4, 0, 10)).toEqual([{ lsn: 1, record: "once" }]);
    await store.append(4, 2, ["next"]);
    expect(await store.lastLsn(4)).toBe(2);
    await store.close();
    lossy.destroy();
  });

  it("recognizes its own write when a retry is not covered by the token: no false conflict", async () => {
    // The first answer is lost after the commit, and the retry reaches DynamoDB under another token
    // (past the token's 10 minutes, or an emulator without idempotency): the tail has moved.
    const lossy = localDynamoDbClient(ddb.endpoint, { maxAttempts: 1 });
    let calls = 0;
    lossy.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TransactItems?: unknown; ClientRequestToken?: string };
        if (input.TransactItems === undefined) return next(args);
        calls++;
        if (calls > 1) input.ClientRequestToken = `retry-${calls}`;
        const result = await next(args);
        if (calls === 1) throw Object.assign(new Error("response lost"), { name: "TimeoutError" });
        return result;
      },
      { step: "initialize" },
    );
    const store = new DynamoDbLogStore({ client: lossy, tableName, retryBaseDelayMs: 1 });
    await store.claim(6, "node-a");

    await store.append(6, 1, ["once"]);
    await expect(store.append(6, 1, ["once"])).rejects.toMatchObject({ code: "STORE_LOG_CONFLICT" });

    expect(calls).toBeGreaterThan(1);
    expect(await store.read(6, 0, 10)).toEqual([{ lsn: 1, record: "once" }]);
    await store.close();
    lossy.destroy();
  });

  it("counts the write units DynamoDB reports per append and per trim", async () => {
    const store = new DynamoDbLogStore({ client, tableName });
    await store.claim(5, "node-a");
    for (let lsn = 1; lsn <= 3; lsn++) await store.append(5, lsn, [{ kind: "entries", lsn }]);
    await store.trim(5, 2);

    const stats = store.stats();
    expect(stats).toMatchObject({ appends: 3, records: 3 });
    expect(stats.appendWriteUnits).toBeGreaterThan(0);
    expect(stats.trimWriteUnits).toBeGreaterThan(0);
    expect(await itemCount(5)).toBe(1);
    await store.close();
  });
});
