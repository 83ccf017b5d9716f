/**
 * Tables on a test file's DynamoDB Local: a client for its endpoint, and a fresh table per test.
 */
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createCapstanTable } from "../dynamodb-table";

let tableCounter = 0;

/** A client for DynamoDB Local (any credentials do; `-sharedDb` gives every client one database). */
export function localDynamoDbClient(
  endpoint: string,
  options: { maxAttempts?: number } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    ...options,
  });
}

/** Creates a table with a name no other test uses. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const name = `capstan-test-${process.pid}-${++tableCounter}`;
  await createCapstanTable(client, name);
  return name;
}

export async function dropTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
}
