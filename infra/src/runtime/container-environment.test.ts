/**
 * The construct and `capstan serve` must agree on variable names: every variable the container gets
 * is one runtime/src/config/config.ts reads, or one listed here as still being built on another
 * branch (the DynamoDB store, the cluster's peer listener, key and lease). Wiring those in means
 * deleting them from AWAITING_RUNTIME; a typo in a name fails this test.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import { containerEnvironment, containerSecrets } from "./container-environment";

/** Names the runtime does not read yet (issue 14: the DynamoDB store and the cluster). */
const AWAITING_RUNTIME = new Set([
  "CAPSTAN_STORE",
  "CAPSTAN_DYNAMODB_TABLE",
  "CAPSTAN_S3_BUCKET",
  "CAPSTAN_PEER_PORT",
  "CAPSTAN_CLUSTER_KEY",
  "CAPSTAN_LEASE_MS",
]);

test("every variable the container gets is read by the runtime's configuration (or awaited)", () => {
  const configSource = readFileSync(path.join(__dirname, "../../../runtime/src/config/config.ts"), "utf8");
  const read = new Set([...configSource.matchAll(/\b((?:CAPSTAN|AWS|OTEL)_[A-Z_]+)\b/g)].map((m) => m[1]!));
  const names = [
    ...Object.keys(
      containerEnvironment({
        tableName: "t",
        bucketName: "b",
        region: "eu-west-1",
        checkpointUrl: "http://alb:9071",
        partitions: 24,
        leaseMs: 10_000,
        otlpEndpoint: "http://collector:4318",
      }),
    ),
    ...Object.keys(
      containerSecrets(() => ({}) as ecs.Secret, {
        adminToken: {},
        attemptKey: {},
        identityKey: {},
        clusterKey: {},
      } as never),
    ),
  ];
  expect(names.filter((n) => !read.has(n) && !AWAITING_RUNTIME.has(n))).toEqual([]);
  // Each task derives its own peer address from the ECS task metadata: the stack never sets one.
  expect(names).not.toContain("CAPSTAN_NODE_ADDRESS");
  // What the runtime reads today, the construct sets under the same names.
  for (const n of [
    "CAPSTAN_HOST",
    "CAPSTAN_INGRESS_PORT",
    "CAPSTAN_ADMIN_PORT",
    "CAPSTAN_PARTITIONS",
    "CAPSTAN_CHECKPOINT_URL",
    "AWS_REGION",
  ]) {
    expect(read.has(n)).toBe(true);
    expect(names).toContain(n);
  }
});
