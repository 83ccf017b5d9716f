import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { systemClock } from "../core/clock";
import { dropTable, freshTable, localDynamoDbClient } from "../storage/test-support/dynamodb-fixture";
import { startDynamoDbLocal, type DynamoDbLocal } from "../storage/test-support/dynamodb-local";
import { DynamoDbMembershipStore } from "./dynamodb-membership-store";
import { describeMembershipStoreContract } from "./membership-store.contract";

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

describeMembershipStoreContract("DynamoDbMembershipStore (DynamoDB Local)", async () => {
  const tableName = await freshTable(client);
  return {
    open: async () => new DynamoDbMembershipStore({ client, tableName, clock: systemClock }),
    cleanup: () => dropTable(client, tableName),
  };
});
