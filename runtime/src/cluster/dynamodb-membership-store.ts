/**
 * The MembershipStore in Capstan's DynamoDB table: one item per node under the partition key `nodes`
 * (sort key: a 48-bit hash of the node id), so reading every node is one Query, never a Scan of a
 * table full of log items. A heartbeat is an UpdateItem that ADDs 1 to the counter. Items carry a
 * `ttl` a day ahead, so DynamoDB's TTL removes nodes that died without leaving.
 */
import { createHash } from "node:crypto";
import {
  DeleteItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { Clock } from "../core/clock";
import { NODES_KEY, queryAll } from "../storage/dynamodb-table";
import { checkNodeId, type MembershipStore, type NodeHeartbeat, type NodeInfo } from "./membership-store";

/** How long a node's item outlives its last heartbeat before DynamoDB's TTL deletes it. */
export const NODE_ITEM_TTL_MS = 24 * 3600_000;

export interface DynamoDbMembershipStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Wall clock, for the TTL attribute only (liveness never reads it). */
  clock: Clock;
}

/**
 * @example
 * const membership = new DynamoDbMembershipStore({ client, tableName: "capstan", clock: systemClock });
 * await membership.heartbeat({ nodeId: "node-a", address: "http://10.0.1.7:9070", pid: process.pid });
 */
export class DynamoDbMembershipStore implements MembershipStore {
  constructor(private readonly options: DynamoDbMembershipStoreOptions) {}

  async heartbeat(node: NodeInfo): Promise<number> {
    checkNodeId(node.nodeId);
    const { Attributes } = await this.options.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: nodeItemKey(node.nodeId),
        UpdateExpression: "ADD #counter :one SET nodeId = :id, address = :address, pid = :pid, #ttl = :ttl",
        ExpressionAttributeNames: { "#counter": "counter", "#ttl": "ttl" },
        ExpressionAttributeValues: {
          ":one": { N: "1" },
          ":id": { S: node.nodeId },
          ":address": { S: node.address },
          ":pid": { N: String(node.pid) },
          ":ttl": { N: String(Math.floor((this.options.clock.nowMs() + NODE_ITEM_TTL_MS) / 1000)) },
        },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    return Number(Attributes?.counter?.N);
  }

  async nodes(): Promise<NodeHeartbeat[]> {
    const out: NodeHeartbeat[] = [];
    for await (const item of queryAll(this.options.client, this.options.tableName, NODES_KEY)) {
      out.push({
        nodeId: item.nodeId!.S!,
        address: item.address?.S ?? "",
        pid: Number(item.pid?.N ?? 0),
        counter: Number(item.counter?.N ?? 0),
      });
    }
    return out.sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
  }

  async leave(nodeId: string): Promise<void> {
    checkNodeId(nodeId);
    await this.options.client.send(
      new DeleteItemCommand({ TableName: this.options.tableName, Key: nodeItemKey(nodeId) }),
    );
  }

  /** The client belongs to the caller. */
  async close(): Promise<void> {}
}

function nodeItemKey(nodeId: string): Record<string, AttributeValue> {
  const sk = createHash("sha256").update(nodeId).digest().readUIntBE(0, 6);
  return { pk: { S: NODES_KEY }, sk: { N: String(sk) } };
}
