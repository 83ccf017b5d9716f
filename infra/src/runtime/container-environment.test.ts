/**
 * The construct and `capstan serve` must agree on variable names: every variable the container gets
 * is one runtime/src/config/config.ts reads, or one listed here as still being built on another
 * branch (the DynamoDB store). Wiring those in means
 * deleting them from AWAITING_RUNTIME; a typo in a name fails this test.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import { containerEnvironment, containerSecrets } from "./container-environment";

/** Names the runtime does not read yet (issue 14: the DynamoDB store). */
const AWAITING_RUNTIME = new Set(["CAPSTAN_STORE", "CAPSTAN_DYNAMODB_TABLE", "CAPSTAN_S3_BUCKET"]);

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
        otlpEndpoint: "http://collector:4318",
      }),
    ),
    ...Object.keys(
      containerSecrets(() => ({}) as ecs.Secret, {
        adminToken: {},
        attemptKey: {},
        identityKey: {},
      } as never),
    ),
  ];
  expect(names.filter((n) => !read.has(n) && !AWAITING_RUNTIME.has(n))).toEqual([]);
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
